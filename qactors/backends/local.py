"""The local backend: every actor in one in-process kernel.  Needs no Ray."""

from __future__ import annotations

import time

from ..core.kernel import Kernel, combine_digests
from ..core.network import Network
from .base import ProgressFn, RunResult, check_run_args, fresh_actors, frozen_heap

__all__ = ["LocalBackend"]

_PROGRESS_STEPS = 200


class LocalBackend:
    """Run all actors in this process, in event order.  The reference backend."""

    name = "local"

    def run(self, network: Network, *, until_ps: int, seed: int, record_digest: bool = True,
            collect_states: bool = True, progress: ProgressFn | None = None, in_place: bool = False) -> RunResult:
        check_run_args(network, until_ps, seed)
        t0 = time.perf_counter()
        if in_place:
            network.spent = True
            actors = network.actors
        else:
            actors = fresh_actors(network)
        kernel = Kernel(network.names, network.adjacency, dict(enumerate(actors)), seed, record_digest,
                        sites=network.sites)
        kernel.start()
        t_loop = time.perf_counter()
        with frozen_heap():
            self._loop(kernel, until_ps, progress)
        loop_s = time.perf_counter() - t_loop
        digest = combine_digests(kernel.actor_digests()) if record_digest else None
        return RunResult(
            backend=self.name, until_ps=until_ps, seed=seed, events=kernel.events, digest=digest,
            states=kernel.states() if collect_states else None, wall_s=time.perf_counter() - t0,
            stats={"setup_s": t_loop - t0, "loop_s": loop_s, **kernel.latency_stats()})

    @staticmethod
    def _loop(kernel: Kernel, until_ps: int, progress: ProgressFn | None) -> None:
        if progress is None:
            kernel.run_until(until_ps)
        else:
            step = max(1, until_ps // _PROGRESS_STEPS)
            t = 0
            while t < until_ps:
                nxt = kernel.next_time()
                if nxt is None or nxt >= until_ps:
                    break
                t = min(until_ps, max(t + step, nxt + 1))
                kernel.run_until(t)
                progress(t, until_ps, kernel.events)
            progress(until_ps, until_ps, kernel.events)
