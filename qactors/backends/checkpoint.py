"""Checkpoints: the whole state of a run at a consistent cut, written to disk and read back.

A checkpoint taken at time ``T`` holds every actor (its state, clock, sequence counter, cancelled
timers and random stream), every event not handled yet (each has a time >= ``T``: messages on
their way and timers), each actor's running digest trace, and the network's static description
(names, links, sites).  Nothing else is needed to go on: resuming from it handles the same events
in the same order as the run that wrote it, so it ends with the same digest and states, on any
backend and shard count (a Ray run's checkpoint gathers its shards' kernels and the batches in
flight between them, which is what makes a window boundary a consistent cut).

On disk a checkpoint is one file, ``ckpt-<time_ps>.qckpt``: a short JSON header line (format
version, time, seed, sizes, the run's own metadata) and then a pickle of the contents.  Files are
written to a temporary name, flushed and renamed, so a run killed while writing leaves the
previous checkpoint whole; ``latest.json`` beside them names the newest and is replaced the same
way.  Pickle runs code of the classes it names when read back: load only checkpoints you wrote.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
from pathlib import Path
from typing import Any, Callable

from ..core.errors import ConfigurationError
from ..core.network import Network

__all__ = ["Checkpoint", "CheckpointPlan", "write_checkpoint", "read_checkpoint", "latest_checkpoint",
           "FORMAT_VERSION", "SUFFIX"]

FORMAT_VERSION = 1
SUFFIX = ".qckpt"
_MAGIC = "qactors-checkpoint"


@dataclasses.dataclass
class Checkpoint:
    """A run's whole state at ``time_ps`` (every event before it handled, none at or after).

    ``actors`` are in network order; ``pending`` are kernel heap entries ``(time_ps, dst, src, seq,
    message)``; ``trace`` each actor's running digest hash; ``events`` and ``windows`` the counts so
    far; ``meta`` what the writer wants kept (the scenario file, the backend, ...)."""

    time_ps: int
    until_ps: int
    seed: int
    record_digest: bool
    names: list[str]
    adjacency: list[dict[int, int]]
    sites: list[str]
    actors: list
    pending: list
    trace: list[int]
    events: int
    windows: int = 0
    meta: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def gather(cls, parts, *, names, adjacency, sites, time_ps: int, until_ps: int, seed: int, record_digest: bool,
               events: int, windows: int = 0, in_flight=()) -> "Checkpoint":
        """A checkpoint from kernels' parts (``(actors by index, heap entries, traces by index)``, as
        :meth:`~qactors.core.kernel.Kernel.snapshot` gives them) and the events in flight between
        kernels (heap entries), whichever process held them."""
        n = len(names)
        actors: list = [None] * n
        trace = [0] * n
        pending: list = list(in_flight)
        for mine, heap, traces in parts:
            for i, a in mine.items():
                actors[i] = a
            for i, h in traces.items():
                trace[i] = h
            pending.extend(heap)
        pending.sort(key=lambda e: e[:4])
        return cls(time_ps=time_ps, until_ps=until_ps, seed=seed, record_digest=record_digest, names=list(names),
                   adjacency=adjacency, sites=list(sites), actors=actors, pending=pending, trace=trace,
                   events=events, windows=windows)

    def network(self) -> Network:
        """A Network of the checkpoint's actors, as they are at ``time_ps`` (for inspection)."""
        net = Network()
        net.actors, net.sites, net.adjacency = list(self.actors), list(self.sites), self.adjacency
        net.index = {n: i for i, n in enumerate(self.names)}
        return net

    def actor(self, actor_id: str):
        """The actor called ``actor_id`` (KeyError naming what exists if there is none)."""
        for a in self.actors:
            if a.id == actor_id:
                return a
        raise KeyError(f"no actor {actor_id!r} in the checkpoint at t={self.time_ps} ps "
                       f"({len(self.actors)} actors, e.g. {', '.join(self.names[:5])})")


@dataclasses.dataclass(frozen=True)
class CheckpointPlan:
    """Where and how often a run writes checkpoints: every ``every_ps`` of simulated time (at the
    first window boundary at or after each multiple) into ``directory``, keeping the newest
    ``keep`` files; ``meta`` goes into each.  ``on_write(path, checkpoint)`` is told of each."""

    directory: Path
    every_ps: int
    keep: int = 2
    meta: dict = dataclasses.field(default_factory=dict)
    on_write: Callable[[Path, Checkpoint], None] | None = None

    def __post_init__(self):
        if type(self.every_ps) is not int or self.every_ps <= 0:
            raise ConfigurationError(f"checkpoint interval must be a positive int of picoseconds, got "
                                     f"{self.every_ps!r}", field="checkpoint_every", value=self.every_ps)
        if type(self.keep) is not int or self.keep < 1:
            raise ConfigurationError(f"checkpoints to keep must be an int >= 1, got {self.keep!r}",
                                     field="checkpoint_keep", value=self.keep)
        object.__setattr__(self, "directory", Path(self.directory))

    def prepare(self) -> None:
        """Create the folder (before anything runs), failing with a message that names it."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise ConfigurationError(f"checkpoint folder {str(self.directory)!r} cannot be written: "
                                     f"{e.strerror or e}", field="checkpoint_dir", value=str(self.directory)) from None

    def due(self, last_ps: int) -> int:
        """The next checkpoint time after one at ``last_ps``."""
        return (last_ps // self.every_ps + 1) * self.every_ps

    def write(self, ckpt: Checkpoint) -> Path:
        ckpt.meta = {**self.meta, **ckpt.meta}
        path = write_checkpoint(self.directory, ckpt)
        old = sorted(self.directory.glob(f"ckpt-*{SUFFIX}"), key=_time_of)
        for stale in old[:-self.keep]:
            try:
                stale.unlink()
            except OSError:
                pass
        if self.on_write is not None:
            self.on_write(path, ckpt)
        return path


def _time_of(path: Path) -> int:
    try:
        return int(path.name[len("ckpt-"):-len(SUFFIX)])
    except ValueError:
        return -1


def _atomic_write(path: Path, chunks) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_checkpoint(directory: str | os.PathLike, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` as ``ckpt-<time_ps>.qckpt`` in ``directory`` and point ``latest.json`` at it."""
    directory = Path(directory)
    path = directory / f"ckpt-{ckpt.time_ps:020d}{SUFFIX}"
    header = {"format": _MAGIC, "version": FORMAT_VERSION, "time_ps": ckpt.time_ps, "until_ps": ckpt.until_ps,
              "seed": ckpt.seed, "actors": len(ckpt.actors), "pending": len(ckpt.pending), "events": ckpt.events,
              "meta": _jsonable(ckpt.meta)}
    body = pickle.dumps(ckpt, protocol=pickle.HIGHEST_PROTOCOL)
    _atomic_write(path, [json.dumps(header).encode() + b"\n", body])
    _atomic_write(directory / "latest.json", [json.dumps({**header, "file": path.name}, indent=1).encode()])
    return path


def _jsonable(meta: dict) -> dict:
    return json.loads(json.dumps(meta, default=str))


def latest_checkpoint(directory: str | os.PathLike) -> Path:
    """The newest checkpoint file in ``directory`` (a run's checkpoint folder or its output folder)."""
    directory = Path(directory)
    for candidate in (directory, directory / "checkpoints"):
        found = sorted(candidate.glob(f"ckpt-*{SUFFIX}"), key=_time_of) if candidate.is_dir() else []
        if found:
            return found[-1]
    raise ConfigurationError(f"no checkpoint ({'ckpt-*' + SUFFIX}) in {str(directory)!r} or its checkpoints/ "
                             f"folder; write them with qactors run --checkpoint-every", field="checkpoint",
                             value=str(directory))


def read_header(path: str | os.PathLike) -> dict:
    """The JSON header of a checkpoint file, checked (cheap: the pickle is not read)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            line = f.readline(1 << 20)
    except OSError as e:
        raise ConfigurationError(f"checkpoint {str(path)!r} cannot be read: {e.strerror or e}",
                                 field="checkpoint", value=str(path)) from None
    try:
        header = json.loads(line)
        ok = header.get("format") == _MAGIC
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        raise ConfigurationError(f"{str(path)!r} is not a qactors checkpoint (its first line is not a checkpoint "
                                 f"header)", field="checkpoint", value=str(path))
    if header.get("version") != FORMAT_VERSION:
        raise ConfigurationError(f"checkpoint {str(path)!r} has format version {header.get('version')!r}; this "
                                 f"qactors reads version {FORMAT_VERSION}", field="checkpoint", value=str(path))
    return header


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint file, or the newest one in a folder."""
    path = Path(path)
    if path.is_dir():
        path = latest_checkpoint(path)
    read_header(path)
    with open(path, "rb") as f:
        f.readline(1 << 20)
        try:
            ckpt = pickle.load(f)
        except Exception as e:  # a truncated or foreign file: say which
            raise ConfigurationError(f"checkpoint {str(path)!r} is damaged or was written by incompatible code: "
                                     f"{type(e).__name__}: {e}", field="checkpoint", value=str(path)) from None
    if not isinstance(ckpt, Checkpoint):
        raise ConfigurationError(f"checkpoint {str(path)!r} holds a {type(ckpt).__name__}, not a Checkpoint",
                                 field="checkpoint", value=str(path))
    return ckpt


def prepare_resume(ckpt: Checkpoint, until_ps: int | None, checkpoints: CheckpointPlan | None, copy: bool,
                   change: Callable[[dict[str, Any]], None] | None) -> tuple[Checkpoint, int]:
    """What every backend's ``resume`` does first: check the end time (default: the end of the run
    that wrote ``ckpt``) and the checkpoint folder, copy the checkpoint unless told it is spare
    (``copy=False``: just read from disk), and let ``change(actors_by_id)`` alter actors (a fork)."""
    until = ckpt.until_ps if until_ps is None else until_ps
    if type(until) is not int or until <= ckpt.time_ps:
        raise ConfigurationError(f"until_ps must be an int after the checkpoint's time {ckpt.time_ps} ps, "
                                 f"got {until!r}", field="until_ps", value=until)
    if change is not None and not callable(change):
        raise ConfigurationError(f"change must be a callable taking the actors by id, got {change!r}",
                                 field="change", value=change)
    if checkpoints is not None:
        checkpoints.prepare()
    if copy:
        ckpt = pickle.loads(pickle.dumps(ckpt, protocol=pickle.HIGHEST_PROTOCOL))
    if change is not None:
        change({a.id: a for a in ckpt.actors})
    return ckpt, until
