"""Shared fixtures: one Ray instance for the whole test session.

Tests that need Ray take the ``ray_session`` fixture; the first such test
starts Ray (2 CPUs, no dashboard) and the session's end shuts it down, so no
process outlives the suite.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_session():
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=True, configure_logging=False)
    yield ray
    ray.shutdown()
