"""A small column table: what the stress harness returns to Python (``to_pandas()`` for a DataFrame)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["Table"]


class Table:
    """Rows of equal length under named columns.

    ``t["served"]`` is a column as a list, ``t.records()`` the rows as dicts, ``len(t)`` the
    number of rows, ``t.where(policy="shortest")`` the rows matching, ``t.to_pandas()`` a
    :class:`pandas.DataFrame` (pandas is not a dependency: install it to use this),
    ``t.to_csv(path)`` a CSV file, and ``print(t)`` aligned text."""

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]):
        self.columns = tuple(columns)
        for row in rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row of {len(row)} values for {len(self.columns)} columns: {row!r}")
        self.rows = [tuple(r) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.records())

    def __getitem__(self, column: str) -> list:
        try:
            i = self.columns.index(column)
        except ValueError:
            raise KeyError(f"no column {column!r}; the columns are {list(self.columns)}") from None
        return [r[i] for r in self.rows]

    def records(self) -> list[dict]:
        return [dict(zip(self.columns, r)) for r in self.rows]

    def where(self, **equal) -> "Table":
        """The rows whose columns have the given values."""
        idx = [(self.columns.index(k), v) for k, v in equal.items()]
        return Table(self.columns, [r for r in self.rows if all(r[i] == v for i, v in idx)])

    def to_pandas(self):
        try:
            import pandas
        except ImportError:
            raise ImportError("Table.to_pandas needs pandas (pip install pandas); records() gives the rows "
                              "as dicts without it") from None
        return pandas.DataFrame.from_records(self.rows, columns=list(self.columns))

    def to_csv(self, path: str | Path) -> Path:
        path = Path(path)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(self.columns)
            w.writerows(["" if isinstance(v, float) and math.isnan(v) else
                         repr(v) if isinstance(v, float) else v for v in r] for r in self.rows)
        return path

    def __repr__(self) -> str:
        return self.format()

    def format(self, columns: Sequence[str] | None = None, digits: int = 4) -> str:
        """Aligned text of ``columns`` (default all)."""
        columns = list(columns or self.columns)
        idx = [self.columns.index(c) for c in columns]

        def show(v: Any) -> str:
            if isinstance(v, float):
                return "-" if math.isnan(v) else f"{v:.{digits}g}"
            return str(v)
        cells = [columns] + [[show(r[i]) for i in idx] for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(columns))]
        return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells)
