"""The event kernel shared by every backend.

One heap of ``(time_ps, dst, src, seq, message)`` entries.  Tuples compare in
exactly the order docs/architecture.md prescribes, ``(time, destination, source,
per-source sequence)``; the key is unique, so the message itself is never
compared.  The local backend runs one kernel holding every actor; a Ray shard
runs one kernel holding its share and hands messages for other shards to its
driver through :attr:`Kernel.outbox`.

Digest.  With ``record_digest`` on, every actor keeps a running 64-bit hash of
the events it handles, in handling order: Python's tuple hash of ``(previous,
time, source, sequence, type code)``, all integers, so it is the same in every
process (only strings' hashes are salted per process), and costs a fraction
of a microsecond per event.  At the end each actor's running hash is combined,
with BLAKE2b, with its final state, its clock, its random stream's state and
the messages still on their way to it (fields included), and the run digest
hashes those per-actor digests in actor-index order.  That is a digest of the
whole event trace ordered by (destination, time, source, sequence) plus the
final state, and it does not depend on placement.  Message fields enter through
the states they change and the messages they cause, not one by one; a message
that crosses processes is moreover encoded and decoded field by field, which
fails loudly on anything that would not come back equal.

Messages between directly linked actors of the same site (a node and its
memories) never leave their process in any partitioned placement, so they
skip the payload check (unless ``check_near``, as with one Ray actor per
actor).  Which messages these are depends on the network's sites, not on the
placement.
"""

from __future__ import annotations

import hashlib
import traceback
from heapq import heapify, heappop, heappush
from typing import Iterable

from .actor import _NO_TIMERS, Actor
from .codec import canonical_bytes
from .errors import ActorError, NoRouteError, PayloadError, QactorsError, UnhandledMessageError
from .network import PathLatency

__all__ = ["Kernel", "combine_digests"]


class Kernel:
    """Runs the actors of one process in event order."""

    def __init__(self, names: list[str], adjacency: list[dict[int, int]], actors: dict[int, Actor] | list[Actor],
                 seed: int, record_digest: bool = True, sites: list[str] | None = None, check_near: bool = False,
                 index: dict[str, int] | None = None):
        """``actors``: this kernel's actors by index, or the list of every actor (all local; the kernel keeps
        that list itself).  ``index``: actor id -> index, ``names`` inverted (the network's own table, shared
        rather than built again: on a 20k-node grid a second one was 8 MB).  The kernel changes neither."""
        self.names = names
        if index is None:
            index = {n: i for i, n in enumerate(names)}
        elif len(index) != len(names):
            raise ValueError(f"Kernel: index has {len(index)} actors, names {len(names)}")
        self.index = index
        self.seed = seed
        n = len(names)
        self.local = bytearray(n)  # 1: the actor is in this kernel (a byte, not a list slot, per actor)
        if type(actors) is list:
            if len(actors) != n:
                raise ValueError(f"Kernel: {len(actors)} actors for {n} names (a list holds every actor)")
            self.actors: list[Actor | None] = actors
            mine = enumerate(actors)
        else:
            self.actors = [None] * n
            mine = ((i, actors[i]) for i in sorted(actors))
        self.heap: list[tuple] = []
        self.outbox: list[tuple] = []
        self.events = 0
        self.cancels = 0  # timers cancelled and perhaps still in the heap (an upper bound; see compact)
        self.counts: list[int] | None = None  # events handled per actor, when asked (balance="events")
        self.record_digest = record_digest
        self.check_near = check_near
        self._paths = PathLatency(adjacency)
        # per actor: a running hash of the events it handled (without the digest, zeros that take a byte each)
        self._trace: list[int] | bytes = [0] * n if record_digest else bytes(n)
        self.failed_at: tuple[int, int] | None = None  # (time, actor index) of the event that raised
        # Actor and site numbers are the index's own int objects (a site's number: the index of its first
        # actor), not new ones: past 256 every int is an object of its own, 32 bytes an actor per table.
        numbers = sorted(index.values())  # already in order: one pass, and the index's own objects
        if numbers and (numbers[0] != 0 or numbers[-1] != len(names) - 1):
            raise ValueError("Kernel: index must number the actors 0 .. len(names) - 1")
        if sites and not check_near:  # with check_near every actor counts as a site of its own
            first: dict[str, int] = {}
            self.site_of = [first.setdefault(s, i) for s, i in zip(sites, numbers)]
        else:
            self.site_of = numbers
        for i, a in mine:
            self.local[i] = 1
            self.actors[i] = a
            a._kernel = self
            a._idx = numbers[i]
            a._links = adjacency[i]
            a._site = self.site_of[i]

    def path_latency(self, actor: Actor, dst: int, to: str, msg, delay_ps) -> int:
        """For a message to an actor with no direct link: a latency that ``delay_ps`` must reach,
        the shortest-path latency itself whenever ``delay_ps`` falls short of it
        (:class:`~qactors.core.network.PathLatency`)."""
        lat = self._paths.bound(actor._idx, dst, delay_ps if type(delay_ps) is int else -1)
        if lat is None:
            raise NoRouteError(
                f"actor {actor.id!r} sent {type(msg).__name__} at t={actor.now} ps to {to!r}, but no chain of "
                f"links joins them; declare one with Network.connect()", actor=actor.id, to=to, time_ps=actor.now)
        return lat

    def latency_stats(self) -> dict:
        """How much the latency check of messages to distant actors cost: pairs checked, exact
        searches made and actors they settled (see :class:`~qactors.core.network.PathLatency`)."""
        p = self._paths
        return {"far_pairs": len(p.legal), "latency_searches": p.searches, "latency_settled": p.settled}

    # -- running -----------------------------------------------------------------
    def start(self) -> None:
        """Call every local actor's ``on_start`` at t = 0, in index order.

        With the digest on, the state of the first actor of each class is encoded at once, so a
        state that cannot be digested fails now, naming the attribute, not after the whole run."""
        digestible: set[type] = set()
        for a in self.actors:
            if a is not None:
                a._now = 0
                self.failed_at = (0, a._idx)
                try:
                    a.on_start()
                except QactorsError:
                    raise
                except Exception as e:
                    raise _actor_error(a, "on_start", 0, None, e) from e
                if self.record_digest and type(a) not in digestible:
                    _state_bytes(a)  # fail now, naming the attribute, rather than after the whole run
                    digestible.add(type(a))
        self.failed_at = None

    def next_time(self) -> int | None:
        return self.heap[0][0] if self.heap else None

    def deliver(self, entries: Iterable[tuple]) -> None:
        """Add ``(time_ps, dst, src, seq, message)`` entries that arrived from other shards."""
        heap = self.heap
        for e in entries:
            heappush(heap, e)

    def take_outbox(self) -> list[tuple]:
        out, self.outbox = self.outbox, []
        return out

    def run_until(self, t_end: int) -> int:
        """Handle, in order, every event with time < ``t_end``; return how many."""
        heap = self.heap
        actors = self.actors
        names = self.names
        trace = self._trace if self.record_digest else None
        counts = self.counts
        n = 0
        a = msg = None
        t = src = 0
        try:
            while heap and heap[0][0] < t_end:
                t, dst, src, seq, msg = heappop(heap)
                a = actors[dst]
                if a._cancelled and src == dst and seq in a._cancelled:
                    a._cancelled.discard(seq)
                    self.cancels -= 1
                    continue
                a._now = t
                fn = a._dispatch.get(msg.__class__)
                if fn is None:
                    raise UnhandledMessageError(
                        f"actor {a.id!r} ({type(a).__name__}) has no handler for {type(msg).__name__} "
                        f"sent by {names[src]!r}, delivered at t={t} ps; it handles: "
                        f"{sorted(c.__name__ for c in a._dispatch) or 'nothing'}",
                        actor=a.id, message_type=type(msg).__name__, time_ps=t, sender=names[src])
                if trace is not None:
                    trace[dst] = hash((trace[dst], t, src, seq, msg._qactors_code))
                if counts is not None:
                    counts[dst] += 1
                n += 1
                fn(a, msg, names[src])
        except QactorsError:
            self.failed_at = (t, a._idx)
            raise
        except Exception as e:
            self.failed_at = (t, a._idx)
            raise _actor_error(a, type(msg).__name__, t, names[src], e) from e
        finally:
            self.events += n
        return n

    def compact(self) -> None:
        """Drop the cancelled timers from the heap (they are skipped when popped anyway).

        Protocols set a timer per stored pair (a cut-off) and cancel most of them, so without this
        the heap of a large run was three quarters cancelled timers waiting for their time, and
        every push and pop paid for them.  :meth:`Actor.cancel_timer` calls it when cancelled
        timers could be half the heap; it keeps the order of everything else (the heap's keys are
        a total order), so it changes no result.  Afterwards no actor holds a cancelled handle: each
        one named a timer now gone or one that had already fired."""
        heap = self.heap
        actors = self.actors
        live = [e for e in heap if not (e[1] == e[2] and e[3] in actors[e[1]]._cancelled)]
        if len(live) != len(heap):
            heap[:] = live  # in place: run_until holds the list
            heapify(heap)
        for a in actors:
            if a is not None and a._cancelled:
                a._cancelled = _NO_TIMERS
        self.cancels = 0

    # -- checkpoints ---------------------------------------------------------------
    def snapshot(self) -> tuple[dict[int, Actor], list[tuple], dict[int, int], int]:
        """This kernel's part of a checkpoint: its actors by index, its pending events (heap
        entries), their digest traces and its event count.  Call it between ``run_until`` calls,
        with the outbox handed on (nothing of this kernel's may be in flight elsewhere)."""
        if self.outbox:
            raise RuntimeError("snapshot with messages still in the outbox: hand them on first")
        actors = {i: a for i, a in enumerate(self.actors) if a is not None}
        return actors, list(self.heap), {i: self._trace[i] for i in actors}, self.events

    def restore(self, pending: Iterable[tuple], trace: dict[int, int], events: int) -> None:
        """Take up a checkpoint's pending events (those for this kernel's actors), traces and count;
        the actors themselves were given to the constructor."""
        heap = [e for e in pending if self.local[e[1]]]
        heapify(heap)
        self.heap = heap
        if self.record_digest:
            for i, h in trace.items():
                if self.local[i]:
                    self._trace[i] = h
        self.events = events

    # -- results -----------------------------------------------------------------
    def actor_digests(self) -> list[tuple[int, bytes]]:
        """``(index, digest)`` of every local actor: trace, state, random stream, pending messages."""
        self.compact()  # cancelled timers may or may not still be in a heap, depending on placement: none count
        pending: dict[int, list] = {}
        for t, dst, src, seq, msg in self.heap:
            pending.setdefault(dst, []).append((t, src, seq, msg))
        out = []
        trace = self._trace
        for i, a in enumerate(self.actors):
            if a is None:
                continue
            rng = a._rng.bit_generator.state if a._rng is not None else None
            own = sorted(pending.get(i, ()), key=lambda e: e[:3])
            blob = _state_bytes(a, [trace[i], a._now, a._seq, rng, own])
            out.append((i, hashlib.blake2b(blob, digest_size=16).digest()))
        return out

    def states(self) -> dict[str, dict]:
        return {a.id: a.state() for a in self.actors if a is not None}


def combine_digests(per_actor: Iterable[tuple[int, bytes]]) -> str:
    """The run digest: BLAKE2b over per-actor digests in actor-index order (hex)."""
    h = hashlib.blake2b(digest_size=32)
    for _, d in sorted(per_actor):
        h.update(d)
    return h.hexdigest()


def _state_bytes(actor: Actor, extra: list | None = None) -> bytes:
    """Canonical bytes of ``actor.state()`` (and of ``extra``, the kernel's own record of the actor);
    a PayloadError names the attribute that cannot be encoded."""
    state = actor.state()
    try:
        return canonical_bytes(state if extra is None else (state, extra))
    except PayloadError:
        for key, value in state.items():
            try:
                canonical_bytes(value)
            except PayloadError as e:
                raise PayloadError(f"state attribute {key!r} of actor {actor.id!r} ({type(actor).__name__}) "
                                   f"cannot be digested: {e}; keep actor state plain data",
                                   actor=actor.id, attribute=key) from None
        raise


def _actor_error(actor, what: str, t: int, sender, e: BaseException) -> ActorError:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    origin = f" from {sender!r}" if sender is not None else ""
    return ActorError(
        f"actor {actor.id!r} ({type(actor).__name__}) raised {type(e).__name__}: {e} "
        f"while handling {what}{origin} at t={t} ps",
        actor=actor.id, message_type=what, time_ps=t, sender=sender,
        cause_type=type(e).__name__, remote_traceback=tb)
