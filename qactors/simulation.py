"""The one entry point for running a network: :func:`run`."""

from __future__ import annotations

from .backends import make_backend
from .backends.base import ProgressFn, RunResult
from .core.network import Network

__all__ = ["run"]


def run(network: Network, *, until_ps: int, seed: int = 0, backend="local", record_digest: bool = True,
        collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False) -> RunResult:
    """Run ``network`` from t = 0 until ``until_ps`` (exclusive) and return its result.

    Args:
        network: actors and links; it is not modified, so it can be run again (unless ``in_place``).
        until_ps: simulated end time in picoseconds (> 0).
        seed: root of every random stream (0 <= seed < 2**63).
        backend: ``"local"`` (default), ``"ray"``, ``"ray:K"``, ``"ray-per-actor"``
            or a backend object such as ``RayBackend(shards=4, address="auto")``.
        record_digest: compute the run digest (costs about a microsecond per event).
        collect_states: return every actor's final :meth:`~qactors.Actor.state`.
        progress: ``progress(now_ps, until_ps, events)`` called as the run advances.
        in_place: run the network's own actors rather than copies of them.  The copy is half the
            peak memory of a large run; without it the network ends holding the run's final state
            and refuses to run again (ConfigurationError).  For a network built for one run.

    The same network, ``until_ps`` and ``seed`` give the same digest and
    states on every backend and shard count.

    Raises:
        ConfigurationError: a setting is invalid (nothing has run).
        ActorError: a handler raised; names actor, message type and time.
    """
    extra = {"in_place": True} if in_place else {}  # a backend object of the user's need not know it
    return make_backend(backend).run(network, until_ps=until_ps, seed=seed, record_digest=record_digest,
                                     collect_states=collect_states, progress=progress, **extra)
