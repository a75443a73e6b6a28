"""qactors run --checkpoint-every / resume / fork on a shipped scenario: a run killed after its
checkpoints (its result files never written) is resumed to the same results and digest as an
uninterrupted run; a fork with another routing policy writes its own folder; a changed scenario
file and a missing checkpoint are refused with the file named."""

import json
import shutil
from pathlib import Path

import pytest

from qactors.cli import main

ROOT = Path(__file__).resolve().parents[1]
METRO = ROOT / "scenarios" / "metro-30.toml"


def results(folder: Path) -> tuple:
    run = json.loads((folder / "run.json").read_text())
    return run["digest"], run["events"], (folder / "deliveries.csv").read_text()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    assert main(["run", str(METRO), "--out", str(out), "--no-progress"]) == 0
    return results(out)


def test_a_run_killed_after_its_checkpoints_resumes_to_the_same_results(tmp_path, uninterrupted, capsys):
    out = tmp_path / "part"
    assert main(["run", str(METRO), "--out", str(out), "--no-progress", "--checkpoint-every", "500ms",
                 "--checkpoint-keep", "3"]) == 0
    names = sorted(p.name for p in (out / "checkpoints").glob("ckpt-*.qckpt"))
    # metro-30 is idle from 0.5 s to its last event near 2 s: one checkpoint for the idle stretch, not two
    assert names == [f"ckpt-{t:020d}.qckpt" for t in (500 * 10 ** 9, 1500 * 10 ** 9)]
    manifest = json.loads((out / "stream" / "stream.json").read_text())
    assert manifest["checkpoint"] == names[-1] and manifest["time_ps"] == 1500 * 10 ** 9
    streamed = [json.loads(line) for line in (out / "stream" / "deliveries.jsonl").read_text().splitlines()]
    assert len(streamed) == manifest["rows"] > 0
    final = (out / "deliveries.csv").read_text().splitlines()[1:]
    # every delivery before 1.5 s, as the final table has it (metro-30 delivers them all by then)
    assert sorted((d["request"], d["end"], d["time_ps"], repr(d["fidelity"]), d["pair_id"]) for d in streamed) == \
        sorted(tuple(int(x) if i == 2 else x for i, x in enumerate(row.split(","))) for row in final
               if int(row.split(",")[2]) < 1500 * 10 ** 9)
    import pyarrow.parquet as pq
    assert sum(pq.read_table(out / "stream" / p).num_rows for p in manifest["parquet"]) == manifest["rows"]
    for f in ("run.json", "summary.json", "deliveries.csv"):  # as if killed before writing them
        (out / f).unlink()
    with open(out / "stream" / "deliveries.jsonl", "a") as f:
        f.write('{"request": "half a line')  # and in the middle of an append
    capsys.readouterr()
    assert main(["resume", str(out), "--no-progress"]) == 0
    assert "resumed from t=1.5 s" in capsys.readouterr().out
    assert results(out) == uninterrupted
    lines = (out / "stream" / "deliveries.jsonl").read_text().splitlines()  # the half line cut off, none doubled
    assert [json.loads(line) for line in lines] == streamed
    assert sorted(p.name for p in (out / "checkpoints").glob("*.qckpt")) == names  # the run's interval: none new
    # an older checkpoint, by file, to the same end
    (out / "run.json").unlink()
    assert main(["resume", str(out / "checkpoints" / names[0]), "--no-progress"]) == 0
    assert results(out) == uninterrupted


def test_a_fork_writes_its_own_folder_and_refuses_one_with_results(tmp_path, uninterrupted):
    out = tmp_path / "part"
    assert main(["run", str(METRO), "--out", str(out), "--no-progress", "--checkpoint-every", "1s"]) == 0
    fork = tmp_path / "fork"
    assert main(["fork", str(out), "--routing", "fewest-hops", "--out", str(fork), "--no-progress"]) == 0
    assert (fork / "run.json").exists() and results(out) == uninterrupted  # the original is untouched
    assert main(["fork", str(out), "--routing", "fewest-hops", "--out", str(fork), "--no-progress"]) == 2
    assert main(["fork", str(out), "--routing", "no-such", "--out", str(tmp_path / "f2"), "--no-progress"]) == 2


def test_resume_refuses_a_changed_scenario_and_a_folder_without_checkpoints(tmp_path, capsys):
    scenario = tmp_path / "metro.toml"
    shutil.copy(METRO, scenario)
    out = tmp_path / "part"
    assert main(["run", str(scenario), "--out", str(out), "--no-progress", "--checkpoint-every", "1s"]) == 0
    scenario.write_text(scenario.read_text().replace("seed = 1", "seed = 2"))
    capsys.readouterr()
    assert main(["resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "metro.toml" in err and "has changed since checkpoint" in err
    assert main(["resume", str(tmp_path / "nothing-here"), "--no-progress"]) == 2
    assert "nothing-here' cannot be read: No such file" in capsys.readouterr().err


def test_checkpoint_every_needs_a_duration_with_a_unit(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", str(METRO), "--out", str(tmp_path), "--checkpoint-every", "100"])
    assert "expected a positive duration with a unit" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_minus_9_of_the_driver_keeps_the_stream_and_resume_finishes_the_run(tmp_path):
    """europe-backbone (3718 nodes) as a separate process, killed with SIGKILL once its first
    checkpoint and stream are on disk; resume then ends with the uninterrupted run's results."""
    import signal
    import subprocess
    import sys
    import time
    scenario = ROOT / "scenarios" / "europe-backbone.toml"
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["run", str(scenario), "--out", str(full), "--no-progress"]) == 0
    cli = "import sys; from qactors.cli import main; sys.exit(main())"
    proc = subprocess.Popen([sys.executable, "-c", cli, "run", str(scenario), "--out", str(part),
                             "--no-progress", "--checkpoint-every", "250ms"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    manifest = part / "stream" / "stream.json"
    deadline = time.time() + 600
    while not manifest.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
    assert manifest.exists() and not (part / "run.json").exists()  # killed mid-run, the stream on disk
    assert main(["resume", str(part), "--no-progress"]) == 0
    assert results(part) == results(full)
    rows = (part / "stream" / "deliveries.jsonl").read_text().splitlines()
    assert len(rows) == json.loads(manifest.read_text())["rows"]
