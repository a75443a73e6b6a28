"""The command-line tool, the shipped examples and the doctests run as tests."""

from __future__ import annotations

import doctest
import importlib
import json
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from qactors.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_demo_prints_a_chain_summary(capsys):
    assert main(["demo", "--until-ms", "200", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "repeater chain: 5 nodes, 25 km links (100 km end to end)" in out
    for key in ("pairs_delivered", "rate_hz", "mean_fidelity", "teleportation_fidelity", "bbm92_qber_x",
                "bbm92_key_rate_bps"):
        assert key in out


def test_chain_demo_json_is_consistent(capsys):
    assert main(["demo", "--nodes", "3", "--until-ms", "300", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip())
    assert summary["pairs_delivered"] > 10
    assert summary["rate_hz"] == pytest.approx(summary["pairs_delivered"] / 0.3)
    assert 0.25 <= summary["mean_fidelity"] <= 1
    # every pair was either teleported over or measured for BBM92 (or is still on its way)
    assert summary["teleportations"] + 2 * summary["bbm92_sifted_bits"] == pytest.approx(
        summary["pairs_delivered"], rel=0.25)
    assert 2 / 3 < summary["teleportation_fidelity"] <= 1


def test_ping_demo_prints_a_summary(capsys):
    assert main(["demo", "--network", "ping", "--nodes", "6", "--until-ms", "5", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "ping ring: 6 nodes" in out and "pongs_received" in out and "digest" in out


def test_demo_json_is_one_line_and_consistent(capsys):
    assert main(["demo", "--network", "ping", "--nodes", "5", "--until-ms", "5", "--json"]) == 0
    line = capsys.readouterr().out.strip()
    summary = json.loads(line)
    assert summary["nodes"] == 5 and summary["events"] > 0
    assert summary["shared_coins_agreeing"] == summary["shared_coins_compared"] == summary["pongs_received"]


def test_demo_draws_progress_on_stderr(capsys):
    assert main(["demo", "--nodes", "3", "--until-ms", "20"]) == 0
    err = capsys.readouterr().err
    assert "simulating: 100% of 20 ms simulated" in err


@pytest.mark.parametrize("argv, needle", [
    (["demo", "--backend", "gpu"], "backend 'gpu' is not known"),
    (["demo", "--network", "ping", "--nodes", "2"], "--nodes must be >= 3 for the ping network"),
    (["demo", "--nodes", "1"], "--nodes must be >= 2 for the chain network"),
])
def test_demo_rejects_bad_options(capsys, argv, needle):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_argparse_rejects_non_positive_durations(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--until-ms", "-1"])
    assert exit_.value.code == 2
    assert "expected a positive number, got -1.0" in capsys.readouterr().err


def test_info(capsys):
    assert main(["info"]) == 0
    assert "qactors 0.1.0" in capsys.readouterr().out


def test_console_script_is_installed():
    out = subprocess.run(["qactors", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "qactors 0.1.0"


@pytest.mark.parametrize("module", ["qactors", "qactors.core.rng", "qactors.core.time"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_quickstart_example_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    # a ping every 100 us from t = 0 to 10 ms (exclusive): arrivals at 100, 200, ... 9900 us are 99 events;
    # bob receives the odd-numbered ones (50), alice the even ones (49)
    assert "99 events, alice returned 49, bob returned 50" in capsys.readouterr().out


@pytest.mark.ray
def test_quickstart_example_on_ray(ray_session, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["quickstart.py", "ray"])
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    assert "identical: True" in capsys.readouterr().out


def test_physics_example_runs():
    result = runpy.run_path(str(ROOT / "examples" / "physics_quickstart.py"))["main"]()
    # 50 km at 0.2 dB/km is 10 dB; a swap of two F = 0.95 Werner links gives (1 + 3 w^2)/4, w = 14/15
    assert result["fibre_50km_transmissivity"] == pytest.approx(0.1, rel=1e-12)
    assert result["swapped_fidelity"] == pytest.approx((1 + 3 * (14 / 15) ** 2) / 4, abs=1e-12)
    assert result["purified_fidelity"] > result["swapped_fidelity"]
    assert 0 < result["purification_success"] < 1


def test_link_example_runs():
    result = runpy.run_path(str(ROOT / "examples" / "link_quickstart.py"))["main"](pairs=50)
    deliveries = result.states["A"]["deliveries"]
    assert len(deliveries) == 50 and deliveries == result.states["B"]["deliveries"]


def test_network_example_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "network_requests.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.count("served:") == 4 and "teleportation" in out and "bbm92 QBER" in out
    reports = runpy.run_path(str(ROOT / "examples" / "network_requests.py"))["main"]()
    assert reports["teleport"]["path"] == ["Alice", "R1", "R2", "Bob"]       # the shorter route
    assert reports["bbm92"]["path"] == ["Carol", "R3", "Bob"]
    assert reports["teleport"]["teleport_fidelity"] > 2 / 3                 # beats measure-and-prepare
    assert reports["bbm92"]["key"].rate_bps > 0 and reports["e91-nested"]["key"].chsh > 2
    assert reports["purified"]["mean_fidelity"] >= 0.9                     # its min_fidelity


@pytest.mark.ray
def test_readme_python_blocks_run(capsys, ray_session, tmp_path):
    """Every Python block of the README runs as printed (the Ray one included)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    for i, block in enumerate(blocks):
        script = tmp_path / f"readme_{i}.py"
        script.write_text(block)
        runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "99 50" in out and "served: 200 pairs" in out
