"""Independent runs as Ray tasks: one worker process per task, results in the order the tasks were given.

The stress harness (:mod:`qactors.stress`) runs each (policy, load, replica) as a task of its
own: the runs share nothing, so they scale with the cores of the cluster (or the machine) Ray
has.  Ray is started here only if it is not running already, and stopped again afterwards.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import ray

from .ray_backend import ray_instance

__all__ = ["run_tasks"]


def run_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], *,
              on_done: Callable[[int, Any], None] | None = None, num_cpus: int | None = None) -> list:
    """``[fn(t) for t in tasks]``, each call a Ray task (one CPU each); ``on_done(i, result)`` is called
    as each finishes, in the order they finish.  ``fn`` must be importable by the workers (a module-level
    function of an installed package).  An exception in a task is raised here, with the task's own
    traceback, once every other task has been cancelled."""
    with ray_instance(num_cpus=num_cpus):
        remote = ray.remote(num_cpus=1, max_retries=0)(fn)
        refs = [remote.remote(t) for t in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        results: list = [None] * len(refs)
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    i = index[ref]
                    results[i] = ray.get(ref)
                    if on_done is not None:
                        on_done(i, results[i])
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        return results
