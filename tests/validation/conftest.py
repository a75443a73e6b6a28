"""Reference values from the literature (../shared/validation/cases.json beside the repository)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASES_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "validation" / "cases.json"


@pytest.fixture(scope="session")
def cases() -> dict:
    if not CASES_FILE.exists():
        pytest.skip(f"validation reference file {CASES_FILE} is not present beside the repository")
    data = json.loads(CASES_FILE.read_text())
    return {c["id"]: c for c in data["cases"]}
