"""A stress run's results on screen and on disk.

Files (in the output folder, ``results/<name>-stress`` by default):

* ``stress.csv``: the summary table, a row per (policy, load), each figure with ``_ci``, the
  half-width of its 95 % confidence interval over replicas;
* ``stress.json``: the plan, the summary rows and each policy's saturation load;
* ``requests.csv`` and ``requests.parquet``: every request of every run (Parquet needs pyarrow,
  ``pip install "qactors[stress]"``; without it the file is left out and the message says so);
* ``throughput.png`` (delivered pairs/s and the served fraction against load, per policy, with the
  intervals, the threshold and each saturation load) and
  ``latency-cdf.png`` (latency of served requests at the lowest and highest load, per policy);
  these need matplotlib (the same extra).

Results already in the folder are never replaced unless ``overwrite``; the files are written
beside it first and moved in one by one once all of them exist.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from pathlib import Path

from ..scenario.outputs import check_output_dir
from ..scenario.schema import Problem, ScenarioError, count, jsonable
from .harness import StressResult

__all__ = ["STRESS_FILES", "format_stress", "prepare_stress_dir", "write_stress", "default_dir"]

STRESS_FILES = ("stress.csv", "stress.json", "requests.csv", "requests.parquet", "throughput.png", "latency-cdf.png")

_SHOWN = (("served", "served", 3), ("pairs_per_s", "pairs/s", 4), ("latency_p50_ms", "p50 ms", 3),
          ("latency_p90_ms", "p90 ms", 3), ("latency_p99_ms", "p99 ms", 3), ("fidelity_mean", "F", 4),
          ("jain", "Jain", 3), ("memory_util", "mem", 2), ("link_util", "link", 2))


def default_dir(result_or_name) -> Path:
    name = result_or_name if isinstance(result_or_name, str) else result_or_name.plan.name
    return Path("results") / f"{name}-stress"


def _cell(mean: float, ci: float, digits: int) -> str:
    if math.isnan(mean):
        return "-"
    text = f"{mean:.{digits}g}"
    return text if math.isnan(ci) else f"{text} ±{ci:.2g}"


def format_stress(result: StressResult) -> str:
    """The summary as aligned text (mean ± 95 % half-width over replicas), then each policy's saturation load."""
    p, t = result.plan, result.summary
    faults = bool(p.fault_times_ps)
    shown = list(_SHOWN) + ([("pps_before_fault", "pps pre-fault", 3), ("pps_after_fault", "pps post-fault", 3)]
                            if faults else [])
    head = ["policy", p.load_key] + [label for _, label, _ in shown]
    cells = [head]
    for row in t.records():
        cells.append([row["policy"], f"{row['load']:g}"] + [_cell(row[k], row[f"{k}_ci"], d) for k, _, d in shown])
    widths = [max(len(r[j]) for r in cells) for j in range(len(head))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths)))
             for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"saturation load ({p.load_key} where the served fraction falls below {p.threshold:g}):")
    width = max(len(k) for k in result.saturation)
    for policy, s in result.saturation.items():
        lines.append(f"  {policy:<{width}}  {s['text']}")
    lines.append(f"({count(p.replicas, 'replica')} per point, ± = 95 % confidence half-width; latency of served "
                 f"requests, arrival to last pair; utilisation = fraction of slot-time)")
    return "\n".join(lines)


def _error(out: Path, message: str) -> ScenarioError:
    return ScenarioError([Problem("<stress>", "--out", str(out), message)])


def prepare_stress_dir(out: Path, *, overwrite: bool = False) -> Path:
    """Check, before running, that the results can be written to ``out`` (as
    :func:`~qactors.scenario.outputs.prepare_output_dir` does for a run) and replace nothing unless ``overwrite``.

    Raises:
        ScenarioError: ``out`` is a file, cannot be created or written, or holds results of an earlier stress
            run and ``overwrite`` is false.
    """
    return check_output_dir(out, STRESS_FILES, overwrite=overwrite, error=_error, what="stress results",
                            choose="--out")


def write_stress(result: StressResult, out: Path, *, overwrite: bool = False, plots: bool = True) -> tuple[list, list]:
    """Write the result files to ``out``; ``(written paths, notes)`` (a note for each file left out and why)."""
    out = prepare_stress_dir(Path(out), overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix=".stress-", dir=out))
    try:
        result.summary.to_csv(tmp / "stress.csv")
        p = result.plan
        doc = {"scenario": p.name, "file": p.file, "policies": list(p.policies), "load_key": p.load_key,
               "loads": list(p.loads), "replicas": p.replicas, "seed": p.seed, "threshold": p.threshold,
               "fault_window_ms": p.fault_window_ps / 1e9, "workers": result.workers,
               "saturation": result.saturation, "summary": result.summary.records()}
        (tmp / "stress.json").write_text(json.dumps(jsonable(doc), indent=1) + "\n")
        result.requests.to_csv(tmp / "requests.csv")
        try:
            _parquet(result, tmp / "requests.parquet")
        except ImportError:
            notes.append("requests.parquet left out: it needs pyarrow (pip install 'qactors[stress]')")
        if plots:
            try:
                _plots(result, tmp)
            except ImportError:
                notes.append("plots left out: they need matplotlib (pip install 'qactors[stress]')")
        written = []
        for name in STRESS_FILES:
            if (tmp / name).exists():
                (tmp / name).replace(out / name)
                written.append(out / name)
            elif overwrite and (out / name).exists():
                (out / name).unlink()  # an earlier run's file this run did not write: not left to mix with it
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written, notes


def _parquet(result: StressResult, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    t = result.requests
    columns = {c: t[c] for c in t.columns}
    pq.write_table(pa.table(columns), path)


def _plots(result: StressResult, folder: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    p, t = result.plan, result.summary
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    for i, policy in enumerate(p.policies):
        part = t.where(policy=policy)
        for axis, key in ((ax, "pairs_per_s"), (bx, "served")):
            ci = [0.0 if math.isnan(c) else c for c in part[f"{key}_ci"]]
            axis.errorbar(part["load"], part[key], yerr=ci, marker="o", capsize=3, color=f"C{i}", label=policy)
        s = result.saturation[policy]
        if s["bound"] == "between":
            bx.axvline(s["load"], color=f"C{i}", linestyle=":", linewidth=1)
    bx.axhline(p.threshold, color="grey", linestyle="--", linewidth=1, label=f"threshold {p.threshold:g}")
    for axis, label in ((ax, "delivered pairs / s"), (bx, "served fraction")):
        axis.set_xlabel(p.load_key)
        axis.set_ylabel(label)
        axis.legend(fontsize="small")
    ax.set_title("throughput")
    bx.set_title("served fraction (dotted: saturation load)")
    fig.suptitle(f"{p.name}: against load ({count(p.replicas, 'replica')}, 95 % CI)")
    fig.tight_layout()
    fig.savefig(folder / "throughput.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, policy in enumerate(p.policies):
        for load, style in ((p.loads[0], ":"), (p.loads[-1], "-")):
            xs = result.latencies(policy, load)
            if xs:
                ys = [(k + 1) / len(xs) for k in range(len(xs))]
                ax.step(xs, ys, where="post", linestyle=style, color=f"C{i}", label=f"{policy}, {load:g}")
    ax.set_xlabel("latency of served requests (ms)")
    ax.set_ylabel("fraction of served requests")
    ax.set_title(f"{p.name}: latency CDF at the lowest and highest load")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(folder / "latency-cdf.png", dpi=120)
    plt.close(fig)
