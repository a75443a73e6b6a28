"""``[sweep]``: one key of a scenario set to each of several values, every point checked as a whole scenario."""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from .model import Builder, Scenario
from .schema import REQUIRED, Checker, Key, ScenarioError, good, show, toml_type

__all__ = ["build_sweep", "MAX_POINTS", "with_value", "value_at"]

MAX_POINTS = 1000
"""The most values one sweep may have."""

_SWEEP = {"key": Key("str", REQUIRED, text="the key path of a number in this file, such as "
                       "'profiles.links.NAME.visibility' or 'requests[0].bsm_visibility'"),
          "values": Key("tables", REQUIRED, text="a non-empty array of numbers")}
_SEGMENT = re.compile(r"([A-Za-z0-9_.-]+?)((?:\[\d+\])*)\Z")


def with_value(data: dict, key: str, value: float) -> dict:
    """A deep copy of ``data`` with the value at key path ``key`` set (its parent must exist)."""
    out = copy.deepcopy(data)
    out.pop("sweep", None)
    _assign(out, key, value)
    return out


def _assign(data: dict, key: str, value: object) -> None:
    """Set the value at key path ``key`` of ``data`` in place; KeyError, IndexError or TypeError
    if its parent table is not in ``data``."""
    parts = _split_key(key)
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    if not isinstance(node, dict) or not isinstance(parts[-1], str):
        raise KeyError(key)
    node[parts[-1]] = value


SETTING = ("KEY=VALUE: a key path of the file (such as run.duration_ms or requests[0].pairs) whose table the "
           "file has, and a TOML value (20, 0.5, true, \"qcast\", [1, 2]; a bare word is a string)")


def apply_settings(data: dict, settings, file: str) -> None:
    """Apply ``qactors run --set KEY=VALUE`` settings to the file's tables, in order, in place.
    The scenario is then checked as if the file held them: a wrong value or an unknown key is
    reported by its key as usual.

    Raises:
        ScenarioError: a setting that is not KEY=VALUE, or whose key's table the file does not have.
    """
    ck = Checker(file)
    for text in settings:
        key, sep, raw = str(text).partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            ck.bad("--set", text, SETTING)
            continue
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word (run.backend=local): a string
        try:
            _assign(data, key, value)
        except (KeyError, IndexError, TypeError):
            ck.bad(f"--set {key}", raw, SETTING, why="cannot be set: the file has no table for that key path")
    if ck.problems:
        raise ScenarioError(ck.problems)


def value_at(data: dict, key: str) -> object:
    """The file's value at key path ``key``, or None if the file does not set it."""
    node: Any = data
    for part in _split_key(key):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _split_key(key: str) -> list:
    """``'requests[0].bsm_visibility'`` -> ``['requests', 0, 'bsm_visibility']``; profile names may hold
    dots only where the file's own tables do, so each dotted part is one table key."""
    parts: list = []
    for word in key.split("."):
        m = _SEGMENT.match(word)
        if not m:
            raise KeyError(key)
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def build_sweep(data: dict, file: str, base_dir: Path, sha256: str, allow_outside: bool = False,
                output_dir=None) -> Scenario:
    """A scenario with a ``[sweep]``: every point is checked as a whole scenario; the first is returned,
    carrying all of them in ``sweep``."""
    ck = Checker(file)
    sweep = data["sweep"]
    if not isinstance(sweep, dict):
        ck.bad("sweep", sweep, "a table [sweep] with key and values", f"({toml_type(sweep)}) has the wrong type")
        raise ScenarioError(ck.problems)
    given = {k: v for k, v in sweep.items() if k != "values"}
    spec = ck.table("sweep", given, {"key": _SWEEP["key"], "values": Key("tables", None)})
    values = sweep.get("values")
    if "values" not in sweep:
        ck.add("sweep.values", None, f"is missing; required: {_SWEEP['values'].allowed()}")
    elif not (isinstance(values, list) and values and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)):
        ck.bad("sweep.values", values, _SWEEP["values"].allowed(), "is not allowed")
    elif len(values) > MAX_POINTS:
        ck.bad("sweep.values", f"{len(values)} values", f"at most {MAX_POINTS} values (each is a whole run)",
               "are too many")
    elif len(set(values)) != len(values):
        ck.bad("sweep.values", values, "different values (each point is run once)", "repeats a value")
    key = spec["key"]
    if good(key):
        try:
            with_value(data, key, 0.0)
        except (KeyError, IndexError, TypeError):
            ck.bad("sweep.key", key, _SWEEP["key"].allowed() + " whose table or array exists in the file",
                   "does not name a place in this file")
        else:
            current = value_at(data, key)
            if current is not None and (isinstance(current, bool) or not isinstance(current, (int, float))):
                what = "a table" if isinstance(current, dict) else f"{show(current)}, a {toml_type(current)}"
                ck.bad("sweep.key", key, _SWEEP["key"].allowed() + f" (it names {what})", "does not name a number")
            elif key.split(".")[0] in ("scenario", "outputs", "sweep") or key in ("run.seed", "run.backend"):
                ck.bad("sweep.key", key, "a key of [run] (but seed or backend), [topology], [profiles] or "
                       "[[requests]]", "cannot be swept")
    if ck.problems:
        raise ScenarioError(ck.problems)
    points, problems = [], {}
    for i, value in enumerate(values):
        try:
            point = Builder(file, base_dir, allow_outside, output_dir).build(with_value(data, key, value), sha256)
        except ScenarioError as err:
            for p in err.problems:  # a mistake every point makes is reported once
                problems.setdefault((p.key, p.message), []).append((i, value, p))
            continue
        points.append((value, point))
    if problems:
        raise ScenarioError([
            p if len(at) == len(values) and len(values) > 1 else dataclasses.replace(
                p, message=f"{p.message} (at sweep point {key} = {value!r}, sweep.values[{i}])")
            for at in problems.values() for i, value, p in (at[:1] if len(at) == len(values) else at)])
    first = points[0][1]
    resolved = {**first.resolved, "sweep": {"key": key, "values": list(values)}}
    return dataclasses.replace(first, sweep_key=key, sweep=tuple(points), resolved=resolved)
