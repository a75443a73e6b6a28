"""The stress harness: routing policies compared under increasing load (``qactors stress``).

>>> from qactors.stress import stress                                    # doctest: +SKIP
>>> result = stress("scenarios/metro-stress.toml", policies=["shortest", "k-shortest"],
...                 loads="5:40:4", replicas=3, workers="local")
>>> result.summary.where(policy="k-shortest")["served"]                  # a column over the loads
>>> result.saturation["shortest"]["load"]
>>> result.summary.to_pandas()                                           # with pandas installed

:mod:`.harness` plans and runs, :mod:`.metrics` defines the figures, :mod:`.report` prints and
writes them; docs/stress.md explains each figure and the method.
"""

from .harness import DEFAULT_POLICIES, REQUEST_COLUMNS, StressPlan, StressResult, plan, run_point, saturation, stress
from .metrics import FAULT_METRICS, REPLICA_METRICS, jain, mean_ci
from .report import STRESS_FILES, format_stress, prepare_stress_dir, write_stress
from .table import Table

__all__ = ["stress", "plan", "run_point", "saturation", "StressPlan", "StressResult", "Table", "format_stress",
           "write_stress", "prepare_stress_dir", "STRESS_FILES", "REPLICA_METRICS", "FAULT_METRICS",
           "REQUEST_COLUMNS", "DEFAULT_POLICIES", "jain", "mean_ci"]
