"""Photon storage on actors: single photons sent through fibre into an absorptive memory,
held for a storage time, read out and counted.

This is how an ensemble memory's efficiency is measured with a real single-photon
source (for example quantum-dot photons stored in a rubidium-vapour memory: Thomas et
al., Sci. Adv. 10, eadi7346 (2024)).  A :class:`StorageRequest` runs four phases of
``pulses`` source triggers each, back to back:

=========================  ==========  ===================  ===================================
phase                      source      memory               detection window
=========================  ==========  ===================  ===================================
``input``                  on          off (no control)     when the photon arrives
``retrieved``              on          stores, reads out    ``storage_ps`` after the arrival
``input_background``       blocked     off                  as ``input``
``retrieved_background``   blocked     reads out            as ``retrieved``
=========================  ==========  ===================  ===================================

The **internal efficiency** is the background-subtracted ratio
``(C_retrieved - C_retrieved_background) / (C_input - C_input_background)``: fibre
loss, the source's brightness and the detector's efficiency cancel.  The
**signal-to-noise ratio** is ``(C_retrieved - C_retrieved_background) /
C_retrieved_background``: retrieved photons per noise click in the read-out window.

Actors and messages:

1. :class:`PhotonSourceNode` triggers its source every ``period_ps`` in the two phases
   with light.  Each trigger puts a photon into the fibre with probability
   ``brightness`` (a single-photon source: at most one photon per trigger).  One
   :class:`PhotonBlock` message per :data:`BLOCK` triggers lists the triggers that sent
   a photon.  It arrives after the fibre delay of the route, as light would.  (Only
   the photons travel, not the empty triggers, so a run costs time in proportion to
   its photons: sources far below one photon per trigger stay cheap.)
2. :class:`StorageNode` (the memory, its control laser and its detector) lets each
   photon through the fibre with probability ``transmissivity``.  In ``input`` it
   detects the photon at once.  In ``retrieved`` it stores the block's photons and
   reads them out ``storage_ps`` later (a :class:`_ReadOut` timer).  Each photon
   comes out with probability :meth:`AbsorptiveMemory.retrieval_probability`, and
   the read-out adds the memory's noise photons (Poisson).  The background phases
   need no message from the source: the node's own timers open the same windows at
   the same times.  Its detector clicks on a photon with probability ``efficiency``,
   and on nothing with the dark-count probability ``1 - exp(-rate x window)`` of
   each window.

Per window, with ``b`` the brightness, ``T`` the fibre transmissivity, ``e`` the
detector efficiency, ``d`` the dark-count probability, ``eta`` the retrieval
probability and ``n`` the memory's noise photons (:func:`storage_expected`):

- ``p_input = 1 - (1 - b T e)(1 - d)`` and ``p_input_background = d``;
- ``p_retrieved = 1 - (1 - b T eta e) exp(-n e)(1 - d)`` and
  ``p_retrieved_background = 1 - exp(-n e)(1 - d)``.

So the expected internal efficiency is ``eta exp(-n e)``: it is ``eta`` for a
noise-free memory.  With noise, a threshold detector hides retrieved photons that
coincide with a noise click.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import networkx as nx
import numpy as np

from qactors.core.actor import Actor, handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.core.time import S
from qactors.core import checks as _checks
from qactors.hardware.channels import Fibre
from qactors.hardware.detectors import Detector
from qactors.hardware.memory import AbsorptiveMemory

__all__ = ["PHASES", "StorageRequest", "PhotonBlock", "PhotonSourceNode", "StorageNode", "StorageJob",
           "storage_network", "storage_jobs", "storage_report", "storage_expected", "BLOCK"]

PHASES = ("input", "retrieved", "input_background", "retrieved_background")
"""The four phases of a :class:`StorageRequest`, in the order they run."""
_LIT = (0, 1)  # phases in which the source sends light
BLOCK = 1 << 20
"""Source triggers per :class:`PhotonBlock` message (the last block of a phase may be shorter)."""


@dataclasses.dataclass(frozen=True)
class StorageRequest:
    """Store the photons of the source at node ``source`` in the memory at node ``dest``.

    Args:
        request_id: a name, unique among the requests.
        source: the node with the single-photon source.
        dest: the node with the memory and its detector.
        pulses: source triggers per phase, an int >= 1 (four phases: :data:`PHASES`).
        storage_ps: time between a photon's arrival and its read-out, ps, an int >= 1.
        start_ps: when the first phase starts, ps, an int >= 0.
    """

    request_id: str
    source: str
    dest: str
    pulses: int
    storage_ps: int
    start_ps: int = 0

    def __post_init__(self) -> None:
        for field in ("request_id", "source", "dest"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise ConfigurationError(f"StorageRequest.{field} = {getattr(self, field)!r} is not allowed; "
                                         f"allowed: a non-empty string", field=field, value=getattr(self, field))
        for field, low in (("pulses", 1), ("storage_ps", 1), ("start_ps", 0)):
            _checks.integer(f"StorageRequest.{field}", getattr(self, field), low=low, field=field)


@dataclasses.dataclass(frozen=True)
class StorageJob:
    """What both ends of one request need: its timing and the route's fibre.

    ``period_ps`` is the source's trigger period; ``delay_ps`` the fibre delay of the
    route; ``transmissivity`` its transmission.  Phase ``k`` starts at ``start_ps + k
    pulses period_ps``, and a phase's block ``b`` holds triggers ``b BLOCK`` onwards."""

    request: StorageRequest
    period_ps: int
    delay_ps: int
    transmissivity: float

    def block_time(self, phase: int, block: int) -> int:
        """When the first trigger of ``block`` of ``phase`` fires at the source."""
        return self.request.start_ps + (phase * self.request.pulses + block * BLOCK) * self.period_ps

    @property
    def blocks(self) -> int:
        """Blocks per phase."""
        return -(-self.request.pulses // BLOCK)

    def block_size(self, block: int) -> int:
        return min(BLOCK, self.request.pulses - block * BLOCK)

    @property
    def end_ps(self) -> int:
        """When the last read-out window of the request has opened."""
        return self.block_time(len(PHASES), 0) + self.delay_ps + self.request.storage_ps


@message
class PhotonBlock(Message):
    """Source -> memory: one block of triggers; ``triggers`` lists the triggers (uint32
    little-endian indices within the block, increasing) that put a photon into the fibre."""

    request: str
    phase: int
    block: int
    triggers: bytes


@message
class _Emit(Message):
    request: str
    phase: int
    block: int


@message
class _ReadOut(Message):
    request: str
    phase: int
    block: int
    photons: int  # photons that reached the memory in this block (0 in a background block)


@message
class _Window(Message):  # a background block of the input phase: windows at arrival time, nothing arrives
    request: str
    phase: int
    block: int


class PhotonSourceNode(Actor):
    """A triggered single-photon source (``brightness``: the probability that a trigger puts
    a photon into the fibre) sending the light phases of each job to its memory.

    State: ``sent`` maps request ids to the photons sent per phase."""

    def __init__(self, actor_id: str, *, brightness: float, jobs: Sequence[StorageJob] = ()):
        super().__init__(actor_id)
        self.brightness = _checks.probability(f"PhotonSourceNode {actor_id!r} brightness", brightness)
        self._jobs = {job.request.request_id: job for job in jobs}
        self.sent = {rid: [0] * len(PHASES) for rid in self._jobs}

    def on_start(self) -> None:
        for rid, job in self._jobs.items():
            self.set_timer(_Emit(rid, _LIT[0], 0), delay_ps=job.block_time(_LIT[0], 0))

    @handler(_Emit)
    def on_emit(self, msg: _Emit, sender: str) -> None:
        job, rng = self._jobs[msg.request], self.rng
        n = job.block_size(msg.block)
        triggers = np.sort(rng.choice(n, size=rng.binomial(n, self.brightness), replace=False)).astype("<u4")
        self.sent[msg.request][msg.phase] += len(triggers)
        self.send(job.request.dest, PhotonBlock(msg.request, msg.phase, msg.block, triggers.tobytes()),
                  delay_ps=job.delay_ps)
        phase, block = (msg.phase, msg.block + 1) if msg.block + 1 < job.blocks else (_next_lit(msg.phase), 0)
        if phase is not None:
            self.set_timer(_Emit(msg.request, phase, block), delay_ps=job.block_time(phase, block) - self.now)


def _next_lit(phase: int) -> int | None:
    i = _LIT.index(phase)
    return _LIT[i + 1] if i + 1 < len(_LIT) else None


class StorageNode(Actor):
    """A memory with its control laser and a detector after it (module doc, step 2).

    State: ``counts`` maps request ids to the clicks per phase, ``windows`` to the
    detection windows opened per phase (``pulses`` each once the request is done),
    ``stored`` to the photons that reached the memory in the ``retrieved`` phase and
    ``retrieved`` to those that came out of it; ``ignored`` counts blocks for an unknown
    request or from another node, repeated or malformed blocks.
    """

    def __init__(self, actor_id: str, *, memory: AbsorptiveMemory, detector: Detector, window_ps: int,
                 linewidth_ghz: dict[str, float] | None = None, jobs: Sequence[StorageJob] = ()):
        super().__init__(actor_id)
        if not isinstance(memory, AbsorptiveMemory):
            raise ConfigurationError(f"StorageNode {actor_id!r} memory = {memory!r} is not allowed; allowed: an "
                                     f"AbsorptiveMemory", field="memory", value=memory)
        if not isinstance(detector, Detector):
            raise ConfigurationError(f"StorageNode {actor_id!r} detector = {detector!r} is not allowed; allowed: "
                                     f"a Detector", field="detector", value=detector)
        self._memory = memory
        self._detector = detector
        self.window_ps = _checks.integer(f"StorageNode {actor_id!r} window_ps", window_ps, low=1)
        self.dark = detector.dark_count_probability(window_ps / S)
        self._jobs = {job.request.request_id: job for job in jobs}
        self.linewidth_ghz = {rid: (linewidth_ghz or {}).get(rid, 0.0) for rid in self._jobs}
        self.counts = {rid: [0] * len(PHASES) for rid in self._jobs}
        self.windows = {rid: [0] * len(PHASES) for rid in self._jobs}
        self.stored = {rid: 0 for rid in self._jobs}
        self.retrieved = {rid: 0 for rid in self._jobs}
        self.ignored = 0
        self._seen: set[tuple[str, int, int]] = set()

    def retrieval_probability(self, request_id: str) -> float:
        """The memory's retrieval probability for this request's photons and storage time."""
        job = self._jobs[request_id]
        return self._memory.retrieval_probability(job.request.storage_ps / S, self.linewidth_ghz[request_id])

    def on_start(self) -> None:
        for rid in self._jobs:  # the background phases: the same windows, with the source blocked
            self._background(rid, 2, 0)
            self._background(rid, 3, 0)

    def _background(self, rid: str, phase: int, block: int) -> None:
        """Open ``block`` of a background phase when its windows come (each block schedules the next)."""
        job = self._jobs[rid]
        if block < job.blocks:
            at = job.block_time(phase, block) + job.delay_ps + (job.request.storage_ps if phase == 3 else 0)
            self.set_timer(_Window(rid, phase, block) if phase == 2 else _ReadOut(rid, phase, block, 0),
                           delay_ps=at - self.now)

    @handler(PhotonBlock)
    def on_block(self, msg: PhotonBlock, sender: str) -> None:
        job = self._jobs.get(msg.request)
        key = (msg.request, msg.phase, msg.block)
        triggers = np.frombuffer(msg.triggers, dtype="<u4") if len(msg.triggers) % 4 == 0 else None
        if (job is None or sender != job.request.source or msg.phase not in _LIT or key in self._seen
                or not 0 <= msg.block < job.blocks or triggers is None
                or (len(triggers) and (int(triggers[-1]) >= job.block_size(msg.block)
                                       or np.any(np.diff(triggers.astype(np.int64)) <= 0)))):
            self.ignored += 1
            return
        self._seen.add(key)
        arrived = int(self.rng.binomial(len(triggers), job.transmissivity))  # the fibre's loss
        if msg.phase == 0:
            self._count(msg.request, 0, job.block_size(msg.block), arrived, extra_noise=0.0)
        else:
            self.stored[msg.request] += arrived
            self.set_timer(_ReadOut(msg.request, msg.phase, msg.block, arrived), delay_ps=job.request.storage_ps)

    @handler(_ReadOut)
    def on_read_out(self, msg: _ReadOut, sender: str) -> None:
        out = int(self.rng.binomial(msg.photons, self.retrieval_probability(msg.request))) if msg.photons else 0
        if msg.phase == 1:
            self.retrieved[msg.request] += out
        self._count(msg.request, msg.phase, self._jobs[msg.request].block_size(msg.block), out,
                    extra_noise=self._memory.noise_photons)
        if msg.phase == 3:
            self._background(msg.request, 3, msg.block + 1)

    @handler(_Window)
    def on_window(self, msg: _Window, sender: str) -> None:
        self._count(msg.request, msg.phase, self._jobs[msg.request].block_size(msg.block), 0, extra_noise=0.0)
        self._background(msg.request, 2, msg.block + 1)

    def _count(self, rid: str, phase: int, windows: int, photons: int, extra_noise: float) -> None:
        """Detect ``photons`` photons, each in its own window of ``windows``, with the memory's noise
        and the dark counts.  A window clicks on its photon (probability ``efficiency``) or, if
        not, on noise or darkness (``1 - exp(-noise x efficiency) (1 - d)``)."""
        rng = self.rng
        quiet = math.exp(-extra_noise * self._detector.efficiency) * (1.0 - self.dark)
        signal = int(rng.binomial(photons, self._detector.efficiency)) if photons else 0
        self.counts[rid][phase] += signal + int(rng.binomial(windows - signal, 1.0 - quiet))
        self.windows[rid][phase] += windows


def storage_jobs(graph: nx.Graph, requests: Sequence[StorageRequest], *, refractive_index: float = 1.47
                 ) -> list[StorageJob]:
    """Each request's :class:`StorageJob`: the source's trigger period and the delay and
    transmissivity of the least-length path (see :func:`storage_network` for the graph's
    attributes and the errors raised)."""
    ids: set[str] = set()
    jobs = []
    for r in requests:
        if not isinstance(r, StorageRequest):
            raise ConfigurationError(f"request {r!r} is not allowed; allowed: a StorageRequest", field="requests",
                                     value=r)
        if r.request_id in ids:
            raise ConfigurationError(f"request {r.request_id!r}: the id is used twice; allowed: unique ids",
                                     field="request_id", value=r.request_id)
        ids.add(r.request_id)
        for end in (r.source, r.dest):
            if end not in graph:
                raise ConfigurationError(f"request {r.request_id!r}: node {end!r} is not in the graph",
                                         field="source" if end == r.source else "dest", value=end)
        try:
            path = nx.shortest_path(graph, r.source, r.dest, weight="length_km")
        except nx.NetworkXNoPath:
            raise ConfigurationError(f"request {r.request_id!r}: {r.dest!r} is not connected to {r.source!r}",
                                     field="dest", value=r.dest) from None
        for node, keys in ((r.source, ("brightness", "repetition_rate_hz")),
                           (r.dest, ("memory", "detector", "window_ps"))):
            missing = [k for k in keys if k not in graph.nodes[node]]
            if missing:
                raise ConfigurationError(f"request {r.request_id!r}: node {node!r} has no {', '.join(missing)}; "
                                         f"required on a {'source' if node == r.source else 'memory'} node",
                                         field="source" if node == r.source else "dest", value=node)
        rate = _checks.real(f"node {r.source!r} repetition_rate_hz", graph.nodes[r.source]["repetition_rate_hz"],
                            low=0.0, low_open=True)
        period = max(1, round(S / rate))
        if r.storage_ps >= period:
            raise ConfigurationError(f"request {r.request_id!r}: storage_ps = {r.storage_ps} is not allowed; "
                                     f"allowed: less than the source's trigger period, {period} ps (the memory "
                                     f"holds one photon at a time)", field="storage_ps", value=r.storage_ps)
        fibres = [Fibre(graph.edges[a, b]["length_km"], attenuation_db_per_km=graph.edges[a, b].get(
            "attenuation_db_per_km", 0.2), refractive_index=refractive_index) for a, b in zip(path, path[1:])]
        jobs.append(StorageJob(r, period_ps=period, delay_ps=max(1, sum(f.delay_ps for f in fibres)),
                               transmissivity=math.prod(f.transmissivity for f in fibres)))
    return jobs


def storage_network(graph: nx.Graph, requests: Sequence[StorageRequest], *, refractive_index: float = 1.47
                    ) -> Network:
    """The actors of a photon-storage run over ``graph``.

    Node attributes: ``brightness`` (a source node: probability per trigger of a photon in
    the fibre) and ``repetition_rate_hz`` (its trigger rate); ``memory`` (an
    :class:`AbsorptiveMemory`), ``detector`` (a :class:`Detector`) and ``window_ps``
    (its detection window, ps) on a memory node; ``linewidth_ghz`` on a source node
    (FWHM of its photons' spectrum, default 0).  Edge attributes: ``length_km`` and
    ``attenuation_db_per_km`` (default 0.2).  Each request's photons follow the path of
    least total length; its delay and transmissivity are those of the whole path.  A node
    may be the source of several requests or the memory of several, not both.

    Raises:
        ConfigurationError: a request that is not a StorageRequest, a repeated id, an end
            not in the graph or not connected, a source without ``brightness`` or
            ``repetition_rate_hz``, a memory node without ``memory``, ``detector`` or
            ``window_ps``, a node that is both, or a storage time not shorter than the
            source's trigger period (the memory holds one photon at a time).
    """
    sources: dict[str, list[StorageJob]] = {}
    memories: dict[str, list[StorageJob]] = {}
    linewidths: dict[str, dict[str, float]] = {}
    for job in storage_jobs(graph, requests, refractive_index=refractive_index):
        r = job.request
        sources.setdefault(r.source, []).append(job)
        memories.setdefault(r.dest, []).append(job)
        linewidths.setdefault(r.dest, {})[r.request_id] = graph.nodes[r.source].get("linewidth_ghz", 0.0)
    both = sorted(set(sources) & set(memories))
    if both:
        raise ConfigurationError(f"node {both[0]!r} is both a source and a memory; allowed: one role per node",
                                 field="dest", value=both[0])
    net = Network()
    for v in graph.nodes:
        if v in sources:
            actor = PhotonSourceNode(str(v), brightness=graph.nodes[v]["brightness"], jobs=sources[v])
        elif v in memories:
            d = graph.nodes[v]
            actor = StorageNode(str(v), memory=d["memory"], detector=d["detector"], window_ps=d["window_ps"],
                                linewidth_ghz=linewidths[v], jobs=memories[v])
        else:
            actor = Actor(str(v))
        net.add_actor(actor)
    for a, b, d in graph.edges(data=True):
        net.connect(str(a), str(b), max(1, Fibre(d["length_km"], refractive_index=refractive_index).delay_ps))
    return net


def storage_expected(*, brightness: float, transmissivity: float, retrieval: float, detector: Detector,
                     window_ps: int, noise_photons: float = 0.0) -> dict:
    """The click probability per window of each phase, and the internal efficiency and
    signal-to-noise ratio they imply (module doc)."""
    e, d = detector.efficiency, detector.dark_count_probability(window_ps / S)
    quiet = math.exp(-noise_photons * e) * (1.0 - d)
    p = {"input": 1.0 - (1.0 - brightness * transmissivity * e) * (1.0 - d), "input_background": d,
         "retrieved": 1.0 - (1.0 - brightness * transmissivity * retrieval * e) * quiet,
         "retrieved_background": 1.0 - quiet}
    signal = p["retrieved"] - p["retrieved_background"]
    return {"click_probability": p, "internal_efficiency": signal / (p["input"] - p["input_background"]),
            "signal_to_noise": signal / p["retrieved_background"] if p["retrieved_background"] > 0 else math.inf}


def storage_report(states: dict, request: StorageRequest) -> dict:
    """A request's counts and what they measure, from the memory node's state.

    ``internal_efficiency`` and ``signal_to_noise`` are the module doc's estimates, each with
    a one-sigma ``*_sd`` from Poisson counting statistics (NaN when a denominator is zero);
    ``complete`` says whether all four phases ran to the end."""
    node = states[request.dest]
    rid = request.request_id
    c = dict(zip(PHASES, node["counts"][rid]))
    w = dict(zip(PHASES, node["windows"][rid]))
    signal = c["retrieved"] - c["retrieved_background"]
    reference = c["input"] - c["input_background"]
    eff = signal / reference if reference > 0 else math.nan
    eff_sd = (math.sqrt((c["retrieved"] + c["retrieved_background"]) / reference ** 2
                        + signal ** 2 * (c["input"] + c["input_background"]) / reference ** 4)
              if reference > 0 else math.nan)
    noise = c["retrieved_background"]
    snr = signal / noise if noise > 0 else math.nan  # = C_retrieved / C_background - 1
    snr_sd = (math.sqrt(c["retrieved"] / noise ** 2 + c["retrieved"] ** 2 / noise ** 3) if noise > 0
              else math.nan)
    return {"source": request.source, "dest": request.dest, "pulses": request.pulses,
            "storage_ns": request.storage_ps / 1e3, "counts": c, "windows": w,
            "photons_stored": node["stored"][rid], "photons_retrieved": node["retrieved"][rid],
            "complete": all(w[p] == request.pulses for p in PHASES),
            "internal_efficiency": eff, "internal_efficiency_sd": eff_sd,
            "signal_to_noise": snr, "signal_to_noise_sd": snr_sd}
