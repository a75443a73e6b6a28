"""A run's results on disk and on screen, written so that none is ever lost or mixed with another run's.

* :func:`prepare_output_dir`, before the run: the folder can be written, and holds no earlier
  results unless they are to be replaced (``--overwrite``).
* :func:`write_outputs`, after it: every file is written into a uniquely named temporary folder
  beside the target, which then takes the target's place in one rename.  Two runs writing to one
  folder cannot interleave, and a crash leaves the old result set or the new one, never a mix.
  If another run's results got there first, this run's are kept in a folder of their own, named in
  the message.  An error while writing (disk full, read-only) is a :class:`ScenarioError` that
  says what was kept and where; the summary (:func:`format_summary`) is printed before.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from ..core.time import MS, format_ps
from .model import OUTPUT_FILES, Scenario
from .run import ScenarioRun
from .schema import Problem, ScenarioError, count, jsonable

__all__ = ["prepare_output_dir", "check_output_dir", "write_outputs", "format_summary", "render_outputs"]


def _error(scenario: Scenario, path: Path, message: str) -> ScenarioError:
    return ScenarioError([Problem(scenario.file, "outputs.dir", str(path), message)])


def prepare_output_dir(scenario: Scenario, *, overwrite: bool = False) -> Path:
    """Check, before a run, that its results can be written to ``scenario.output_dir``.

    Existing results are never replaced silently: if any result file (``summary.json``,
    ``deliveries.csv``, ``run.json``) is there, this raises unless ``overwrite`` is true
    (other files in the folder are never touched).  The folder, or the nearest folder above
    it that exists, must accept a new folder: this is tried (and undone) here.

    Raises:
        ScenarioError: the folder is a file, cannot be created or written, or holds results and
            ``overwrite`` is false.
    """
    return check_output_dir(scenario.output_dir, OUTPUT_FILES, overwrite=overwrite,
                            error=lambda path, message: _error(scenario, path, message))


def check_output_dir(out: Path, files: tuple, *, overwrite: bool, error, what: str = "results",
                     choose: str = "--out (or outputs.dir)") -> Path:
    """:func:`prepare_output_dir` for any set of result ``files``: ``error(path, message)`` makes the
    exception raised; ``what`` names the results and ``choose`` how to pick another folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise error(out, f"{str(out)!r} is a file; allowed: a folder (new or existing)")
    if out.is_dir():
        existing = [f for f in files if (out / f).exists()]
        if existing and not overwrite:
            raise error(out, f"{str(out)!r} already holds {what} ({', '.join(existing)}); allowed: a folder "
                        f"without them: choose another with {choose}, or pass --overwrite to replace them")
    base = out.parent if out.is_dir() else out
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise error(out, f"cannot be created: {str(base)!r} is a file; allowed: a folder path")
    try:
        probe = tempfile.mkdtemp(prefix=".qactors-probe-", dir=base)
        os.rmdir(probe)
    except OSError as err:
        raise error(out, f"cannot be written: {str(base)!r} refuses a new folder ({err.strerror or err}); "
                    f"allowed: a writable folder (choose another with --out)") from None
    return out


def render_outputs(run: ScenarioRun) -> dict[str, str]:
    """The text of each result file the scenario writes, by file name."""
    s, r = run.scenario, run.result
    spec = s.spec
    texts: dict[str, str] = {}
    points = run.points or ((None, run),)
    if "summary.json" in s.output_files:
        summary: dict[str, Any] = {"scenario": s.name, "simulated_ms": s.duration_ps / MS, "seed": s.seed}
        if run.points:
            summary["sweep"] = {"key": s.sweep_key, "points": [
                {"value": v, "simulated_ms": p.scenario.duration_ps / MS, spec.section: p.reports}
                for v, p in run.points]}
        else:
            summary[spec.section] = run.reports
        texts["summary.json"] = json.dumps(jsonable(summary), indent=2) + "\n"
    if "deliveries.csv" in s.output_files:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow((("sweep_value",) if run.points else ()) + spec.delivery_columns)
        for value, p in points:
            first = (repr(value),) if run.points else ()
            for row in p.deliveries:
                writer.writerow(first + spec.csv_row(row))
        texts["deliveries.csv"] = buf.getvalue()
    if "run.json" in s.output_files:
        from .. import __version__
        texts["run.json"] = json.dumps(jsonable({
            "qactors": __version__, "scenario_file": str(Path(s.file).resolve()) if s.sha256 else s.file,
            "scenario_sha256": s.sha256, "settings": list(s.settings), "seed": s.seed, "backend": s.backend, "ran_on": r.backend,
            "shards": r.shards, "until_ps": r.until_ps, "events": r.events, "digest": r.digest,
            "wall_s": round(r.wall_s, 6), "windows": r.windows,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "topology": {"nodes": s.graph.number_of_nodes(), "links": s.graph.number_of_edges(),
                         "notes": list(s.notes)},
            "scenario": s.resolved,
            **({"points": [{"value": v, "digest": p.result.digest, "events": p.result.events,
                            "wall_s": round(p.result.wall_s, 6)} for v, p in run.points]} if run.points else {})}),
            indent=2) + "\n"
    return texts


def write_outputs(run: ScenarioRun, *, overwrite: bool = False) -> list[Path]:
    """Write the run's results into its scenario's output folder, replacing the whole result set of an
    earlier run only if ``overwrite`` (see the module's description).  Returns the paths written.

    Raises:
        ScenarioError: the results cannot be written; the message says what was kept and where.
    """
    s = run.scenario
    texts = render_outputs(run)
    if not texts:
        return []
    out = s.output_dir
    tmp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        for name, text in texts.items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        final = _place(tmp, out, overwrite)
    except OSError as err:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        kept = (f"the results already in {str(out)!r} are kept as they were" if out.is_dir() and any(
            (out / f).exists() for f in OUTPUT_FILES) else f"nothing was written to {str(out)!r}")
        raise _error(s, out, f"cannot write the results ({err.strerror or err}); {kept}; the run's summary is "
                     f"the one printed above: run again with --out set to a writable folder") from None
    tmp = None
    if final != out:
        raise _error(s, out, f"another run wrote its results to {str(out)!r} while this one ran; this run's results "
                     f"are kept, whole, in {str(final)!r}")
    return [out / name for name in texts]


def _place(tmp: Path, out: Path, overwrite: bool) -> Path:
    """Move the finished folder ``tmp`` to ``out`` (see the module's description); returns where it went."""
    if not out.exists():
        try:
            os.rename(tmp, out)
            return out
        except OSError:
            if not out.is_dir():
                raise
    held = [f for f in OUTPUT_FILES if (out / f).exists()]
    if held and not overwrite:  # another run got there first: keep this one's results beside them
        return _aside(tmp, out)
    others = [p for p in out.iterdir() if p.name not in OUTPUT_FILES]
    if not others:  # a folder of results only: swap whole folders, so readers see one set or the other
        old = out.parent / f".{out.name}.{secrets.token_hex(4)}.old"
        try:
            os.rename(out, old)
        except FileNotFoundError:
            pass
        try:
            os.rename(tmp, out)
        except OSError:
            if not out.exists():  # not a race: put the old results back, report the error
                if old.exists():
                    os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)  # another run's set took the place of the one to replace
            return _aside(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return out
    # the folder holds the user's own files too: leave them, replace the result set file by file
    for f in held:
        if not (tmp / f).exists():
            (out / f).unlink()
    for p in tmp.iterdir():
        os.replace(p, out / p.name)
    tmp.rmdir()
    return out


def _aside(tmp: Path, out: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    final = out.parent / f"{out.name}-{stamp}-{secrets.token_hex(2)}"
    os.rename(tmp, final)
    return final


def format_summary(run: ScenarioRun) -> str:
    """A short table, one row per request: route, outcome, pairs, rate, fidelity, what the application made
    of the pairs (for a sweep, one such table per point)."""
    if run.points:
        return "\n".join([f"{run.scenario.name}: sweep of {run.scenario.sweep_key} over {len(run.points)} values"] + [
            f"[{run.scenario.sweep_key} = {v!r}] " + format_summary(p) for v, p in run.points])
    s, r = run.scenario, run.result
    spec = s.spec
    head = (f"{s.name}: {count(s.graph.number_of_nodes(), 'node')}, {count(s.graph.number_of_edges(), spec.link_word)}; "
            f"{format_ps(s.duration_ps)} simulated on the {r.backend} backend ({count(r.shards, 'shard')}), "
            f"seed {s.seed}, {r.events:,} events in {r.wall_s:.2f} s")
    table = spec.rows(s, run.reports)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [head] + [f"  {'  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()}" for row in table]
    return "\n".join(lines + [f"  digest {r.digest}"] + [f"  note: {n}" for n in s.notes])
