"""Running a network: :func:`run`, and going on from a checkpoint: :func:`resume`, :func:`fork`."""

from __future__ import annotations

import os
from typing import Callable

from .backends import make_backend
from .backends.checkpoint import Checkpoint, CheckpointPlan, read_checkpoint
from .core.errors import ConfigurationError
from .backends.base import ProgressFn, RunResult
from .core.network import Network

__all__ = ["run", "resume", "fork"]


def run(network: Network, *, until_ps: int, seed: int = 0, backend="local", record_digest: bool = True,
        collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False,
        checkpoints: CheckpointPlan | None = None) -> RunResult:
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
        checkpoints: a :class:`~qactors.backends.checkpoint.CheckpointPlan` (folder, interval in
            simulated time, how many to keep): the run writes its whole state there as it goes, and
            :func:`resume` goes on from any of them.

    The same network, ``until_ps`` and ``seed`` give the same digest and
    states on every backend and shard count.

    Raises:
        ConfigurationError: a setting is invalid (nothing has run).
        ActorError: a handler raised; names actor, message type and time.
    """
    extra = {"in_place": True} if in_place else {}  # a backend object of the user's need not know them
    if checkpoints is not None:
        if not isinstance(checkpoints, CheckpointPlan):
            raise ConfigurationError(f"checkpoints must be a CheckpointPlan, got {checkpoints!r}",
                                     field="checkpoints", value=checkpoints)
        extra["checkpoints"] = checkpoints
    return make_backend(backend).run(network, until_ps=until_ps, seed=seed, record_digest=record_digest,
                                     collect_states=collect_states, progress=progress, **extra)


def resume(checkpoint, *, until_ps: int | None = None, backend="local", collect_states: bool = True,
           progress: ProgressFn | None = None, checkpoints: CheckpointPlan | None = None,
           change: Callable[[dict], None] | None = None) -> RunResult:
    """Go on from a checkpoint (a file, a folder holding them, or a
    :class:`~qactors.backends.checkpoint.Checkpoint`) until ``until_ps`` (default: the end of the
    run that wrote it).  Without ``change`` the result, digest included, is the one the
    uninterrupted run gives, whichever backend and shard count wrote or resumes it.

    ``change(actors_by_id)`` alters actors before going on: see :func:`fork`.
    """
    if isinstance(checkpoint, Checkpoint):
        ckpt, copy = checkpoint, True
    elif isinstance(checkpoint, (str, os.PathLike)):
        ckpt, copy = read_checkpoint(checkpoint), False
    else:
        raise ConfigurationError(f"resume takes a checkpoint file, a folder of them or a Checkpoint, got "
                                 f"{checkpoint!r}", field="checkpoint", value=checkpoint)
    b = make_backend(backend)
    if not hasattr(b, "resume"):
        raise ConfigurationError(f"backend {getattr(b, 'name', b)!r} cannot resume from a checkpoint",
                                 field="backend", value=backend)
    return b.resume(ckpt, until_ps=until_ps, collect_states=collect_states, progress=progress,
                    checkpoints=checkpoints, change=change, copy=copy)


def fork(checkpoint, change: Callable[[dict], None], **options) -> RunResult:
    """:func:`resume` with ``change(actors_by_id)`` applied first: compare two policies (or any
    parameter an actor holds) from the same network state.  The change alters the actors' own
    attributes, e.g. ``for a in actors.values(): if a.kind == "node": a.router = CongestionAware()``.
    """
    if change is None or not callable(change):
        raise ConfigurationError(f"fork needs a change: a callable taking the actors by id, got {change!r}",
                                 field="change", value=change)
    return resume(checkpoint, change=change, **options)
