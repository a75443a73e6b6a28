"""Shared fixtures: one Ray instance for the whole test session.

Tests that need Ray take the ``ray_session`` fixture; the first such test
starts Ray (2 CPUs, no dashboard) and the session's end shuts it down, so no
process outlives the suite.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tomllib
from pathlib import Path

import pytest

# helper modules beside the tests (scenario_text.py) import as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def ray_session():
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        from qactors.backends.ray_backend import start_local_ray
        start_local_ray(num_cpus=2, log_to_driver=True)
    yield ray
    ray.shutdown()


CASES_FILE = Path(__file__).resolve().parent / "validation" / "cases.json"


@pytest.fixture(scope="session")
def cases() -> dict:
    """Reference values from the literature and closed forms (tests/validation/cases.json, each case with its
    source), by case id.  The file is part of the project: a missing one is an error, not a skip."""
    if not CASES_FILE.is_file():
        raise FileNotFoundError(f"validation reference file {CASES_FILE} is missing (it is part of the repository)")
    data = json.loads(CASES_FILE.read_text())
    return {c["id"]: c for c in data["cases"]}


# -- the scenario library ------------------------------------------------------------------------

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _run_library_scenario(name: str, tmp_path: Path) -> tuple[dict, dict, list[dict]]:
    """Run ``scenarios/<name>.toml`` from the command line; (summary.json, run.json, deliveries rows)."""
    from qactors.cli import main
    out = tmp_path / name
    seed = os.environ.get("QACTORS_LIBRARY_SEED")  # rerun the library's checks at another seed
    assert main(["run", str(SCENARIOS / f"{name}.toml"), "--out", str(out), "--no-progress"]
                + (["--seed", seed] if seed else [])) == 0
    summary = json.loads((out / "summary.json").read_text())
    run = json.loads((out / "run.json").read_text())
    rows = []
    if (out / "deliveries.csv").exists():  # a scenario may leave it out of outputs.files
        with open(out / "deliveries.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    return summary, run, rows


def _library_tables(name: str) -> dict:
    """The scenario file's tables, read directly (the references use the file's inputs, not the parser's)."""
    with open(SCENARIOS / f"{name}.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture
def run_cli():
    """``run_cli(name, tmp_path)``: run a library scenario as a user would; its three output files."""
    return _run_library_scenario


@pytest.fixture
def tables():
    """``tables(name)``: a library scenario file's tables."""
    return _library_tables


def _served_or_deadline(rid: str, request: dict, report: dict) -> None:
    """A request's report is either served in full or ended by the request's own deadline, short of its pairs."""
    outcome = report["outcome"]
    if outcome.startswith("served"):
        assert outcome == f"served: {request['pairs']} pairs" and report["pairs"] == request["pairs"]
    else:
        assert "deadline_ms" in request and outcome.startswith("deadline: "), (rid, outcome)
        assert report["pairs"] < request["pairs"]


@pytest.fixture
def served_or_deadline():
    """``served_or_deadline(request id, request table, report)``: asserts the report's outcome."""
    return _served_or_deadline
