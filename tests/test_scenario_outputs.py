"""No result is ever lost: the output folder is checked before the run, files land whole or not at all,
two writers never mix, --overwrite replaces the whole set, paths in a file stay in its folder."""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest
from scenario_text import BASE, edit, only, problems, write

import qactors.scenario.outputs as outputs
from qactors.cli import main
from qactors.scenario import OUTPUT_FILES, Scenario, ScenarioError, run_scenario, write_outputs

SHORT = edit("duration_ms = 100", "duration_ms = 30").replace("start_ms = 40", "start_ms = 10")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_folder_that_cannot_be_created_is_refused_before_the_run(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    (tmp_path / "plain-file").write_text("not a folder")
    assert main(["run", str(path), "--out", str(tmp_path / "plain-file" / "results"), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "is a file" in captured.err and "events in" not in captured.out  # refused before anything ran


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_the_run(tmp_path, capsys):
    path = write(tmp_path, SHORT)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert main(["run", str(path), "--out", str(locked / "out"), "--no-progress"]) == 2
        assert "cannot be written" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)


def test_a_write_error_is_clean_and_keeps_the_old_results(tmp_path, capsys, monkeypatch):
    path, out = write(tmp_path, SHORT), tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    before = {f: (out / f).read_bytes() for f in OUTPUT_FILES}
    capsys.readouterr()

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs.os, "fsync", full)  # the disk fills while the new results are written
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--overwrite", "--seed", "9"]) == 2
    captured = capsys.readouterr()
    assert "events in" in captured.out  # the summary was printed before the files were tried
    assert "No space left on device" in captured.err and "are kept as they were" in captured.err
    assert "Traceback" not in captured.err
    assert {f: (out / f).read_bytes() for f in OUTPUT_FILES} == before
    assert _leftovers(tmp_path) == [] and _leftovers(out) == []
    monkeypatch.undo()
    with pytest.raises(ScenarioError, match="nothing was written"):  # a new folder: nothing is left behind
        monkeypatch.setattr(outputs.os, "fsync", full)
        write_outputs(run_scenario(Scenario.from_toml(path, output_dir=tmp_path / "new")))
    assert not (tmp_path / "new").exists() and _leftovers(tmp_path) == []


def test_overwrite_replaces_the_whole_result_set(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(write(tmp_path, SHORT)), "--out", str(out), "--no-progress"]) == 0
    (out / "notes.txt").write_text("mine")  # the user's own file in the folder is left alone
    only_summary = SHORT + '\n[outputs]\nfiles = ["summary.json"]\n'
    assert main(["run", str(write(tmp_path, only_summary)), "--out", str(out), "--no-progress",
                 "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "summary.json"]
    out2 = tmp_path / "out2"  # a folder of results only is replaced as a whole
    assert main(["run", str(write(tmp_path, SHORT)), "--out", str(out2), "--no-progress"]) == 0
    assert main(["run", str(write(tmp_path, only_summary)), "--out", str(out2), "--no-progress",
                 "--overwrite"]) == 0
    assert sorted(p.name for p in out2.iterdir()) == ["summary.json"] and _leftovers(tmp_path) == []


def test_two_writers_to_one_folder_never_mix(tmp_path):
    path, out = write(tmp_path, SHORT), tmp_path / "out"
    runs = [run_scenario(Scenario.from_toml(path, output_dir=out).with_overrides(seed=seed)) for seed in (1, 2)]
    assert runs[0].result.digest != runs[1].result.digest
    for _ in range(5):  # both with --overwrite, at once: the folder ends with one run's whole set
        errors = []

        def writer(run):
            try:
                write_outputs(run, overwrite=True)
            except ScenarioError as err:  # lost the race to place its folder: kept aside, whole
                errors.append(err)

        threads = [threading.Thread(target=writer, args=(r,)) for r in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        summary = json.loads((out / "summary.json").read_text())
        meta = json.loads((out / "run.json").read_text())
        assert summary["seed"] == meta["seed"] and {r.scenario.seed: r.result.digest for r in runs}[
            meta["seed"]] == meta["digest"]
        for err in errors:
            assert "kept, whole, in" in str(err)
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("out-")]
    for folder in aside:
        assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
    assert _leftovers(tmp_path) == []


def test_results_that_arrive_during_a_run_are_not_replaced(tmp_path):
    path, out = write(tmp_path, SHORT), tmp_path / "out"
    first, second = (run_scenario(Scenario.from_toml(path, output_dir=out).with_overrides(seed=s)) for s in (1, 2))
    write_outputs(first)  # another run got there first
    with pytest.raises(ScenarioError) as info:
        write_outputs(second)
    kept = Path(str(info.value).split("kept, whole, in '")[1].split("'")[0])
    assert json.loads((kept / "run.json").read_text())["digest"] == second.result.digest
    assert json.loads((out / "run.json").read_text())["digest"] == first.result.digest


def test_paths_in_a_file_stay_in_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = write(tmp_path, SHORT + '\n[outputs]\ndir = "res/here"\n', "sc/s.toml")
    assert Scenario.from_toml(inside).output_dir == tmp_path / "sc" / "res" / "here"  # relative to the file
    only(problems(tmp_path, SHORT + '\n[outputs]\ndir = "../elsewhere"\n'), "outputs.dir", "../elsewhere",
         "leaves the scenario's folder", "--allow-outside-paths")
    only(problems(tmp_path, SHORT + f'\n[outputs]\ndir = "{tmp_path / "abs"}"\n'), "outputs.dir",
         str(tmp_path / "abs"), "is an absolute path", "--allow-outside-paths")
    escaping = write(tmp_path, SHORT + '\n[outputs]\ndir = "../elsewhere"\n', "sc/t.toml")
    assert Scenario.from_toml(escaping, allow_outside=True).output_dir == tmp_path / "sc" / ".." / "elsewhere"
    assert Scenario.from_toml(escaping, output_dir="mine").output_dir == Path("mine")  # --out is the user's
    assert main(["check", str(escaping)]) == 2
    assert main(["check", str(escaping), "--allow-outside-paths"]) == 0


def test_the_summary_shows_what_each_application_made(tmp_path, capsys):
    text = BASE.replace('application = "bbm92"', 'application = "e91"').replace("pairs = 20", "pairs = 200")
    text = text.replace("duration_ms = 100", "duration_ms = 400")
    assert main(["run", str(write(tmp_path, text)), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    key = summary["requests"]["first"]["key"]
    row = next(line for line in printed.splitlines() if line.strip().startswith("first"))
    assert f"CHSH S {key['chsh']:.3f}" in row and f"QBER {key['qber']:.4f}" in row
    assert f"key {key['rate_bps']:.4g} bit/s" in row
    teleport = BASE.replace('application = "bbm92"', 'application = "teleport"')
    assert main(["run", str(write(tmp_path, teleport)), "--out", str(tmp_path / "t"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    fidelity = json.loads((tmp_path / "t" / "summary.json").read_text())["requests"]["first"]["teleport_fidelity"]
    assert f"teleport F {fidelity:.4f}" in printed
