"""Link layer: heralded entanglement generation between two nodes and a midpoint station.

Follows the midpoint-heralding architecture of Barrett & Kok, PRA 71, 060310(R)
(2005) (double click) and Cabrillo et al., PRA 59, 1025 (1999) / Humphreys et
al., Nature 558, 268 (2018) (single click); the per-attempt physics is
:mod:`qactors.hardware.links`.  The round structure is:

1. a node whose memory slot for the link is free sends :class:`Ready`
   (with its memory's noise) to the station;
2. when both are ready the station opens a round: in the ``attempts`` model it
   sends :class:`Go`, both nodes emit an attempt at once and again each time a
   failed :class:`Herald` comes back (one attempt per round trip ``T``); in the
   ``geometric`` model it draws the number ``K`` of the successful attempt from
   the exact geometric distribution and the kind of herald from the same
   per-attempt probabilities, and sends the successful :class:`Herald` when
   attempt ``K`` would have reached it.  Either way the herald of attempt
   ``K`` reaches both nodes ``K T`` after the round opened at the nodes;
3. the successful herald carries the :class:`~qactors.quantum.bell.PairRecord`
   (Pauli-frame error of the scheme, both memories' noise, stored from the
   emission of attempt ``K``).

Both models draw attempts from one :class:`LinkPhysics`, so they agree in
distribution (tested).  Dark counts produce false heralds whose pair is
modelled as maximally mixed.
"""

from __future__ import annotations

import dataclasses
import math

from qactors.core.actor import Actor, handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.hardware.channels import Fibre
from qactors.hardware.links import double_click, single_click
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord

__all__ = ["LinkPhysics", "Ready", "Go", "Photon", "Herald", "MidpointStation", "LinkSide", "LinkEnd",
           "two_node_link",
           "MODELS", "SCHEMES", "GOOD", "BAD", "DARK"]

MODELS = ("attempts", "geometric")
SCHEMES = ("double_click", "single_click")
GOOD, BAD, DARK = 1, 2, 3  # herald kinds: right state, wrong state (single click |11>), dark-count false herald
_MIXED = (0.25, 0.25, 0.25, 0.25)


@dataclasses.dataclass(frozen=True)
class LinkPhysics:
    """What one attempt can do.

    Args:
        scheme: ``"double_click"`` or ``"single_click"``.
        eta_arm: probability that a node's emitted photon is detected at the station, 0..1.
        bright_state_population: alpha of the single-click scheme, 0..1 (ignored for double click).
        visibility: two-photon interference visibility / coherence of the heralded state, 0..1.
        dark_count_probability: probability that a detector clicks without light in one
            detection window, 0..1.  A false herald needs the clicks a success would
            show: with ``k`` real photons detected, double click needs ``2 - k`` dark
            clicks and accepts the pattern half the time; single click needs one click.
    """

    scheme: str
    eta_arm: float
    bright_state_population: float = 0.0
    visibility: float = 1.0
    dark_count_probability: float = 0.0

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ConfigurationError(f"LinkPhysics.scheme = {self.scheme!r} is not known; allowed: {SCHEMES}",
                                     field="scheme", value=self.scheme)
        for name in ("eta_arm", "bright_state_population", "visibility", "dark_count_probability"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise ConfigurationError(f"LinkPhysics.{name} = {v!r} is not allowed; allowed: a number in [0, 1]",
                                         field=name, value=v)
        if self.scheme == "single_click" and self.bright_state_population == 0.0:
            raise ConfigurationError("LinkPhysics.bright_state_population = 0 never emits; allowed for "
                                     "single_click: a number in (0, 1]", field="bright_state_population", value=0.0)

    # -- the per-attempt process, split where it happens ---------------------------
    def emit(self, u_bright: float, u_detect: float) -> tuple[bool, bool]:
        """At a node: (spin bright, photon detected at the station) from two uniform numbers."""
        bright = self.scheme == "double_click" or u_bright < self.bright_state_population
        return bright, bright and u_detect < self.eta_arm

    def decide(self, a: tuple[bool, bool], b: tuple[bool, bool], u_bsm: float, u_dark: float) -> int:
        """At the station: the herald kind (0 = no herald) from both nodes' photons."""
        detected = int(a[1]) + int(b[1])
        d = self.dark_count_probability
        if self.scheme == "double_click":
            if detected == 2:
                return GOOD if u_bsm < 0.5 else 0
            return DARK if u_dark < (d / 2 if detected == 1 else d * d / 2) else 0
        if a[0] and b[0] and detected:
            return BAD
        if detected == 1:
            return GOOD
        return DARK if detected == 0 and u_dark < d else 0

    # -- the same process in aggregate -------------------------------------------------
    def kind_probabilities(self) -> tuple[float, float, float]:
        """Per-attempt probabilities of a GOOD, BAD and DARK herald."""
        eta, d = self.eta_arm, self.dark_count_probability
        if self.scheme == "double_click":
            return eta * eta / 2, 0.0, 2 * eta * (1 - eta) * d / 2 + (1 - eta) ** 2 * d * d / 2
        alpha = self.bright_state_population
        good = 2 * alpha * (1 - alpha) * eta
        bad = alpha * alpha * eta * (2 - eta)
        return good, bad, (1 - alpha * eta) ** 2 * d

    def success_probability(self) -> float:
        return sum(self.kind_probabilities())

    def state(self, kind: int) -> tuple[float, float, float, float]:
        """Bell coefficients (Phi+ frame, after the herald's Pauli correction) of a herald of ``kind``."""
        if kind == DARK:
            return _MIXED
        if self.scheme == "double_click":
            return double_click(self.eta_arm, self.visibility).pauli_probabilities
        if kind == GOOD:
            v = self.visibility
            return ((1 + v) / 2, 0.0, 0.0, (1 - v) / 2)
        return (0.0, 0.5, 0.5, 0.0)

    def reference_fidelity(self) -> float:
        """Mean fidelity of a heralded pair at emission: the single-click mixture as in hardware.links."""
        if self.scheme == "single_click" and self.dark_count_probability == 0.0:
            return single_click(self.bright_state_population, self.eta_arm, self.visibility).fidelity
        good, bad, dark = self.kind_probabilities()
        total = good + bad + dark
        return (good * self.state(GOOD)[0] + bad * self.state(BAD)[0] + dark * 0.25) / total


@message
class Ready(Message):
    link: str
    round: int
    noise: MemoryNoise


@message
class Go(Message):
    link: str
    round: int


@message
class Photon(Message):
    link: str
    round: int
    attempt: int
    bright: bool
    detected: bool


@message
class Herald(Message):
    link: str
    round: int
    attempt: int
    kind: int  # 0: failed attempt; GOOD, BAD or DARK: a pair was heralded
    pair: object  # PairRecord, or None for a failed attempt


@message
class _Decide(Message):
    """Station timer of the geometric model: attempt ``attempt`` of ``round`` reaches the station."""
    round: int
    attempt: int
    kind: int


class MidpointStation(Actor):
    """The heralding station half-way between ``node_a`` and ``node_b``."""

    def __init__(self, actor_id: str, link: str, node_a: str, node_b: str, physics: LinkPhysics, model: str,
                 arm_delay_ps: int):
        super().__init__(actor_id)
        if model not in MODELS:
            raise ConfigurationError(f"link model {model!r} is not known; allowed: {MODELS}", field="model",
                                     value=model)
        if physics.success_probability() <= 0.0:
            raise ConfigurationError(f"link {link!r} can never herald: its success probability per attempt is 0 "
                                     f"(eta_arm = {physics.eta_arm}); allowed: a link that can succeed",
                                     field="eta_arm", value=physics.eta_arm)
        self.link, self.node_a, self.node_b = link, node_a, node_b
        self.physics, self.model, self.arm_delay_ps = physics, model, arm_delay_ps
        self.round = -1
        self.ready: dict[str, MemoryNoise] = {}
        self.photons: dict[str, tuple[bool, bool]] = {}
        self.attempt = 0
        self.heralds = 0
        self.ignored = 0

    @handler(Ready)
    def on_ready(self, msg: Ready, sender: str) -> None:
        if (msg.link != self.link or msg.round != self.round + 1 or sender in self.ready
                or sender not in (self.node_a, self.node_b)):
            self.ignored += 1
            return
        self.ready[sender] = msg.noise
        if len(self.ready) < 2:
            return
        self.round += 1
        self.attempt = 0
        self.photons = {}
        if self.model == "attempts":
            for node in (self.node_a, self.node_b):
                self.send(node, Go(self.link, self.round), delay_ps=self.arm_delay_ps)
            return
        p = self.physics.success_probability()
        k = int(self.rng.geometric(p))
        good, bad, _ = self.physics.kind_probabilities()
        u = self.rng.random() * p
        kind = GOOD if u < good else BAD if u < good + bad else DARK
        # attempt k leaves the nodes (k - 1) T after they hear the round open, and reaches us T/2 later
        self.set_timer(_Decide(self.round, k, kind), delay_ps=k * 2 * self.arm_delay_ps)

    @handler(_Decide)
    def on_decide(self, msg: _Decide, sender: str) -> None:
        self._herald(msg.attempt, msg.kind)

    @handler(Photon)
    def on_photon(self, msg: Photon, sender: str) -> None:
        if (msg.link != self.link or msg.round != self.round or msg.attempt != self.attempt + 1
                or sender not in (self.node_a, self.node_b) or sender in self.photons):
            self.ignored += 1  # late, duplicated or foreign photons never count
            return
        self.photons[sender] = (msg.bright, msg.detected)
        if len(self.photons) < 2:
            return
        self.attempt += 1
        kind = self.physics.decide(self.photons[self.node_a], self.photons[self.node_b],
                                   self.rng.random(), self.rng.random())
        self.photons = {}
        self._herald(self.attempt, kind)

    def _herald(self, attempt: int, kind: int) -> None:
        pair = None
        if kind:
            emitted = self.now - self.arm_delay_ps
            pair = PairRecord(f"{self.link}#{self.round}", self.physics.state(kind), emitted,
                              PairEnd(self.node_a, self.ready[self.node_a], emitted),
                              PairEnd(self.node_b, self.ready[self.node_b], emitted))
            self.ready = {}
            self.heralds += 1
        for node in (self.node_a, self.node_b):
            self.send(node, Herald(self.link, self.round, attempt, kind, pair), delay_ps=self.arm_delay_ps)


class LinkSide:
    """One node's end of one link: the memory slot and the round/attempt bookkeeping.

    Plain data kept in the owning actor's state; the actor passes itself in to
    send and draw random numbers.  Stale, duplicated or foreign link messages
    are counted in ``ignored`` and change nothing.
    """

    def __init__(self, link: str, station: str, physics: LinkPhysics, arm_delay_ps: int, noise: MemoryNoise):
        self.link, self.station, self.physics = link, station, physics
        self.arm_delay_ps = arm_delay_ps
        self.noise = noise
        self.round = 0
        self.attempt = 0
        self.pair: PairRecord | None = None
        self.pair_attempts = 0  # attempts the current pair took
        self.attempts_emitted = 0
        self.photons_detected = 0
        self.ignored = 0

    def __eq__(self, other: object) -> bool:  # plain data: equal when every field is
        return type(other) is type(self) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def ready(self, actor: Actor) -> None:
        """Offer the (free) slot for the next round."""
        actor.send(self.station, Ready(self.link, self.round, self.noise), delay_ps=self.arm_delay_ps)

    def _emit(self, actor: Actor) -> None:
        self.attempt += 1
        bright, detected = self.physics.emit(actor.rng.random(), actor.rng.random())
        self.attempts_emitted += 1
        self.photons_detected += int(detected)
        actor.send(self.station, Photon(self.link, self.round, self.attempt, bright, detected),
                   delay_ps=self.arm_delay_ps)

    def go(self, actor: Actor, msg: Go) -> None:
        if msg.round != self.round or self.attempt or self.pair is not None:
            self.ignored += 1
            return
        self._emit(actor)

    def herald(self, actor: Actor, msg: Herald) -> PairRecord | None:
        """Handle a herald; return the new pair if it heralded one for this slot."""
        if msg.round != self.round or self.pair is not None or (self.attempt and msg.attempt != self.attempt):
            self.ignored += 1  # a herald of another round or attempt: stale or duplicated
            return None
        if not msg.kind:
            self._emit(actor)
            return None
        self.pair = msg.pair
        self.pair_attempts = msg.attempt
        self.round += 1
        self.attempt = 0
        return msg.pair

    def release(self, actor: Actor, offer: bool = True) -> None:
        """The pair was used or discarded: free the slot and, if ``offer``, ask for the next one."""
        self.pair = None
        if offer:
            self.ready(actor)


class LinkEnd(Actor):
    """A node at one end of a link with one memory slot for it.

    Takes every heralded pair, records it (time, attempt count, kind, fidelity
    on arrival) and frees the slot at once, until ``max_pairs`` pairs: the
    consumer for link-level studies.
    """

    def __init__(self, actor_id: str, link: str, station: str, physics: LinkPhysics, memory: QuantumMemory,
                 arm_delay_ps: int, max_pairs: int = 1_000_000):
        super().__init__(actor_id)
        self.side = LinkSide(link, station, physics, arm_delay_ps, memory.noise())
        self.max_pairs = max_pairs
        self.deliveries: list[tuple[int, int, int, float]] = []  # (time ps, attempts, kind, fidelity)

    def on_start(self) -> None:
        self.side.ready(self)

    @handler(Go)
    def on_go(self, msg: Go, sender: str) -> None:
        self.side.go(self, msg)

    @handler(Herald)
    def on_herald(self, msg: Herald, sender: str) -> None:
        pair = self.side.herald(self, msg)
        if pair is None:
            return
        self.deliveries.append((self.now, msg.attempt, msg.kind, pair.fidelity_at(self.now)))
        self.side.release(self, offer=len(self.deliveries) < self.max_pairs)


def two_node_link(length_km: float, physics: LinkPhysics, *, model: str = "geometric",
                  memory: QuantumMemory | None = None, max_pairs: int = 1000,
                  refractive_index: float = 1.47, names: tuple[str, str] = ("A", "B")) -> Network:
    """Nodes ``A`` and ``B`` ``length_km`` apart with a station half-way (``A-B/station``).

    The arm delay is the propagation time over ``length_km / 2`` of fibre with
    ``refractive_index``; an attempt takes twice that.
    """
    if not (isinstance(length_km, (int, float)) and length_km > 0 and math.isfinite(length_km)):
        raise ConfigurationError(f"length_km = {length_km!r} is not allowed; allowed: a finite number > 0",
                                 field="length_km", value=length_km)
    a, b = names
    link = f"{a}-{b}"
    station = f"{link}/station"
    arm = Fibre(length_km / 2, refractive_index=refractive_index).delay_ps
    memory = memory or QuantumMemory(num_qubits=1)
    net = Network()
    net.add_actor(LinkEnd(a, link, station, physics, memory, arm, max_pairs), site=a)
    net.add_actor(MidpointStation(station, link, a, b, physics, model, arm), site=station)
    net.add_actor(LinkEnd(b, link, station, physics, memory, arm, max_pairs), site=b)
    net.connect(a, station, latency_ps=arm)
    net.connect(station, b, latency_ps=arm)
    return net
