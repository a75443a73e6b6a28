"""benchmarks/parallel.py runs in quick mode and prints one JSON line: the workload's figures on
both backends, the two-process bound, and digests that agree.  Timings and the speed-up are
reported, not asserted (performance is measured by running the script, not in tests)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "parallel.py"


@pytest.mark.slow
@pytest.mark.ray
def test_quick_parallel_benchmark_prints_one_json_line_with_equal_digests():
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["benchmark"] == "parallel" and report["quick"] is True and report["repeat"] == 1
    assert set(report["machine"]) == {"cpus", "python", "platform"}
    scenario = report["scenario"]
    assert scenario["name"] == "europe-traffic" and scenario["nodes"] == 3718 and scenario["links"] == 4153
    assert 0 < scenario["duration_ms"] < 200 and scenario["requests"] > 0

    # the same run on both backends: same events, same digest
    assert report["digests_equal"] is True and len(report["digest"]) == 64
    assert report["events"] > 0

    local, ray2 = report["local"], report["ray2"]
    assert local["wall_s"] > 0 and local["cpu_s"] > 0 and local["loop_s"] <= local["wall_s"]
    assert ray2["wall_s"] > 0 and ray2["loop_s"] <= ray2["wall_s"]
    # the window figures follow from one another
    assert ray2["windows"] >= 1 and ray2["events_per_window"] == round(report["events"] / ray2["windows"], 1)
    assert ray2["ms_per_window"] == pytest.approx(1e3 * ray2["loop_s"] / ray2["windows"], abs=1e-3)
    # the shards' counts are those of the last placement: all the events unless the run was placed again
    placed_again = ray2["balance"] == "events" and ray2["rebalanced_at_ps"]
    assert (sum(ray2["events_per_shard"]) < report["events"]) if placed_again else \
        (sum(ray2["events_per_shard"]) == report["events"])
    assert len(ray2["busy_s_per_shard"]) == 2
    assert ray2["cut_links"] > 0 and ray2["cross_shard_messages"] > 0
    # a window is at most the shortest cut link: half a 50 km segment, 122 us in fibre
    assert 0 < ray2["lookahead_ps"] <= 123_000_000

    assert report["speedup"] == pytest.approx(local["wall_s"] / ray2["wall_s"], rel=1e-2)
    assert 0 < report["two_process_speedup"] <= 2.5
    assert report["speedup_over_bound"] == pytest.approx(report["speedup"] / report["two_process_speedup"],
                                                         rel=1e-2)
    assert report["target"] == 0.8 and report["meets_target"] == (report["speedup_over_bound"] >= 0.8)
    assert len(report["runs"]["local"]) == len(report["runs"]["ray2"]) == 1
