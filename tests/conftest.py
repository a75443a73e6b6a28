"""Shared fixtures: one Ray instance for the whole test session.

Tests that need Ray take the ``ray_session`` fixture; the first such test
starts Ray (2 CPUs, no dashboard) and the session's end shuts it down, so no
process outlives the suite.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_session():
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=True, configure_logging=False)
    yield ray
    ray.shutdown()


CASES_FILE = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "cases.json"


@pytest.fixture(scope="session")
def cases() -> dict:
    """Reference values from the literature (../shared/validation/cases.json beside the repository), by case id."""
    if not CASES_FILE.exists():
        pytest.skip(f"validation reference file {CASES_FILE} is not present beside the repository")
    data = json.loads(CASES_FILE.read_text())
    return {c["id"]: c for c in data["cases"]}
