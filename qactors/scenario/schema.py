"""The generic part of reading a scenario file: its TOML, what each key accepts, and the problems found.

:class:`Checker` checks tables against :class:`Key` specifications and collects
every mistake as a :class:`Problem` (file, key path, value, what is allowed);
:class:`ScenarioError` raises them together.  The scenario kinds
(:mod:`qactors.scenario.kinds`) and the topology section declare their keys with
these specifications.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from ..core import checks
from ..core.errors import ConfigurationError

__all__ = ["Problem", "ScenarioError", "Key", "Checker", "REQUIRED", "BAD", "num", "choice", "good", "show",
           "closest", "toml_type", "jsonable", "count", "read_toml", "MAX_DEPTH"]

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
BACKEND = re.compile(r"(local|ray|ray-per-actor|ray:[1-9][0-9]{0,5})\Z")
MAX_DEPTH = 32
"""Tables and arrays in a scenario file nest at most this deep (a scenario needs four levels)."""


# -- errors -----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Problem:
    """One mistake in a scenario.

    ``key`` is the key path (``requests[2].purification.target_fidelity``; array
    indices count from 0 in the order the ``[[...]]`` blocks appear), empty for
    a problem with the file itself; ``line``/``column`` are set for TOML syntax
    errors.  ``str(problem)`` is ``"FILE: KEY: MESSAGE"``."""

    file: str
    key: str
    value: Any
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ScenarioError(ConfigurationError):
    """A scenario file is invalid; ``problems`` lists every mistake found (nothing has run).

    ``file``, ``field`` and ``value`` are those of the first problem."""

    def __init__(self, problems: list[Problem]):
        problems = list(problems)
        first = problems[0]
        head = f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in scenario {first.file}"
        super().__init__("\n  ".join([head + ":"] + [str(p) for p in problems]), problems=problems,
                         file=first.file, field=first.key, value=first.value)


# -- what a key accepts ------------------------------------------------------------------------

REQUIRED = object()
BAD = object()  # a value that failed its check: later checks that need it are skipped


@dataclasses.dataclass(frozen=True)
class Key:
    """What one key accepts: its kind, default (``REQUIRED`` if it must be given), range and choices."""

    kind: str  # "str", "id", "name", "int", "number", "pair", "seconds", "bool", "strs", "backend", "table", "tables"
    default: Any = None
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    choices: tuple = ()
    text: str = ""  # what is allowed, when the kind alone does not say it
    unit_ps: float = 0.0  # a time in units of this many ps: it must fit the clock and (if low_open) not round to 0
    unit: str = ""  # the unit's name, for messages about unit_ps

    def allowed(self) -> str:
        if self.text:
            return self.text
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
            return text if self.kind != "strs" else "a list of " + text[7:]
        if self.kind in ("int", "number", "seconds", "pair"):
            what = "an integer" if self.kind == "int" else "a finite number"
            if self.low is not None and self.high is not None:
                lo, hi = "(" if self.low_open else "[", ")" if self.high_open else "]"
                text = f"{what} in {lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"
            elif self.low is not None:
                text = f"{what} {'>' if self.low_open else '>='} {_fmt(self.low)}"
            else:
                text = what
            if self.kind == "pair":
                return f"{text}, or an array of two such numbers (one per end of the link)"
            return text + (' or "inf" (no decay)' if self.kind == "seconds" else "")
        return {"str": "a string", "id": "a non-empty string", "name": "a name of letters, digits, '.', '_' and '-' (it names the output "
                "folder)", "bool": "true or false", "strs": "a list of strings", "table": "a table",
                "tables": "an array of tables ([[...]])",
                "backend": "one of 'local', 'ray', 'ray:K' (K shards, K >= 1), 'ray-per-actor'"}[self.kind]


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def num(default=None, **kw) -> Key:
    return Key("number", default, **kw)


def choice(default, choices) -> Key:
    return Key("str", default, choices=tuple(choices))


def toml_type(value: object) -> str:
    for t, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"), (list, "array"),
                    (dict, "table")):
        if isinstance(value, t):
            return name
    return type(value).__name__


def show(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def closest(word: str, options) -> str:
    """`` (did you mean 'x'?)`` for the option most like ``word`` (letter case ignored), if any is close."""
    by_folded = {}
    for o in map(str, options):
        by_folded.setdefault(o.casefold(), o)
    match = difflib.get_close_matches(str(word).casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[match[0]]!r}?)" if match else ""


class Checker:
    """Collects problems while it checks tables against their keys."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, key: str, value: object, message: str) -> None:
        self.problems.append(Problem(self.file, key, value, message))

    def bad(self, key: str, value: object, allowed: str, why: str = "is not allowed") -> None:
        self.add(key, value, f"{show(value)} {why}; allowed: {allowed}")

    def value(self, path: str, value: object, spec: Key) -> object:
        """``value`` checked against ``spec`` (ints become floats for numbers, "inf" becomes math.inf)."""
        kind = spec.kind
        ok = True
        if kind in ("str", "id", "name", "backend"):
            ok = isinstance(value, str) and value != ""
            if ok and kind == "id" and (not value.strip() or any(unicodedata.category(c).startswith("C")
                                                                 for c in value)):
                self.bad(path, value, spec.allowed() + " of printable characters, not only spaces")
                return BAD
            if ok and spec.choices and value not in spec.choices:
                self.bad(path, value, spec.allowed() + closest(value, spec.choices))
                return BAD
            ok = ok and (kind != "name" or bool(NAME.match(value))) and (
                kind != "backend" or bool(BACKEND.match(value)))
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "strs":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            if ok and spec.choices:
                wrong = [v for v in value if v not in spec.choices]
                if wrong:
                    self.bad(path, wrong[0], spec.allowed() + closest(wrong[0], spec.choices))
                    return BAD
        elif kind == "table":
            ok = isinstance(value, dict)
        elif kind == "tables":
            ok = isinstance(value, list) and all(isinstance(v, dict) for v in value)
        elif kind == "pair" and isinstance(value, list):
            if len(value) != 2:
                self.bad(path, value, spec.allowed(), f"has {len(value)} entries")
                return BAD
            pair = [self.value(f"{path}[{i}]", v, dataclasses.replace(spec, kind="number")) for i, v in
                    enumerate(value)]
            return BAD if not good(*pair) else pair
        elif kind in ("int", "number", "seconds", "pair"):
            if kind == "seconds" and (value == "inf" or (isinstance(value, float) and value == math.inf)):
                return math.inf
            if isinstance(value, bool) or not isinstance(value, (int, float) if kind != "int" else int):
                ok = False
            elif kind != "int" and not _finite(value):
                self.bad(path, value, spec.allowed())
                return BAD
            else:
                lo_ok = spec.low is None or (value > spec.low if spec.low_open else value >= spec.low)
                hi_ok = spec.high is None or (value < spec.high if spec.high_open else value <= spec.high)
                if not (lo_ok and hi_ok):
                    self.bad(path, value, spec.allowed(), "is out of range")
                    return BAD
                wrong = spec.unit_ps and checks.off_the_clock(value, spec.unit_ps, zero=not spec.low_open,
                                                              unit=spec.unit)
                if wrong:
                    self.bad(path, value, wrong, "is out of range")
                    return BAD
                return value if kind == "int" else float(value)
        if not ok:
            wrong_type = kind in ("int", "number", "pair", "seconds", "bool", "table", "tables", "strs") or not isinstance(
                value, str)
            why = f"({toml_type(value)}) has the wrong type" if wrong_type else "is not allowed"
            self.bad(path, value, spec.allowed(), why)
            return BAD
        return value

    def table(self, path: str, data: dict, keys: dict[str, Key], unsupported: dict[str, str] | None = None,
              foreign: dict[str, str] | None = None) -> dict:
        """Every key of ``data`` checked: unknown and missing keys reported, defaults filled in.

        ``unsupported``: keys that cannot be expressed, with the reason; ``foreign``: keys that belong to
        another kind of table, with what is allowed instead."""
        out: dict[str, Any] = {}
        unsupported = unsupported or {}
        foreign = foreign or {}
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if key in foreign and key not in keys:
                self.add(where, value, f"{show(value)} {foreign[key]}")
            elif key in unsupported:
                self.add(where, value, f"{show(value)} cannot be expressed: {unsupported[key]}; allowed keys: "
                         f"{', '.join(keys)}")
            elif key not in keys:
                self.add(where, value, f"unknown key, set to {show(value)}{closest(key, keys)}; allowed keys: "
                         f"{', '.join(keys)}")
            else:
                out[key] = self.value(where, value, keys[key])
        for key, spec in keys.items():
            if key not in data:
                if spec.default is REQUIRED:
                    where = f"{path}.{key}" if path else key
                    self.add(where, None, f"is missing; required: {spec.allowed()}")
                    out[key] = BAD
                else:
                    out[key] = spec.default
        return out


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def good(*values) -> bool:
    return all(v is not BAD for v in values)


def read_toml(path) -> tuple[dict, str]:
    """The tables of the TOML file at ``path`` and the SHA-256 of its bytes.

    Raises:
        ScenarioError: the file cannot be read, is not UTF-8, is not TOML (the problem has its line and
            column) or nests its tables and arrays deeper than :data:`MAX_DEPTH`.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ScenarioError([Problem(file, "", file, f"cannot read the scenario file ({err.strerror or err}); "
                             f"allowed: the path of a readable TOML file")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ScenarioError([Problem(file, "", None, f"not UTF-8 text ({err.reason} at byte {err.start}); "
                             f"allowed: a UTF-8 TOML file")]) from None
    except tomllib.TOMLDecodeError as err:
        text = str(err)
        at = re.search(r"\(at line (\d+), column (\d+)\)", text)
        line, column = (int(at.group(1)), int(at.group(2))) if at else (None, None)
        message = text[:at.start()].strip() if at else text
        raise ScenarioError([Problem(file, "", None, f"TOML syntax error: {message}; allowed: TOML 1.0 "
                             f"(https://toml.io)", line, column)]) from None
    except RecursionError:
        raise ScenarioError([Problem(file, "", None, f"nests arrays or tables too deeply to read; allowed: at "
                             f"most {MAX_DEPTH} levels")]) from None
    check_depth(file, data)
    return data, hashlib.sha256(raw).hexdigest()


def check_depth(file: str, data: object) -> None:
    """Refuse values nested deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack = [(data, 0, "")]
    while stack:
        value, depth, key = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError([Problem(file, key, None, f"nests arrays or tables {MAX_DEPTH + 1} or more levels "
                                 f"deep; allowed: at most {MAX_DEPTH} levels")])
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{key}.{k}" if key else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{key}[{i}]") for i, v in enumerate(value))


def count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def jsonable(x: Any) -> Any:
    """Plain JSON values: NaN becomes null, infinities "inf"/"-inf", dataclasses (KeyRate) tables
    with their derived figures, tuples lists."""
    if isinstance(x, float):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "as_dict"):  # KeyRate: fields and derived figures
        return jsonable(x.as_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, Path):
        return str(x)
    return x

