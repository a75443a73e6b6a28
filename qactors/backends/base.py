"""What every backend returns, and the helpers they share."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import gc
import pickle
from typing import Callable, Protocol

from ..core.errors import ConfigurationError
from ..core.network import Network
from ..core.rng import check_seed

__all__ = ["RunResult", "Backend", "ProgressFn", "check_run_args"]

ProgressFn = Callable[[int, int, int], None]
"""``progress(now_ps, until_ps, events_so_far)``, called between windows."""


@dataclasses.dataclass
class RunResult:
    """The outcome of one run.

    Attributes:
        backend: ``"local"``, ``"ray"`` or ``"ray-per-actor"``.
        until_ps: events strictly before this time were handled.
        seed: the run's seed.
        events: messages and timers handled.
        digest: hex BLAKE2b of the ordered event trace and final actor states
            (None when the run did not record it); equal across backends.
        states: actor id -> :meth:`Actor.state` at the end (None if not collected).
        wall_s: wall-clock seconds of the run, setup included.
        windows: synchronisation windows (1 for the local backend).
        shards: processes the actors ran in.
        lookahead_ps: window length for Ray runs (None: unbounded / local).
        stats: backend-specific figures (cross-shard messages, node ids, ...).
    """

    backend: str
    until_ps: int
    seed: int
    events: int
    digest: str | None
    states: dict[str, dict] | None
    wall_s: float
    windows: int = 1
    shards: int = 1
    lookahead_ps: int | None = None
    stats: dict = dataclasses.field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else float("inf")


class Backend(Protocol):
    name: str

    def run(self, network: Network, *, until_ps: int, seed: int, record_digest: bool = True,
            collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False) -> RunResult: ...


def check_run_args(network: Network, until_ps: object, seed: object) -> None:
    """Validate run settings before anything starts."""
    if not isinstance(network, Network):
        raise ConfigurationError(f"run() takes a Network, got {type(network).__name__}", field="network")
    network.check()
    if type(until_ps) is not int or until_ps <= 0:
        raise ConfigurationError(f"until_ps must be a positive int (picoseconds), got {until_ps!r}",
                                 field="until_ps", value=until_ps)
    check_seed(seed)


def fresh_actors(network: Network) -> list:
    """Independent copies of the network's actors, so a Network can be run many times.

    A pickle round trip is about three times faster than ``copy.deepcopy`` on
    large networks; classes pickle cannot name (defined inside a function or a
    doctest) fall back to ``copy.deepcopy``.
    """
    try:
        return pickle.loads(pickle.dumps(network.actors, protocol=pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, AttributeError, TypeError):
        pass
    try:
        return copy.deepcopy(network.actors)
    except Exception as e:
        raise ConfigurationError(
            f"the network's actors cannot be copied ({type(e).__name__}: {e}); actor state must be "
            f"plain data so that runs can be placed anywhere and checkpointed", field="actors") from e


@contextlib.contextmanager
def frozen_heap():
    """Keep the cyclic garbage collector off the (large, long-lived) actor graph while the event
    loop runs: the graph is frozen, and full collections become rare (the loop itself makes no
    reference cycles; young-generation collections still catch any an actor of the user's makes).

    After a freeze CPython counts no long-lived objects, so it would run a full collection, over
    everything the run has built since, every tenth middle-generation collection: on a 5k-node
    grid that was a sixth of the run's CPU, growing with the network."""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], max(thresholds[2], _FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


_FULL_COLLECTION_EVERY = 1000  # middle-generation collections between full ones during a run (CPython: 10)
