"""The event kernel shared by every backend.

One heap of ``(time_ps, dst, src, seq, message)`` entries.  Tuples compare in
exactly the order docs/architecture.md prescribes, ``(time, destination, source,
per-source sequence)``; the key is unique, so the message itself is never
compared.  The local backend runs one kernel holding every actor; a Ray shard
runs one kernel holding its share and hands messages for other shards to its
driver through :attr:`Kernel.outbox`.

Digest.  With ``record_digest`` on, every actor keeps a running BLAKE2b hash of
the events it handles, in handling order (``time, source, sequence, message
type, fields``).  At the end each actor's hash is combined with its final
state, its random stream's state and the messages still on their way to it,
and the run digest hashes those per-actor digests in actor-index order.  That
is a digest of the whole event trace ordered by (destination, time, source,
sequence) plus the final state, and it does not depend on placement.

Messages between directly linked actors of the same site (a node and its
memories) never leave their process in any partitioned placement, so they
skip the payload check (unless ``check_near``, as with one Ray actor per
actor) and enter the trace by time, source, sequence and type only: their
fields show in the state they change and in the messages they cause.  Which
events these are depends on the network's sites, not on the placement.
"""

from __future__ import annotations

import hashlib
import traceback
from heapq import heappop, heappush
from typing import Iterable

import msgpack

from .actor import Actor
from .codec import _default, canonical_bytes
from .errors import ActorError, NoRouteError, PayloadError, QactorsError, UnhandledMessageError
from .network import PathLatency

__all__ = ["Kernel", "combine_digests"]


class Kernel:
    """Runs the actors of one process in event order."""

    def __init__(self, names: list[str], adjacency: list[dict[int, int]], actors: dict[int, Actor],
                 seed: int, record_digest: bool = True, sites: list[str] | None = None, check_near: bool = False):
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.seed = seed
        self.local = [False] * len(names)
        self.actors: list[Actor | None] = [None] * len(names)
        self.heap: list[tuple] = []
        self.outbox: list[tuple] = []
        self.events = 0
        self.record_digest = record_digest
        self.check_near = check_near
        self._paths = PathLatency(adjacency)
        self._traces: dict[int, "hashlib._Hash"] = {}
        self.failed_at: tuple[int, int] | None = None  # (time, actor index) of the event that raised
        for i in sorted(actors):
            a = actors[i]
            self.local[i] = True
            self.actors[i] = a
            a._kernel = self
            a._idx = i
            a._links = adjacency[i]
            a._near = frozenset(j for j in adjacency[i] if sites[j] == sites[i]) if sites else frozenset()

    def path_latency(self, actor: Actor, dst: int, to: str, msg) -> int:
        lat = self._paths(actor._idx, dst)
        if lat is None:
            raise NoRouteError(
                f"actor {actor.id!r} sent {type(msg).__name__} at t={actor.now} ps to {to!r}, but no chain of "
                f"links joins them; declare one with Network.connect()", actor=actor.id, to=to, time_ps=actor.now)
        return lat

    # -- running -----------------------------------------------------------------
    def start(self) -> None:
        """Call every local actor's ``on_start`` at t = 0, in index order."""
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
                if self.record_digest:
                    _state_bytes(a)  # fail now, naming the attribute, rather than after the whole run
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
        n = 0
        a = msg = None
        t = src = 0
        try:
            while heap and heap[0][0] < t_end:
                t, dst, src, seq, msg = heappop(heap)
                a = actors[dst]
                if a._cancelled and src == dst and seq in a._cancelled:
                    a._cancelled.discard(seq)
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
                    trace(dst, t, src, seq, msg, src in a._near)
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

    def _trace(self, dst: int, t: int, src: int, seq: int, msg, near: bool) -> None:
        h = self._traces.get(dst)
        if h is None:
            h = self._traces[dst] = hashlib.blake2b(digest_size=16)
        if near:
            h.update(msgpack.packb((t, src, seq, msg._qactors_name)))
        else:
            h.update(msgpack.packb((t, src, seq, msg._qactors_name, msg._qactors_getter(msg)), default=_default))

    # -- results -----------------------------------------------------------------
    def actor_digests(self) -> list[tuple[int, bytes]]:
        """``(index, digest)`` of every local actor: trace, state, random stream, pending messages."""
        pending: dict[int, list] = {}
        for t, dst, src, seq, msg in self.heap:
            pending.setdefault(dst, []).append((t, src, seq, msg))
        out = []
        for i, a in enumerate(self.actors):
            if a is None:
                continue
            h = hashlib.blake2b(digest_size=16)
            tr = self._traces.get(i)
            h.update(tr.digest() if tr is not None else b"\0" * 16)
            h.update(_state_bytes(a))
            h.update(canonical_bytes([a._now, a._seq, sorted(a._cancelled),
                                      a._rng.bit_generator.state if a._rng is not None else None]))
            h.update(canonical_bytes(sorted(pending.get(i, ()), key=lambda e: e[:3])))
            out.append((i, h.digest()))
        return out

    def states(self) -> dict[str, dict]:
        return {a.id: a.state() for a in self.actors if a is not None}


def combine_digests(per_actor: Iterable[tuple[int, bytes]]) -> str:
    """The run digest: BLAKE2b over per-actor digests in actor-index order (hex)."""
    h = hashlib.blake2b(digest_size=32)
    for _, d in sorted(per_actor):
        h.update(d)
    return h.hexdigest()


def _state_bytes(actor: Actor) -> bytes:
    """Canonical bytes of ``actor.state()``; a PayloadError names the attribute that cannot be encoded."""
    state = actor.state()
    try:
        return canonical_bytes(state)
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
