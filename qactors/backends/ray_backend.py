"""Ray backends: partitioned (K shards, each hosting many actors) and per-actor.

Both run the same :class:`~qactors.core.kernel.Kernel` inside shard processes
and synchronise them conservatively:

* The driver holds each shard's next event time and the batches of messages
  in flight.  It picks ``t = min(next event, earliest message in flight)``
  and opens the window ``[t, t + lookahead)``, where the lookahead is the
  smallest latency of any link cut by the partition.  A message sent inside
  the window arrives no earlier than ``t + lookahead``, so every shard can
  handle all its events in the window without hearing from the others.
* One synchronous call per shard per window delivers the batches addressed to
  it (msgpack, :mod:`qactors.core.codec`) and returns its outgoing batches,
  one per destination shard, and its next event time.  With ordinary actor
  calls (the default) a shard with nothing due in a window is not called and
  its batches wait for it; the optional compiled-graph transport calls every
  shard every window.
* Every window boundary is a consistent global cut: nothing is in flight
  except the batches the driver holds, each stamped with its window.

The per-actor placement is the same machinery with one shard per actor; its
windows are as short as the shortest link in the network, so it is slow and
meant for small networks and for showing that placement changes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import pickle
import sys
import time
from pathlib import Path
from typing import Sequence

import msgpack
import ray

from ..core import checks
from ..core.codec import decode_batch, encode_batch
from ..core.errors import ConfigurationError, QactorsError, ShardLostError
from ..core.kernel import Kernel, combine_digests
from ..core.messages import register_messages, registered_messages
from ..core.network import Network
from .base import _FULL_COLLECTION_EVERY, ProgressFn, RunResult, check_run_args, fresh_actors
from .checkpoint import Checkpoint, CheckpointPlan, prepare_resume
from .partition import Partition, finish_partition, partition, per_actor_partition, shard_lookahead

__all__ = ["RayBackend", "ray_instance"]


@contextlib.contextmanager
def ray_instance(num_cpus: int | None = None, address: str | None = None):
    """Keep one Ray instance up across several runs, and shut it down afterwards.

    Without it each Ray run starts and stops its own instance (a few seconds
    each).  If Ray is already initialised this does nothing.

    ``address=None`` always starts a new, private instance on this machine: its
    processes listen on 127.0.0.1 only, and neither a cluster named by
    ``RAY_ADDRESS`` nor a Ray session left running on this machine is joined.  To
    use a cluster, name it (``address="auto"`` for the one this machine belongs
    to, or ``"ray://host:10001"``, ``"host:6379"``).

    >>> with ray_instance(num_cpus=2):                        # doctest: +SKIP
    ...     a = qactors.run(net, until_ps=T, backend="ray:2")
    ...     b = qactors.run(net, until_ps=T, backend="ray:2", seed=2)
    """
    if ray.is_initialized():
        yield
        return
    if address is None:
        start_local_ray(num_cpus=num_cpus)
    else:
        ray.init(address=address, num_cpus=num_cpus, include_dashboard=False, configure_logging=False)
        private_token_file()
    try:
        yield
    finally:
        ray.shutdown()


def start_local_ray(**options) -> None:
    """``ray.init`` of a new local instance reachable from this machine only.

    Ray on Linux binds its GCS, raylets and workers to every interface and
    advertises the machine's outward address, even when asked for 127.0.0.1
    (it resolves the loopback address to the outward one on purpose, so that
    other machines could join).  The loopback-only mode Ray uses on macOS and
    Windows (``ray_constants.ENABLE_RAY_CLUSTER`` false, which is what the
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` switch sets) makes every process bind
    127.0.0.1; it is switched on for the start of this instance only, since a
    private instance is never meant to be joined.  ``address="local"`` makes
    Ray start a new instance rather than join ``RAY_ADDRESS`` or a running one.
    Ray's token authentication (on by default in recent Ray) stays as Ray sets
    it, with its token file made private (:func:`private_token_file`).
    """
    from ray._private import ray_constants
    options = {"include_dashboard": False, "configure_logging": False, **options}
    had = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(address="local", **options)
    finally:
        if had is not None:
            ray_constants.ENABLE_RAY_CLUSTER = had
    private_token_file()


def private_token_file() -> Path | None:
    """Make Ray's authentication token file readable by its owner only; return its path.

    Ray writes the token a local instance generates to ``~/.ray/auth_token``
    (or reads it from ``RAY_AUTH_TOKEN_PATH``) with the default file mode,
    usually readable by every user of the machine, who could then submit jobs
    to the cluster.  Nothing is done to a file this user does not own."""
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        return None
    return path


class _Shard:
    """One shard process: a kernel holding its share of the actors.

    Undecorated on purpose; :class:`RayBackend` wraps it with ``ray.remote``.
    """

    def __init__(self, shard_id: int, names: list[str], adjacency: list[dict[int, int]],
                 shard_of: Sequence[int], payload: tuple, seed: int, record_digest: bool,
                 sites: Sequence[str] | None = None, check_near: bool = False, count_events: bool = False):
        actors, message_classes = payload
        register_messages(message_classes)
        self.shard_id = shard_id
        self.shard_of = shard_of
        self.kernel = Kernel(names, adjacency, actors, seed, record_digest, sites=list(sites) if sites else None,
                             check_near=check_near)
        self.sent_remote = 0
        self.error: QactorsError | None = None
        self.busy_s = 0.0  # wall time spent inside step(): the shard's share of the run
        if count_events:  # events per actor: what balance="events" places by
            self.kernel.counts = [0] * len(names)
        # this process exists for one run: keep the collector off the actor graph (see base.frozen_heap)
        gc.freeze()
        gc.set_threshold(*gc.get_threshold()[:2], _FULL_COLLECTION_EVERY)

    def node_id(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def _deliver(self, batches: Sequence[bytes]) -> None:
        for blob in batches:
            _, entries = decode_batch(blob)
            self.kernel.deliver(entries)

    def _outbox_by_shard(self) -> dict[int, list]:
        """The messages this shard's actors sent to other shards, by destination shard."""
        per_shard: dict[int, list] = {}
        shard_of = self.shard_of
        for e in self.kernel.take_outbox():
            per_shard.setdefault(shard_of[e[0]], []).append(e)
        return per_shard

    def _reply(self, window: int, n: int) -> bytes:
        """msgpack ``[next_time, events, [[dst_shard, earliest_time, batch], ...]]``.

        Requests and replies are single msgpack byte strings because Ray moves
        ``bytes`` markedly faster than nested Python objects (about 0.3 ms
        less per window for two shards, measured)."""
        per_shard = self._outbox_by_shard()
        self.sent_remote += sum(len(v) for v in per_shard.values())
        out = [(s, min(e[1] for e in evs), encode_batch(window, evs)) for s, evs in sorted(per_shard.items())]
        return msgpack.packb((self.kernel.next_time(), n, out))

    def start(self) -> bytes:
        try:
            self.kernel.start()
            return self._reply(-1, 0)
        except QactorsError as e:
            self.error = e
            return b""

    def step(self, request: bytes) -> bytes:
        """Deliver the batches in ``request`` (msgpack ``[window, t_end, [batch, ...]]``),
        handle every event before ``t_end``; an empty reply means failure (see :meth:`failure`)."""
        t0 = time.perf_counter()
        try:
            window, t_end, batches = msgpack.unpackb(request)
            self._deliver(batches)
            n = self.kernel.run_until(t_end)
            return self._reply(window, n)
        except QactorsError as e:
            self.error = e
            return b""
        finally:
            self.busy_s += time.perf_counter() - t0

    def restore(self, pending: list, traces: dict) -> bytes:
        """Take up a checkpoint's pending events and traces for this shard's actors (instead of start)."""
        try:
            self.kernel.restore(pending, traces, 0)
            return self._reply(-1, 0)
        except QactorsError as e:
            self.error = e
            return b""

    def snapshot(self) -> bytes:
        """This shard's part of a checkpoint, pickled: its actors, pending events and traces."""
        import ray.cloudpickle as cloudpickle  # classes the driver shipped by value go back the same way
        actors, heap, traces, _ = self.kernel.snapshot()
        return cloudpickle.dumps((actors, heap, traces), protocol=pickle.HIGHEST_PROTOCOL)

    def pid(self) -> int:
        return os.getpid()

    def counts(self) -> dict[int, int]:
        """Events each of this shard's actors handled so far (the placement's pilot)."""
        k = self.kernel
        return {i: k.counts[i] for i, a in enumerate(k.actors) if a is not None}

    def failure(self) -> tuple[tuple[int, int], QactorsError]:
        """The error that stopped this shard and the (time, actor index) of the event that raised it."""
        return (self.kernel.failed_at or (0, -1), self.error)

    def finish(self, batches: Sequence[bytes], collect_states: bool):
        try:
            self._deliver(batches)  # messages still in flight belong to their destination's final state
            k = self.kernel
            return (k.actor_digests() if k.record_digest else None,
                    k.states() if collect_states else None,
                    {"events": k.events, "sent_remote": self.sent_remote, "busy_s": self.busy_s})
        except QactorsError as e:
            return e


class _LinkedShard(_Shard):
    """A shard that keeps step with the shards it exchanges messages with, not through the driver.

    Conservative (Chandy-Misra-Bryant) synchronisation with a lookahead per channel: for every
    shard ``j`` it can send to, ``la_out[j]`` is the lowest latency of any path into ``j``
    (:func:`~qactors.backends.partition.shard_lookahead`).  Each call on a channel
    (:meth:`receive`, taken in the order sent, by sequence number) carries the messages for
    the receiver and the sender's bounds:

    * the *promise* ``min(next event, safe time) + lookahead``: whatever the sender handles
      later is no earlier than that minimum, so nothing it sends later arrives before it;
    * the *independent bound*: the sender's next event and the promises it holds from every
      shard but the receiver, i.e. when it could next act unless the receiver makes it;
      with the receiver's own next event and the messages to it the sender had not yet taken
      up (the *ack* says which), the receiver bounds the sender's next message itself.  So a
      shard with nothing to do for a while does not hold the other back by one lookahead per
      exchange: two idle shards jump to the next event at once, as a global window would.

    A shard handles every event before the smallest bound it holds (its safe time), sends
    what changed and waits; so shards run ahead of one another by up to a lookahead, and no
    call waits on all shards.

    The driver only sets barriers (:meth:`run_to`): the run's end, checkpoints and stops.  A
    shard returns from ``run_to(b)`` when it has handled every event before ``b`` and every
    shard that can send to it has said the same (the marker on that channel's last call
    before the barrier): then no message is in flight and the shards' states are a consistent
    cut.  When a shard's event raises, it sends every peer an abort at ``t + 1`` and unbounded
    bounds; the others handle every event up to ``t`` (one of theirs might fail first in event
    order, as on one process) and return, and the driver reports the earliest error.
    """

    def connect(self, peers: list, la_in: dict[int, int], la_out: dict[int, int], t0: int) -> None:
        import asyncio
        self.peers = peers
        self.la_in, self.la_out = la_in, la_out
        # per sender k: the bound held on its next message to this shard, its last report, order
        self.clock = {k: t0 + la for k, la in la_in.items()}
        self.indep = {k: None for k in la_in}   # None: no report yet
        self.acked = {k: -1 for k in la_in}     # last of this shard's calls with messages k took up
        self.marker = {k: t0 for k in la_in}    # barrier k has reached
        self.next_in = {k: 0 for k in la_in}
        self.held: dict[int, dict[int, tuple]] = {k: {} for k in la_in}
        self.taken = {k: -1 for k in la_in}     # last of k's calls with messages this shard took up
        # per receiver j
        self.seq_out = {j: 0 for j in la_out}
        self.unacked: dict[int, list[tuple[int, int]]] = {j: [] for j in la_out}  # (seq, earliest arrival)
        self.reported = {j: None for j in la_out}
        self.sent_marker = {j: t0 for j in la_out}
        self.done = t0
        self.abort_at = math.inf
        self.rounds = 0
        self.calls_out = 0
        self.wake = asyncio.Event()

    async def receive(self, blob: bytes) -> None:
        src, seq, *rest = msgpack.unpackb(blob)
        held = self.held[src]
        held[seq] = rest
        inf = math.inf
        while self.next_in[src] in held:  # apply in the order they were sent
            seq = self.next_in[src]
            promise, indep, ack, marker, abort, batch = held.pop(seq)
            self.next_in[src] = seq + 1
            if batch:
                self.kernel.deliver(decode_batch(batch)[1])
                self.taken[src] = seq
            promise = inf if promise is None else promise
            if promise > self.clock[src]:
                self.clock[src] = promise
            self.indep[src] = inf if indep is None else indep
            self.acked[src] = ack
            marker = inf if marker is None else marker
            if marker > self.marker[src]:
                self.marker[src] = marker
            if abort is not None and abort < self.abort_at:
                self.abort_at = abort
        self.wake.set()

    async def progress(self) -> tuple[int, int]:
        return self.done, self.kernel.events

    def _refine(self, nxt: float) -> None:
        """Raise each sender's bound with its report: it next acts at its independent bound, or
        when a message of this shard reaches it (sent and not yet taken up, or sent from this
        shard's next event on), and what it then sends arrives a lookahead later."""
        clock, la_out, la_in = self.clock, self.la_out, self.la_in
        for k, indep in self.indep.items():
            if indep is None:
                continue
            la = la_out.get(k)
            t = indep
            if la is not None:
                pending = self.unacked[k]
                ack = self.acked[k]
                if pending and pending[0][0] <= ack:
                    pending[:] = [p for p in pending if p[0] > ack]
                for _, arrival in pending:
                    if arrival < t:
                        t = arrival
                if nxt + la < t:
                    t = nxt + la
            t += la_in[k]
            if t > clock[k]:
                clock[k] = t

    def _send(self, nxt: float, reached, abort=None) -> None:
        """Hand each peer its messages and this shard's bounds, where something changed for it
        (``reached``: the barrier reached, -1 if none; None with ``abort``: unbounded)."""
        per_shard = self._outbox_by_shard()
        clock = self.clock
        floor = min(clock.values(), default=math.inf)
        bound = min(nxt, floor)
        for j, la in self.la_out.items():
            evs = per_shard.pop(j, None)
            if abort is not None:
                report = (None, None, self.taken.get(j, -1))
            else:
                others = floor if clock.get(j, math.inf) > floor else min(
                    (c for k, c in clock.items() if k != j), default=math.inf)
                indep = min(nxt, others)
                report = (bound + la, None if indep == math.inf else indep, self.taken.get(j, -1))
            new_marker = reached is None or reached > self.sent_marker[j]
            if not (evs or report != self.reported[j] or new_marker or abort is not None):
                continue
            seq = self.seq_out[j]
            self.seq_out[j] = seq + 1
            self.reported[j] = report
            if new_marker:
                self.sent_marker[j] = math.inf if reached is None else reached
            batch = None
            if evs:
                self.sent_remote += len(evs)
                self.unacked[j].append((seq, min(e[1] for e in evs)))
                batch = encode_batch(self.rounds, evs)
            self.peers[j].receive.remote(msgpack.packb((self.shard_id, seq, *report, reached, abort, batch)))
            self.calls_out += 1
        if per_shard:  # a send to a shard no path reaches: the kernel's route check forbids it
            raise RuntimeError(f"messages for shards {sorted(per_shard)} that no channel of shard "
                               f"{self.shard_id} reaches")

    async def run_to(self, barrier: int) -> tuple:
        """Handle every event before ``barrier`` in step with the peers (see the class doc);
        return ``(ok, events, rounds)``; ``ok`` False: an event raised (see :meth:`failure`)."""
        kernel = self.kernel
        clock, marker = self.clock, self.marker
        events0 = kernel.events
        inf = math.inf
        while True:
            stop = min(barrier, self.abort_at)
            nxt = kernel.next_time()
            nxt = inf if nxt is None else nxt
            self._refine(nxt)
            safe = min(min(clock.values(), default=inf), stop)
            moved = safe > self.done
            if moved:
                t1 = time.perf_counter()
                try:
                    kernel.run_until(safe)
                except QactorsError as e:
                    self.error = e
                    at = (kernel.failed_at or (self.done, -1))[0]
                    self._send(inf, None, abort=at + 1)  # unbounded: this shard sends nothing more
                    return False, kernel.events - events0, self.rounds
                finally:
                    self.busy_s += time.perf_counter() - t1
                self.done = safe
                self.rounds += 1
                nxt = kernel.next_time()
                nxt = inf if nxt is None else nxt
            self._send(nxt, stop if self.done >= stop else -1)
            if self.done >= stop and all(m >= stop for m in marker.values()):
                return True, kernel.events - events0, self.rounds
            if not moved:
                await self.wake.wait()
                self.wake.clear()

    def start(self) -> bytes:
        """Start the actors; their first messages to other shards leave with the first bounds."""
        try:
            self.kernel.start()
            return b"ok"
        except QactorsError as e:
            self.error = e
            return b""

    def finish(self, batches: Sequence[bytes], collect_states: bool):
        out = super().finish(batches, collect_states)
        if not isinstance(out, QactorsError):
            out[2].update(rounds=self.rounds, calls_out=self.calls_out)
        return out


def _ship_by_value(classes) -> None:
    """Let shard processes rebuild classes whose module they may not be able to import.

    Classes from installed packages travel by reference (the workers import
    them); classes from the user's own scripts and folders, which Ray workers
    do not have on their path, are sent by value.
    """
    import ray.cloudpickle as cloudpickle
    for module_name in {c.__module__ for c in classes}:
        module = sys.modules.get(module_name)
        path = getattr(module, "__file__", None) or ""
        if module is None or module_name == "__main__" or module_name.split(".")[0] == "qactors":
            continue
        if any(part in ("site-packages", "dist-packages") for part in Path(path).parts):
            continue
        try:
            cloudpickle.register_pickle_by_value(module)
        except ValueError:
            pass  # a module cloudpickle cannot ship by value stays by reference


class RayBackend:
    """Run on Ray, locally or on a cluster.

    Args:
        shards: number of shard actors for the partitioned placement (>= 1).
        per_actor: put every logical actor in its own Ray actor instead
            (``shards`` is then ignored).
        address: Ray address to connect to when Ray is not initialised yet
            (``"auto"`` for the cluster this machine belongs to); None starts a
            private local instance, listening on 127.0.0.1 only, and never joins
            ``RAY_ADDRESS`` or a Ray session already running on the machine.
        nodes: optional Ray node ids; shard ``i`` is pinned to ``nodes[i % len(nodes)]``.
        num_cpus_per_shard: CPUs each shard reserves; default 1 (more shards than
            the cluster has CPUs are then refused: they would take turns on the
            CPUs and run slower than fewer shards); give a fraction to share CPUs
            on purpose (tests, a laptop).
        partitioner: callable ``(network, shards) -> Partition`` (default:
            :func:`~qactors.backends.partition.partition`).
        compiled: drive the shards through a Ray compiled graph instead of
            one ordinary actor call per busy shard per window.  A compiled
            graph cuts the synchronisation cost of a window about threefold,
            but the driver waits on its channels by polling, which takes a
            core: worth it when windows are short and the driver has a core
            of its own (a cluster's head node), not on a small machine where
            shards and driver share the cores (measured in
            ``benchmarks/kernel.py``).  Default False.
        start_timeout_s: how long to wait for all shard actors to be placed
            and started before giving up with a ConfigurationError.
        balance: what the partitioner balances across shards: ``"actors"``
            (their counts; the default) or ``"events"``: the run stops at each
            fraction of ``rebalance_at`` (15 % of it by default),
            and is placed again so that the events each actor handled since
            the stop before balance, going on from where it stopped (a
            checkpoint kept in memory; the result is the same).  On a network
            whose load is uneven and moves, such as traffic arriving between
            cities, the shards then get equal work rather than equal numbers
            of actors; each stop costs a start of the shards.  A resumed run
            balances actors.
        sync: how shards keep step.  ``"links"``: among themselves, each with the shards it
            exchanges messages with, by the bounds on each channel (:class:`_LinkedShard`); the
            driver only sets barriers (checkpoints, the end).  ``"driver"``: windows set by the
            driver, as long as the shortest cut link, one round trip per window.  Default:
            ``"links"`` for two shards, ``"driver"`` otherwise: with three or more shards in a
            cycle an idle stretch advances by one lookahead per exchange under ``"links"``
            (the known weakness of null-message synchronisation), where the driver's window
            jumps to the next event at once; a busy network runs well under either.
        max_restarts: how often a run starts again when a shard process dies
            (killed, out of memory, its node lost): from the newest checkpoint
            it wrote (``checkpoints=``), or from the start; the result equals
            an uninterrupted run.  Then :class:`~qactors.core.errors.ShardLostError`.

    If this backend starts Ray it also shuts it down when the run ends, on
    success or failure; a Ray instance that was already running is left up
    and only the shard actors are killed.
    """

    def __init__(self, shards: int = 2, *, per_actor: bool = False, address: str | None = None,
                 nodes: Sequence[str] | None = None, num_cpus_per_shard: float | None = None,
                 partitioner=partition, compiled: bool = False, start_timeout_s: float = 300.0,
                 max_restarts: int = 3, balance: str = "actors",
                 rebalance_at: Sequence[float] = (0.15,), sync: str | None = None):
        if not per_actor:
            checks.integer("shards", shards, low=1)
        if num_cpus_per_shard is not None:
            checks.real("num_cpus_per_shard", num_cpus_per_shard, low=0.0)
        self.shards = shards
        self.per_actor = per_actor
        self.address = address
        self.nodes = list(nodes) if nodes else None
        self.num_cpus_per_shard = num_cpus_per_shard
        self.partitioner = partitioner
        self.compiled = compiled
        if sync is None:  # see the class doc: "links" is exact in idle stretches for two shards only
            sync = "links" if shards == 2 and not (per_actor or compiled) else "driver"
        if sync not in ("links", "driver") or (sync == "links" and (per_actor or compiled)):
            raise ConfigurationError(
                f"sync={sync!r} is not allowed here; allowed: 'links' (the default for partitioned shards) or "
                f"'driver' (which the per-actor placement and the compiled transport always use)",
                field="sync", value=sync)
        self.sync = sync
        self.start_timeout_s = start_timeout_s
        self.max_restarts = checks.integer("max_restarts", max_restarts, low=0)
        if balance not in ("actors", "events"):
            raise ConfigurationError(f"balance must be 'actors' or 'events', got {balance!r}", field="balance",
                                     value=balance)
        self.balance = balance
        self.rebalance_at = tuple(checks.real("rebalance_at", f, low=0.0, low_open=True, high=1.0, high_open=True)
                                  for f in rebalance_at)
        self.name = "ray-per-actor" if per_actor else "ray"

    def plan(self, network: Network, weights=None) -> Partition:
        """The placement this backend would use for ``network`` (``weights``: each actor's work,
        given to the partitioner to balance; see ``balance``).

        The lookahead is always recomputed from the assignment, so a custom
        partitioner cannot claim a longer window than its cut links allow.
        """
        if self.per_actor:
            return per_actor_partition(network)
        plan = self.partitioner(network, self.shards) if weights is None else \
            self.partitioner(network, self.shards, weights=weights)
        k, n = getattr(plan, "shards", None), len(network)
        shard_of = list(getattr(plan, "shard_of", ()))
        if type(k) is not int or k < 1 or len(shard_of) != n or any(
                type(s) is not int or not 0 <= s < k for s in shard_of):
            raise ConfigurationError(
                f"partitioner {getattr(self.partitioner, '__name__', self.partitioner)!r} returned an invalid "
                f"placement: it must give a shard in 0..shards-1 for each of the {n} actors", field="partitioner")
        return finish_partition(network, k, shard_of)

    def run(self, network: Network, *, until_ps: int, seed: int, record_digest: bool = True,
            collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False,
            checkpoints: CheckpointPlan | None = None) -> RunResult:
        """See :func:`qactors.run`.  ``in_place``: ship the network's own actors to the shards
        without copying them first (the shards hold copies anyway, so the network stays runnable)."""
        check_run_args(network, until_ps, seed)
        if checkpoints is not None:
            checkpoints.prepare()
        return self._execute(network, None, until_ps, seed, record_digest, collect_states, progress, checkpoints,
                             in_place)

    def resume(self, ckpt: Checkpoint, *, until_ps: int | None = None, collect_states: bool = True,
               progress: ProgressFn | None = None, checkpoints: CheckpointPlan | None = None,
               change=None, copy: bool = True) -> RunResult:
        """Go on from ``ckpt`` on this backend (see :func:`qactors.resume`); the checkpoint may come
        from any backend and shard count."""
        ckpt, until = prepare_resume(ckpt, until_ps, checkpoints, copy, change)
        result = self._execute(ckpt.network(), ckpt, until, ckpt.seed, ckpt.record_digest, collect_states, progress,
                               checkpoints, True)
        result.stats["resumed_from_ps"] = ckpt.time_ps
        return result

    def _execute(self, network: Network, source: Checkpoint | None, until_ps: int, seed: int, record_digest: bool,
                 collect_states: bool, progress, checkpoints: CheckpointPlan | None, in_place: bool,
                 weights=None, pause: bool = False):
        """Launch, drive and finish the shards; when a shard dies, start again from the newest
        checkpoint of this run (or from where it started), up to ``max_restarts`` times.

        ``balance="events"``: the first ``pilot_fraction`` of the run goes on a placement that
        balances actors, counting each actor's events; the run is then placed again to balance
        those counts and goes on from where it stopped (a checkpoint kept in memory).  ``pause``:
        stop at ``until_ps`` and return ``(checkpoint, counts, stats)`` instead of finishing."""
        t0 = time.perf_counter()
        points = sorted({round(until_ps * f) for f in self.rebalance_at} - {0, until_ps}) if (
            self.balance == "events" and source is None and weights is None and not pause and not self.per_actor
            and self.shards > 1) else []
        if points:
            net, stops = network, []
            for t in points:  # each stop places the run again by the events of the stretch before it
                source, counts, st = self._execute(net, source, t, seed, record_digest, False, progress, checkpoints,
                                                   in_place or source is not None, weights=weights, pause=True)
                weights, net = [c + 1 for c in counts], source.network()
                stops.append(st)
            result = self._execute(net, source, until_ps, seed, record_digest, collect_states, progress, checkpoints,
                                   True, weights=weights)
            result.wall_s = time.perf_counter() - t0
            result.stats.update(balance="events", rebalanced_at_ps=points,
                                restarts=result.stats["restarts"] + sum(s["restarts"] for s in stops),
                                shards_lost=[x for s in stops for x in s["shards_lost"]] + result.stats["shards_lost"],
                                stretches_s=[round(s["wall_s"], 3) for s in stops])
            if checkpoints is not None:
                result.stats["checkpoints"] = [p for s in stops for p in s["written"]] + result.stats["checkpoints"]
            return result
        plan = self.plan(network, weights)
        restarts, lost = 0, []
        newest = {"ckpt": source}
        with ray_instance(address=self.address):  # starts (and then stops) Ray only if it is not running
            while True:
                start = newest["ckpt"]
                handles: list = []
                try:
                    self._launch(handles, start.network() if start is not None else network, plan, seed,
                                 record_digest, in_place or start is not None)
                    drive = self._drive_linked if self.sync == "links" else self._drive
                    result = drive(handles, plan, until_ps, progress, start, checkpoints, newest, network, seed,
                                   record_digest)
                    if pause:
                        base = start.events if start is not None else 0
                        ckpt = self._checkpoint(handles, network, until_ps, until_ps, result["inflight"],
                                                base + result["events"], result["windows"], seed, record_digest)
                        counts = [0] * len(network.names)
                        for part in ray.get([h.counts.remote() for h in handles]):
                            for i, c in part.items():
                                counts[i] += c
                        return ckpt, counts, {"restarts": restarts, "shards_lost": lost, "written": result["written"],
                                              "wall_s": time.perf_counter() - t0}
                    finals = ray.get([h.finish.remote(result["inflight"][j], collect_states)
                                      for j, h in enumerate(handles)])
                    for f in finals:
                        if isinstance(f, QactorsError):
                            raise f
                    node_ids = ray.get([h.node_id.remote() for h in handles])
                    break
                except (ray.exceptions.RayActorError, ray.exceptions.NodeDiedError,
                        ray.exceptions.ObjectLostError) as e:
                    at = newest["ckpt"].time_ps if newest["ckpt"] is not None else 0
                    lost.append(f"{type(e).__name__} ({str(e).splitlines()[0][:120]}); restarted from t={at} ps")
                    if restarts >= self.max_restarts:
                        raise ShardLostError(
                            f"a shard of the Ray run died {restarts + 1} time(s), more than max_restarts="
                            f"{self.max_restarts} allows: {lost[-1].split(';')[0]}; the newest checkpoint is at "
                            f"t={at} ps", restarts=restarts, checkpoint_ps=at) from None
                    restarts += 1
                    self._forget_dead_nodes()
                finally:
                    for h in handles:
                        try:
                            ray.kill(h)
                        except Exception:  # already dead: nothing to release
                            pass
        base_events = start.events if start is not None else 0
        digest = combine_digests(d for f in finals for d in f[0]) if record_digest else None
        states = None
        if collect_states:
            states = {}
            for f in finals:
                states.update(f[1])
            states = {name: states[name] for name in network.names}
        return RunResult(
            backend=self.name, until_ps=until_ps, seed=seed, events=base_events + sum(f[2]["events"] for f in finals),
            digest=digest, states=states, wall_s=time.perf_counter() - t0,
            windows=result["windows"] + (start.windows if start is not None else 0),
            shards=plan.shards, lookahead_ps=plan.lookahead_ps,
            stats={"setup_s": result["t_loop"] - t0, "loop_s": result["loop_s"],
                   "cross_shard_messages": sum(f[2]["sent_remote"] for f in finals),
                   "cut_links": plan.cut_links, "sync": self.sync,
                   "shard_calls": result["calls"] if result["calls"] is not None else
                   sum(f[2]["calls_out"] for f in finals),
                   "events_per_shard": [f[2]["events"] for f in finals],
                   "busy_s_per_shard": [round(f[2]["busy_s"], 6) for f in finals], "node_ids": node_ids,
                   "restarts": restarts, "shards_lost": lost, "balance": "events" if weights else "actors",
                   **({"checkpoints": result["written"]} if checkpoints is not None else {})})

    def _forget_dead_nodes(self) -> None:
        """After a shard died: pin to the requested nodes still alive (none alive: do not pin)."""
        if self.nodes:
            alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
            self.nodes = [n for n in self.nodes if n in alive] or None

    # -- internals ----------------------------------------------------------------
    def _launch(self, handles: list, network: Network, plan: Partition, seed: int, record_digest: bool,
                in_place: bool = False) -> None:
        """Start the shard actors, appending each handle to ``handles`` as soon as it exists
        (so the caller can kill them whatever fails)."""
        cpus = self.num_cpus_per_shard
        total = ray.cluster_resources().get("CPU", 0.0)
        if cpus is None and not self.per_actor and plan.shards > total:
            raise ConfigurationError(
                f"{plan.shards} shards (ray:{plan.shards}) need {plan.shards} CPUs, but the Ray cluster has "
                f"{total:g}: shards sharing a CPU take turns and the run is slower than on fewer; allowed: "
                f"ray:1 to ray:{max(1, int(total))}, or RayBackend(shards={plan.shards}, num_cpus_per_shard="
                f"{max(0.0001, math.floor(total / plan.shards * 1e4) / 1e4):g}) to share CPUs on purpose",
                field="shards", value=plan.shards)
        if cpus is None:
            # Ray accepts fractional CPUs to 1e-4 only: round down, so K shards always fit
            cpus = min(1.0, math.floor(total / plan.shards * 1e4) / 1e4)
        if self.nodes:
            alive = {n["NodeID"] for n in ray.nodes() if n.get("Alive")}
            unknown = [n for n in self.nodes if n not in alive]
            if unknown:
                raise ConfigurationError(f"nodes {unknown} are not alive nodes of this Ray cluster; "
                                         f"alive: {sorted(alive)}", field="nodes", value=unknown)
        elif cpus * plan.shards > total + 1e-9:  # never placeable (less than available: they wait for it)
            raise ConfigurationError(
                f"{plan.shards} shards x num_cpus_per_shard={cpus} need {cpus * plan.shards:g} CPUs but the Ray "
                f"cluster has {total:g}; lower num_cpus_per_shard or the shard count",
                field="num_cpus_per_shard", value=cpus)
        actors = network.actors if in_place else fresh_actors(network)
        classes = list(registered_messages().values())
        _ship_by_value([type(a) for a in actors] + classes)
        remote_cls = ray.remote(_LinkedShard if self.sync == "links" else _Shard)
        for s in range(plan.shards):
            opts: dict = {"num_cpus": cpus, "max_restarts": 0}
            if self.nodes:
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
                opts["scheduling_strategy"] = NodeAffinitySchedulingStrategy(self.nodes[s % len(self.nodes)],
                                                                             soft=False)
            mine = {i: actors[i] for i in plan.members(s)}
            handles.append(remote_cls.options(**opts).remote(
                s, network.names, network.adjacency, plan.shard_of, (mine, classes), seed, record_digest,
                network.sites, self.per_actor, self.balance == "events"))

    def _drive(self, handles: list, plan: Partition, until_ps: int, progress: ProgressFn | None,
                start: Checkpoint | None = None, checkpoints: CheckpointPlan | None = None,
                newest: dict | None = None, network: Network | None = None, seed: int = 0,
                record_digest: bool = True) -> dict:
        k = len(handles)
        next_time: list[int | None] = [None] * k
        inflight: list[list[bytes]] = [[] for _ in range(k)]
        inflight_min: list[int | None] = [None] * k
        events = calls = windows = 0
        base_events = start.events if start is not None else 0
        base_windows = start.windows if start is not None else 0
        written: list[str] = []

        def absorb(replies: dict[int, bytes]) -> None:
            nonlocal events
            failed = [j for j, reply in replies.items() if not reply]
            if failed:
                transport.close()  # a compiled graph must be torn down before other calls
                self._raise_failures(handles, failed)
            for j, reply in replies.items():
                nxt, n, out = msgpack.unpackb(reply)
                next_time[j] = nxt
                events += n
                for dst, tmin, blob in out:
                    inflight[dst].append(blob)
                    inflight_min[dst] = tmin if inflight_min[dst] is None else min(inflight_min[dst], tmin)

        transport = _Calls(handles)
        started = self._start_shards(handles, plan, start)
        absorb(dict(enumerate(started)))
        if self.compiled:
            transport = _CompiledCalls(handles)
        t_loop = time.perf_counter()
        lookahead = plan.lookahead_ps
        ckpt_due = checkpoints.due(start.time_ps if start is not None else 0) if checkpoints is not None else None
        try:
            while True:
                due = [t for t in next_time + inflight_min if t is not None]
                if not due or min(due) >= until_ps:
                    break
                t = min(due)
                t_end = until_ps if lookahead is None else min(until_ps, t + lookahead)
                if transport.calls_all:
                    active = range(k)
                else:  # a shard with nothing due before t_end sits the window out; its batches wait
                    active = [j for j in range(k)
                              if (next_time[j] is not None and next_time[j] < t_end)
                              or (inflight_min[j] is not None and inflight_min[j] < t_end)]
                requests = {}
                for j in active:
                    requests[j] = msgpack.packb((windows, t_end, inflight[j]))
                    inflight[j], inflight_min[j] = [], None
                absorb(transport.step(requests))
                calls += len(requests)
                windows += 1
                if ckpt_due is not None and t_end >= ckpt_due and t_end < until_ps:
                    ckpt_due = self._write_checkpoint(handles, network, t_end, until_ps, inflight,
                                                      base_events + events, base_windows + windows, seed,
                                                      record_digest, checkpoints, written, newest)
                if progress is not None:
                    progress(t_end, until_ps, base_events + events)
        finally:
            transport.close()
        if progress is not None:
            progress(until_ps, until_ps, base_events + events)
        return {"inflight": inflight, "windows": windows, "calls": calls, "t_loop": t_loop, "written": written,
                "events": events,
                "loop_s": time.perf_counter() - t_loop}


    def _start_shards(self, handles: list, plan: Partition, start: Checkpoint | None) -> list:
        """Each shard's reply to starting its actors, or (``start``) to taking up its actors'
        pending events and traces from a checkpoint."""
        try:
            if start is None:
                first = [h.start.remote() for h in handles]
            else:
                first = self._restore_calls(handles, plan, start)
            return ray.get(first, timeout=self.start_timeout_s)
        except ray.exceptions.GetTimeoutError:
            k = len(handles)
            raise ConfigurationError(
                f"the {k} shard actors could not all start within {self.start_timeout_s:g} s: the Ray cluster "
                f"lacks the resources (CPUs, pinned nodes) to place them; ray.available_resources() = "
                f"{ray.available_resources()}", field="shards", value=k) from None

    @staticmethod
    def _restore_calls(handles: list, plan: Partition, start: Checkpoint) -> list:
        k, member = len(handles), plan.shard_of
        pending: list[list] = [[] for _ in range(k)]
        for e in start.pending:
            pending[member[e[1]]].append(e)
        traces: list[dict] = [{} for _ in range(k)]
        for i, h in enumerate(start.trace):
            traces[member[i]][i] = h
        return [h.restore.remote(pending[j], traces[j]) for j, h in enumerate(handles)]

    def _drive_linked(self, handles: list, plan: Partition, until_ps: int, progress: ProgressFn | None,
                      start: Checkpoint | None = None, checkpoints: CheckpointPlan | None = None,
                      newest: dict | None = None, network: Network | None = None, seed: int = 0,
                      record_digest: bool = True) -> dict:
        """``sync="links"``: the shards keep step among themselves (:class:`_LinkedShard`); the
        driver sets barriers only, at checkpoints and at the end, and asks for progress."""
        k = len(handles)
        t_first = start.time_ps if start is not None else 0
        base_events = start.events if start is not None else 0
        base_windows = start.windows if start is not None else 0
        written: list[str] = []
        started = self._start_shards(handles, plan, start)
        self._raise_failures(handles, [j for j, r in enumerate(started) if not r])
        la = shard_lookahead(network, plan)
        ray.get([h.connect.remote(handles, {a: la[a][j] for a in range(k) if j in la[a]}, la[j], t_first)
                 for j, h in enumerate(handles)])
        t_loop = time.perf_counter()
        events = rounds = 0
        ckpt_due = checkpoints.due(t_first) if checkpoints is not None else None
        barrier = t_first
        while barrier < until_ps:
            barrier = until_ps if ckpt_due is None else min(until_ps, max(ckpt_due, barrier + 1))
            replies = self._await_barrier(handles, barrier, until_ps, progress, base_events)
            events += sum(r[1] for r in replies)
            rounds = max([rounds] + [r[2] for r in replies])
            self._raise_failures(handles, [j for j, r in enumerate(replies) if not r[0]])
            if ckpt_due is not None and barrier >= ckpt_due and barrier < until_ps:
                ckpt_due = self._write_checkpoint(handles, network, barrier, until_ps, [[] for _ in range(k)],
                                                  base_events + events, base_windows + rounds, seed, record_digest,
                                                  checkpoints, written, newest)
        if progress is not None:
            progress(until_ps, until_ps, base_events + events)
        return {"inflight": [[] for _ in range(k)], "windows": rounds, "calls": None, "t_loop": t_loop,
                "written": written, "events": events, "loop_s": time.perf_counter() - t_loop}

    @staticmethod
    def _await_barrier(handles: list, barrier: int, until_ps: int, progress: ProgressFn | None,
                       events0: int) -> list[tuple]:
        """Every shard's ``run_to(barrier)`` reply; meanwhile, twice a second, the progress of the
        slowest shard.  A shard process that died raises here (``RayActorError``)."""
        refs = [h.run_to.remote(barrier) for h in handles]
        polls: list = []
        while True:
            ready, waiting = ray.wait(refs, num_returns=len(refs), timeout=0.5)
            if not waiting:
                return ray.get(refs)
            for ref in ready:  # a shard that died ends the wait at once: its neighbours never reach the barrier
                ray.get(ref)
            if progress is not None:
                if polls and not ray.wait(polls, num_returns=len(polls), timeout=0)[1]:
                    done = ray.get(polls)
                    progress(min(min(d for d, _ in done), until_ps), until_ps,
                             events0 + sum(e for _, e in done))
                    polls = []
                if not polls:
                    polls = [h.progress.remote() for h in handles]

    @staticmethod
    def _raise_failures(handles: list, failed: list[int]) -> None:
        """Raise the error of the earliest failed event among shards ``failed`` (as on one process)."""
        if failed:
            reports = ray.get([handles[j].failure.remote() for j in failed])
            raise min(reports, key=lambda r: r[0])[1]

    def _write_checkpoint(self, handles, network: Network, t: int, until_ps: int, inflight, events: int,
                          windows: int, seed: int, record_digest: bool, checkpoints: CheckpointPlan,
                          written: list[str], newest: dict | None) -> int:
        """Write the checkpoint at the boundary ``t`` (noting its path in ``written`` and keeping it
        as the newest to restart from); return when the next one is due."""
        ckpt = self._checkpoint(handles, network, t, until_ps, inflight, events, windows, seed, record_digest)
        written.append(str(checkpoints.write(ckpt)))
        if newest is not None:
            newest["ckpt"] = ckpt
        return checkpoints.due(t)

    @staticmethod
    def _checkpoint(handles, network: Network, t: int, until_ps: int, inflight, events: int, windows: int,
                    seed: int, record_digest: bool) -> Checkpoint:
        """The run's state at the window boundary ``t``: the shards' kernels and the batches in flight
        between them, decoded (the same checkpoint a local run would write at ``t``)."""
        parts = [pickle.loads(part) for part in ray.get([h.snapshot.remote() for h in handles])]
        in_flight = [e for batches in inflight for blob in batches for e in decode_batch(blob)[1]]
        return Checkpoint.gather(parts, names=network.names, adjacency=network.adjacency, sites=network.sites,
                                 time_ps=t, until_ps=until_ps, seed=seed, record_digest=record_digest, events=events,
                                 windows=windows, in_flight=in_flight)


class _Calls:
    """One ordinary Ray actor call per busy shard per window."""

    calls_all = False

    def __init__(self, handles: list):
        self.handles = handles

    def step(self, requests: dict[int, bytes]) -> dict[int, bytes]:
        refs = [self.handles[j].step.remote(req) for j, req in requests.items()]
        return dict(zip(requests, ray.get(refs)))

    def close(self) -> None:
        pass


class _CompiledCalls:
    """A Ray compiled graph that calls every shard's ``step`` each window.

    Compiled graphs move data through pre-allocated channels instead of
    scheduling a task per call: about 0.35-0.65 ms per window for two shards
    on the 2-core development machine against 1.1-1.4 ms for ordinary calls.
    Every shard is called every window (the graph is static); a shard with
    nothing due returns at once.  The driver polls the output channels while
    it waits, which costs a core.
    """

    calls_all = True

    def __init__(self, handles: list):
        from ray.dag import InputNode, MultiOutputNode
        with InputNode() as requests:
            dag = MultiOutputNode([h.step.bind(requests[j]) for j, h in enumerate(handles)])
        self.k = len(handles)
        self.graph = dag.experimental_compile()

    def step(self, requests: dict[int, bytes]) -> dict[int, bytes]:
        refs = self.graph.execute(*(requests[j] for j in range(self.k)))
        return {j: ref.get(timeout=-1) for j, ref in enumerate(refs)}

    def close(self) -> None:
        if self.graph is not None:
            graph, self.graph = self.graph, None
            log = logging.getLogger("ray.dag.compiled_dag_node")
            level = log.level
            log.setLevel(logging.WARNING)  # Ray logs every teardown step at INFO
            try:
                graph.teardown()
            finally:
                log.setLevel(level)


def cluster_cpus() -> int | None:
    """The CPUs of the Ray cluster a run would use: the connected cluster's, or this machine's, where a
    run without an address starts its own instance (``RAY_ADDRESS`` is never joined silently)."""
    if ray.is_initialized():
        return int(ray.cluster_resources().get("CPU", 0))
    return os.cpu_count() or 1
