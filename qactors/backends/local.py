"""The local backend: every actor in one in-process kernel.  Needs no Ray."""

from __future__ import annotations

import time

from ..core.kernel import Kernel, combine_digests
from ..core.network import Network
from .base import ProgressFn, RunResult, check_run_args, fresh_actors, frozen_heap
from .checkpoint import Checkpoint, CheckpointPlan, prepare_resume

__all__ = ["LocalBackend"]

_PROGRESS_STEPS = 200


class LocalBackend:
    """Run all actors in this process, in event order.  The reference backend."""

    name = "local"

    def run(self, network: Network, *, until_ps: int, seed: int, record_digest: bool = True,
            collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False,
            checkpoints: CheckpointPlan | None = None) -> RunResult:
        check_run_args(network, until_ps, seed)
        if checkpoints is not None:
            checkpoints.prepare()
        t0 = time.perf_counter()
        if in_place:
            network.spent = True
            actors = network.actors
        else:
            actors = fresh_actors(network)
        kernel = Kernel(network.names, network.adjacency, actors, seed, record_digest,
                        sites=network.sites, index=network.index)
        kernel.start()
        return self._go(kernel, network.adjacency, network.sites, 0, until_ps, seed, t0, collect_states, progress,
                        checkpoints)

    def resume(self, ckpt: Checkpoint, *, until_ps: int | None = None, collect_states: bool = True,
               progress: ProgressFn | None = None, checkpoints: CheckpointPlan | None = None,
               change=None, copy: bool = True) -> RunResult:
        """Go on from ``ckpt`` until ``until_ps`` (default: the end of the run that wrote it).

        ``change(actors_by_id)`` may alter actors first (a fork); ``copy=False`` uses the
        checkpoint's actors themselves (one read from disk for one run)."""
        t0 = time.perf_counter()
        ckpt, until = prepare_resume(ckpt, until_ps, checkpoints, copy, change)
        kernel = Kernel(ckpt.names, ckpt.adjacency, list(ckpt.actors), ckpt.seed, ckpt.record_digest,
                        sites=ckpt.sites)
        kernel.restore(ckpt.pending, dict(enumerate(ckpt.trace)), ckpt.events)
        result = self._go(kernel, ckpt.adjacency, ckpt.sites, ckpt.time_ps, until, ckpt.seed, t0, collect_states,
                          progress, checkpoints)
        result.stats["resumed_from_ps"] = ckpt.time_ps
        return result

    def _go(self, kernel: Kernel, adjacency, sites, start_ps: int, until_ps: int, seed: int, t0: float,
            collect_states: bool, progress, checkpoints) -> RunResult:
        t_loop = time.perf_counter()
        written = []
        with frozen_heap():
            self._loop(kernel, start_ps, until_ps, progress, checkpoints,
                       lambda t: written.append(checkpoints.write(_checkpoint(kernel, adjacency, sites, t, until_ps))))
        loop_s = time.perf_counter() - t_loop
        digest = combine_digests(kernel.actor_digests()) if kernel.record_digest else None
        return RunResult(
            backend=self.name, until_ps=until_ps, seed=seed, events=kernel.events, digest=digest,
            states=kernel.states() if collect_states else None, wall_s=time.perf_counter() - t0,
            stats={"setup_s": t_loop - t0, "loop_s": loop_s, **kernel.latency_stats(),
                   **({"checkpoints": [str(p) for p in written]} if checkpoints is not None else {})})

    @staticmethod
    def _loop(kernel: Kernel, start_ps: int, until_ps: int, progress: ProgressFn | None,
              plan: CheckpointPlan | None, write) -> None:
        if progress is None and plan is None:
            kernel.run_until(until_ps)
            return
        step = max(1, until_ps // _PROGRESS_STEPS)
        due = plan.due(start_ps) if plan is not None else None
        t = start_ps
        while t < until_ps:
            nxt = kernel.next_time()
            if nxt is None or nxt >= until_ps:
                break
            target = until_ps if progress is None else min(until_ps, max(t + step, nxt + 1))
            if due is not None:
                if nxt >= due:  # an idle stretch: one checkpoint at its last due time, not one per interval
                    due = max(due, nxt // plan.every_ps * plan.every_ps)
                target = min(target, due)
            kernel.run_until(target)
            t = target
            if due is not None and due <= t < until_ps:
                write(t)
                due = plan.due(t)
            if progress is not None:
                progress(t, until_ps, kernel.events)
        if progress is not None:
            progress(until_ps, until_ps, kernel.events)


def _checkpoint(kernel: Kernel, adjacency, sites, t: int, until_ps: int) -> Checkpoint:
    actors, heap, traces, events = kernel.snapshot()
    return Checkpoint.gather([(actors, heap, traces)], names=kernel.names, adjacency=adjacency, sites=sites,
                             time_ps=t, until_ps=until_ps, seed=kernel.seed, record_digest=kernel.record_digest,
                             events=events)
