"""The figures of one stress run (a replica), and their confidence intervals over replicas.

Definitions (docs/stress.md has them with their reasons):

* a request is *served* when every pair it asked for was delivered; the served fraction is over
  every request that arrived during the run;
* *latency*: from a served request's arrival to the delivery of its last pair, at its destination;
* *pairs/s*: pairs delivered at destinations per second of simulated time;
* *fidelity*: of each delivered pair on arrival at its destination;
* *Jain fairness* over source-destination pairs: ``(sum x)^2 / (n sum x^2)`` with ``x`` the share of
  its asked pairs each pair of ends got (Jain, Chiu & Hawe, DEC-TR-301, 1984); 1 is perfectly fair,
  ``1/n`` all to one;
* *memory utilisation*: the fraction of memory slot-time holding a qubit, over all memories;
  *link utilisation*: the fraction of a link's slot-time that its memories were busy (generating or
  holding a pair), mean and maximum over links;
* around each injected fault at time ``t``: pairs/s in ``[t - w, t)``, ``[t, t + w)`` and
  ``[t + w, t + 2w)``, averaged over the faults; *failed over*: requests served over more than one
  path after a failure.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

__all__ = ["mean_ci", "t_975", "jain", "percentile", "REPLICA_METRICS", "FAULT_METRICS"]

REPLICA_METRICS = ("served", "pairs_per_s", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
                   "fidelity_mean", "fidelity_p10", "fidelity_p50", "fidelity_p90", "jain", "memory_util",
                   "link_util", "link_util_max")
"""The figures of every replica, in the order of the table's columns."""

FAULT_METRICS = ("pps_before_fault", "pps_after_fault", "pps_later_fault", "failed_over")
"""The figures added when the scenario has faults."""

# two-sided 95 % quantiles of Student's t for 1 .. 30 degrees of freedom
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_975(dof: int) -> float:
    """The 97.5 % quantile of Student's t with ``dof`` degrees of freedom (a table to 30, then
    ``1.96 + 2.5/dof``, within 0.002 of the exact value)."""
    if dof < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {dof}")
    return _T975[dof - 1] if dof <= 30 else 1.96 + 2.5 / dof


def mean_ci(values: Iterable[float]) -> tuple[float, float]:
    """``(mean, half-width of its 95 % confidence interval)`` over the finite values, by Student's t;
    the half-width is NaN with fewer than two values, both are NaN with none."""
    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not xs:
        return math.nan, math.nan
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return mean, math.nan
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))
    return mean, t_975(len(xs) - 1) * sd / math.sqrt(len(xs))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100, linear interpolation), NaN for no values."""
    return float(np.percentile(values, q)) if len(values) else math.nan


def jain(shares: Sequence[float]) -> float:
    """Jain's fairness index of ``shares`` (NaN if there are none or all are zero)."""
    total = sum(shares)
    squares = sum(x * x for x in shares)
    return total * total / (len(shares) * squares) if squares > 0 else math.nan
