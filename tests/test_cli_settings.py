"""qactors run / check --set KEY=VALUE: a run with settings equals a run of the file edited by hand,
records them in run.json and its checkpoints (so resume rebuilds the same scenario), and a setting
that names no table of the file, or is not KEY=VALUE, is refused before anything is written."""

import json
import re
import shutil
from pathlib import Path

from qactors.cli import main

ROOT = Path(__file__).resolve().parents[1]
METRO = ROOT / "scenarios" / "metro-30.toml"
SETTINGS = ["--set", "run.duration_ms=700", "--set", "run.routing=fewest-hops"]


def results(folder: Path) -> tuple:
    run = json.loads((folder / "run.json").read_text())
    return run["digest"], run["events"], (folder / "deliveries.csv").read_text()


def edited_copy(tmp_path: Path) -> Path:
    text = METRO.read_text()
    text, n = re.subn(r"(?m)^duration_ms = 2000\b", "duration_ms = 700", text)
    assert n == 1
    text, n = re.subn(r'(?m)^\[run\]\n', '[run]\nrouting = "fewest-hops"\n', text)
    assert n == 1 and not re.search(r'(?m)^routing = "(?!fewest-hops)', text)  # the file sets no other routing
    copy = tmp_path / "metro-edited.toml"
    copy.write_text(text)
    return copy


def test_settings_give_the_run_of_the_edited_file_and_are_recorded(tmp_path):
    by_hand, by_set = tmp_path / "by-hand", tmp_path / "by-set"
    assert main(["run", str(edited_copy(tmp_path)), "--out", str(by_hand), "--no-progress"]) == 0
    assert main(["run", str(METRO), "--out", str(by_set), "--no-progress", *SETTINGS]) == 0
    assert results(by_set) == results(by_hand)
    run = json.loads((by_set / "run.json").read_text())
    assert run["settings"] == ["run.duration_ms=700", "run.routing=fewest-hops"]
    assert json.loads((by_hand / "run.json").read_text())["settings"] == []


def test_resume_applies_the_settings_of_the_run(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["run", str(METRO), "--out", str(full), "--no-progress", *SETTINGS]) == 0
    assert main(["run", str(METRO), "--out", str(part), "--no-progress", "--checkpoint-every", "300ms",
                 *SETTINGS]) == 0
    for f in ("run.json", "summary.json", "deliveries.csv"):  # as if killed before writing them
        (part / f).unlink()
    assert main(["resume", str(part), "--no-progress"]) == 0
    assert results(part) == results(full)


def test_bad_settings_are_refused_by_name_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(METRO), "--out", str(out), "--no-progress", "--set", "nothere.rate=5",
                 "--set", "no-equals-sign"]) == 2
    err = capsys.readouterr().err
    assert "metro-30.toml" in err and "--set nothere.rate: '5' cannot be set" in err
    assert "--set: 'no-equals-sign' is not allowed; allowed: KEY=VALUE" in err
    assert not out.exists()
    assert main(["check", str(METRO), "--set", "run.duration_ms=abc"]) == 2  # checked like the file
    assert "run.duration_ms: 'abc' (string) has the wrong type" in capsys.readouterr().err
    assert main(["check", str(METRO), "--set", "run.duration_ms=900"]) == 0
