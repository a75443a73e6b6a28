"""Results that reach the disk while a run goes: the deliveries so far, at every checkpoint.

``qactors run --checkpoint-every DUR`` writes, beside each checkpoint, the delivery rows that are new
since the last one into ``<output folder>/stream/``:

* ``deliveries.jsonl``: one JSON object per delivery, the kind's delivery columns as keys
  (``request``, ``end``, ``time_ps``, ``fidelity``, ``pair_id`` for entanglement), appended;
* ``deliveries-<time_ps>.parquet``: the same rows, one file per checkpoint (with pyarrow installed);
* ``stream.json``: the manifest, replaced atomically after the rows are on disk: the checkpoint the
  rows belong to, its simulated time, the number of rows, the Parquet files.

Rows are written at checkpoints rather than at every synchronisation window so that what is on
disk always matches a state the run can be resumed from: after ``kill -9`` the manifest names the
newest checkpoint whose rows are all written, ``qactors resume`` goes on from there, and rows are
never written twice (a ``deliveries.jsonl`` line beyond the manifest's count, left by a crash in
the middle of an append, is cut off when the stream is opened again).
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path
from types import SimpleNamespace

__all__ = ["DeliveryStream", "STREAM_DIR"]

STREAM_DIR = "stream"


class DeliveryStream:
    """A checkpoint hook (:class:`~qactors.backends.checkpoint.CheckpointPlan` ``on_write``) that
    streams a scenario's delivery rows into ``folder``."""

    def __init__(self, scenario, folder: str | os.PathLike):
        self.scenario = scenario
        self.columns = scenario.spec.delivery_columns
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.folder / "deliveries.jsonl"
        self.manifest_path = self.folder / "stream.json"
        self.manifest = {"rows": 0, "parquet": [], "columns": list(self.columns)}
        self.seen: collections.Counter = collections.Counter()
        self._reopen()

    def _reopen(self) -> None:
        """Take up a stream an earlier (perhaps killed) run left: keep the rows its manifest counts."""
        if not self.manifest_path.exists():
            if self.jsonl.exists():
                self.jsonl.unlink()
            return
        self.manifest = json.loads(self.manifest_path.read_text())
        keep, size = self.manifest["rows"], 0
        if self.jsonl.exists():
            with open(self.jsonl, "rb") as f:
                for _ in range(keep):
                    line = f.readline()
                    if not line.endswith(b"\n"):
                        break
                    size += len(line)
                    self.seen[self._key(json.loads(line))] += 1
            with open(self.jsonl, "r+b") as f:
                f.truncate(size)

    def _key(self, record: dict) -> tuple:
        return tuple(_hashable(record[c]) for c in self.columns)

    def __call__(self, path: Path, ckpt) -> None:
        states = {a.id: a.state() for a in ckpt.actors}
        _, rows = self.scenario.spec.results(SimpleNamespace(states=states), self.scenario.requests)
        have = collections.Counter(self.seen)
        new = []
        for row in rows:
            key = tuple(_hashable(v) for v in row)
            if have[key]:
                have[key] -= 1
            else:
                new.append(row)
                self.seen[key] += 1
        if new:
            with open(self.jsonl, "a", encoding="utf-8") as f:
                for row in new:
                    f.write(json.dumps(dict(zip(self.columns, row))) + "\n")
                f.flush()
                os.fsync(f.fileno())
            part = self._parquet(new, ckpt.time_ps)
            if part is not None:
                self.manifest["parquet"].append(part)
        self.manifest.update({"checkpoint": Path(path).name, "time_ps": ckpt.time_ps,
                              "rows": self.manifest["rows"] + len(new), "columns": list(self.columns)})
        tmp = self.manifest_path.with_name(f".stream.json.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.manifest, indent=1))
        os.replace(tmp, self.manifest_path)

    def _parquet(self, rows: list, time_ps: int) -> str | None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:  # the stress extra is not installed: JSON Lines only
            return None
        table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(self.columns)})
        name = f"deliveries-{time_ps:020d}.parquet"
        tmp = self.folder / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.folder / name)
        return name


def _hashable(v):
    return tuple(_hashable(x) for x in v) if isinstance(v, (list, tuple)) else v
