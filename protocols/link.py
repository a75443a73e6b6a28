"""Link layer: heralded entanglement generation between two nodes, in three architectures.

The architectures are those compared by Jones, Kim, Rakher, Kwiat, Ladd, NJP 18,
083015 (2016) (their names in brackets).  For nodes ``L`` apart and signals at
speed ``c``:

* **midpoint heralding** ("MeetInTheMiddle"), :class:`LinkPhysics`: both nodes
  emit a photon entangled with their memory towards a Bell-state analyser
  half-way, double click after Barrett & Kok, PRA 71, 060310(R) (2005), or
  single click after Cabrillo et al., PRA 59, 1025 (1999) / Humphreys et al.,
  Nature 558, 268 (2018).  Qubits are stored from emission; both ends learn the
  result at emission + ``L/c``; one attempt every ``L/c``.  With the two-round
  Barrett-Kok timing (``timing="two-round"``, as NIST's MQNS times it): one
  attempt every ``5 L/c + 2 tau0``, a success learnt at emission + ``4 L/c + 2 tau0``.
* **midpoint source** ("MidpointSource"), :class:`MidpointSourcePhysics`: a
  photon-pair source half-way sends one photon to each node, which stores it
  with a heralded absorption; a pair exists when both ends herald.  Qubits are
  stored from emission + ``L/2c``; both ends learn the result at emission +
  ``1.5 L/c``; one attempt every ``L/c``.
* **sender-receiver** ("SenderReceiver"), :class:`SenderReceiverPhysics`: node
  ``a`` emits a photon entangled with its memory towards node ``b``, which
  absorbs it with a herald.  ``a`` stores from emission and learns the result
  at emission + ``2 L/c``; ``b`` stores and learns it at emission + ``L/c``
  (plus :data:`RECEIVER_LOCAL_DELAY_PS`); one attempt every ``2 L/c``.

Those periods are the herald round trips.  On a short link the hardware is
slower than the light (spin initialisation, optical pulse, detection window:
5.5 us per attempt for the NV nodes of Humphreys et al., Nature 558, 268
(2018)): each physics object's ``cycle_ps`` is that minimum attempt period, and
an attempt takes the longer of the two (``cycle_ps = 0``, the default: the
round trip).  On a long link whose photons are measured on arrival, or whose
emitters are temporally multiplexed, the attempts need not wait for heralds at
all: with ``pipelined=True`` they come every ``cycle_ps`` (a source's
repetition period, nanoseconds against milliseconds of round trip), the first
success ends the round and the attempts still in flight are abandoned.

The per-attempt physics is :mod:`qactors.hardware.links` (midpoint heralding)
and the physics classes here.  One actor per link decides every attempt:

* a :class:`MidpointStation` half-way (``"{link}/station"``, or
  ``"{link}/source"`` for a midpoint source).  For the midpoint source the
  decision in the middle stands for the nodes telling each other their
  results: a node's result reaches the middle ``L/2c`` after its photon
  arrived, and the verdict reaches both nodes ``L/2c`` later, at emission +
  ``1.5 L/c``, just when the two results exchanged directly would have;
* a :class:`ReceiverStation` (``"{link}/receiver"``) for sender-receiver links:
  the heralded absorber at node ``b``'s site, joined to ``b`` by
  :data:`RECEIVER_LOCAL_DELAY_PS` and to ``a`` by the fibre.

The link's actor is its *channel*: it runs the rounds of every memory slot
pair of the link (``slots``), each independently.  Whoever holds a link end
(a memory actor, :mod:`qactors.protocols.memory`, or a node with a single
slot such as :class:`LinkEnd`) never sees the scheme: it keeps a
:class:`LinkSide` per slot and receives only :class:`Go` and :class:`Herald`.
The round structure is, per slot:

1. a node whose memory slot for the link is free sends :class:`Ready` (with its
   memory's noise) to the link's actor;
2. when both are ready the actor opens a round: in the ``attempts`` model it
   sends :class:`Go` to the nodes that act each attempt (both nodes, or ``a``
   alone for sender-receiver), they act at once and again each time a failed
   :class:`Herald` comes back, one attempt per period ``T``; in the
   ``geometric`` model it draws the number ``K`` of the successful attempt from
   the exact geometric distribution and the herald (kind and state) from the
   same per-attempt physics, and sends the successful :class:`Herald` at once,
   timed to arrive when the decision of attempt ``K`` would.  Either way, without a cycle, the
   herald of attempt ``K`` reaches a node ``K T`` after the round opened at
   that node.  The emitters never act sooner than ``cycle_ps`` after their
   previous attempt: a :class:`Go` or failed :class:`Herald` reaches them when
   they may (the node waits out its cycle; a midpoint source fires later).  On
   a pipelined link nothing goes to the nodes per attempt: the actor decides
   attempt ``k`` at ``(k - 1) cycle_ps`` after the first (one timer per
   attempt in the ``attempts`` model, drawing every part of the attempt
   there) and sends only the successful :class:`Herald`;
3. the successful herald carries the :class:`~qactors.quantum.bell.PairRecord`
   (the pair's state, both memories' noise and when each end stored its qubit).

For the midpoint source the "photon" a node sends to the middle is its
heralded-absorption result, and :class:`Go` and each failed :class:`Herald`
carry the number of pairs the source emitted in the next attempt (they travel
with that attempt's light).

Both models draw attempts from one physics object, so they agree in
distribution (tested).  Dark counts produce false heralds whose pair is
modelled as maximally mixed.  :func:`link_components` adds the actors of any
architecture between two nodes; :func:`link_timing` gives its attempt period,
success probability, mean fidelity and pair rate in closed form.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from typing import Any, ClassVar, NamedTuple, Protocol

from qactors.core.actor import Actor, PlainData, handler
from qactors.core import checks as _checks
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.hardware.channels import Fibre
from qactors.hardware.links import TIMINGS, double_click, single_click
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord, PauliChannel, apply_channel, werner

from .faults import DetectorDrop, LinkCut, LinkDown, LinkUp, _Fault

__all__ = ["LinkPhysics", "MidpointSourcePhysics", "SenderReceiverPhysics", "AttemptPhysics",
           "Ready", "Go", "Photon", "Herald", "Want", "SlotRounds", "MidpointStation", "ReceiverStation", "LinkSide", "LinkEnd",
           "LinkSideArgs", "LinkComponents", "LinkTiming", "plan_link", "link_components", "link_timing",
           "two_node_link", "LinkNode",
           "MODELS", "SCHEMES", "ALL_SCHEMES", "TIMINGS", "GOOD", "BAD", "DARK", "RECEIVER_LOCAL_DELAY_PS"]

MODELS = ("attempts", "geometric")
SCHEMES = ("double_click", "single_click")  # the schemes of LinkPhysics
ALL_SCHEMES = SCHEMES + ("midpoint_source", "sender_receiver")
# herald kinds: the intended state; a wrong or degraded one (single click: both spins bright;
# midpoint source: two or more pairs emitted); a false herald made by a dark count
GOOD, BAD, DARK = 1, 2, 3
RECEIVER_LOCAL_DELAY_PS = 1
"""Latency between a sender-receiver link's heralded absorber and its node ``b``, ps."""
_MIXED = (0.25, 0.25, 0.25, 0.25)
_MAX_MEAN_PHOTON_NUMBER = 10.0


def _check_probabilities(owner: object, names: tuple[str, ...]) -> None:
    for name in names:
        _checks.probability(f"{type(owner).__name__}.{name}", getattr(owner, name), field=name)


def _check_cycle(owner: object) -> None:
    v = owner.cycle_ps
    if not (type(v) is int and v >= 0):
        raise ConfigurationError(f"{type(owner).__name__}.cycle_ps = {v!r} is not allowed; allowed: an int >= 0 "
                                 f"(minimum attempt period, ps; 0: the herald round trip alone sets it)",
                                 field="cycle_ps", value=v)


def _check_pipelined(owner: object) -> None:
    v, cls = owner.pipelined, type(owner).__name__
    if type(v) is not bool:
        raise ConfigurationError(f"{cls}.pipelined = {v!r} is not allowed; allowed: True (an attempt every cycle_ps, "
                                 f"without waiting for the previous one's herald) or False", field="pipelined", value=v)
    if v and owner.cycle_ps == 0:
        raise ConfigurationError(f"{cls}.cycle_ps = 0 is not allowed with pipelined = True; allowed: an int > 0 (ps, "
                                 f"the period of pipelined attempts: the source's repetition period), or "
                                 f"pipelined = False", field="cycle_ps", value=0)


def _two_round(physics: Any) -> bool:
    return getattr(physics, "timing", "one-round") == "two-round"


def _period_ps(physics: Any, round_trip_ps: int) -> int:
    """The attempt period: the herald round trip or the cycle, the longer; pipelined, the cycle alone.
    Two-round timing (:class:`LinkPhysics`): ``5 tau + 2 tau0`` or the cycle, the longer, where
    ``tau = round_trip_ps`` (node to station and back: the one-way delay over the whole link)."""
    if physics.pipelined:
        return physics.cycle_ps
    if _two_round(physics):
        return max(5 * round_trip_ps + 2 * physics.local_delay_ps, physics.cycle_ps)
    return max(round_trip_ps, physics.cycle_ps)


def _settle_ps(physics: Any, round_trip_ps: int) -> tuple[int, int]:
    """How much later than in the one-round timing the verdict of an attempt leaves the deciding actor,
    (after a success, after a failure), ps: (0, 0) but for two-round timing, where a success is heralded
    ``4 tau + 2 tau0`` after its emission instead of ``tau`` (``3 tau + 2 tau0`` later) and a failure
    sets the emitters off again one period after their last emission (``period - tau`` later)."""
    if not _two_round(physics):
        return 0, 0
    return 3 * round_trip_ps + 2 * physics.local_delay_ps, _period_ps(physics, round_trip_ps) - round_trip_ps


def _dephased(fidelity: float, visibility: float) -> tuple[float, float, float, float]:
    """Isotropic pair of ``fidelity`` whose coherence (<XX>, <YY>) is further reduced by ``visibility``."""
    return apply_channel(werner(fidelity), PauliChannel.dephasing(visibility))


class AttemptPhysics(Protocol):
    """What the link actors and :class:`LinkSide` ask of a link's physics.

    One object serves both link models: the ``attempts`` model uses
    :meth:`source_pairs`, :meth:`at_node` and :meth:`at_station` for every
    attempt, the ``geometric`` model :meth:`success_probability` and
    :meth:`draw_success` once per pair.  ``layout`` is ``"midpoint"`` (decided
    half-way, :class:`MidpointStation`) or ``"receiver"`` (decided at node
    ``b``, :class:`ReceiverStation`).  ``cycle_ps`` is the nodes' minimum time
    between two attempts, ps; with ``pipelined`` the attempts of a round come
    every ``cycle_ps`` without waiting for heralds (see :func:`link_timing`).
    """

    scheme: str
    layout: ClassVar[str]
    cycle_ps: int
    pipelined: bool

    def success_probability(self) -> float: ...

    def kind_probabilities(self) -> tuple[float, float, float]: ...

    def reference_fidelity(self) -> float: ...

    def source_pairs(self, rng: Any) -> int: ...

    def at_node(self, rng: Any, pairs: int) -> tuple[bool, bool]: ...

    def at_station(self, rng: Any, photons: tuple, pairs: int) -> tuple[int, tuple | None]: ...

    def draw_success(self, rng: Any) -> tuple[int, tuple]: ...


@dataclasses.dataclass(frozen=True)
class LinkPhysics:
    """What one attempt of midpoint heralding can do.

    Args:
        scheme: ``"double_click"`` or ``"single_click"``.
        eta_arm: probability that a node's emitted photon is detected at the station, 0..1.
        bright_state_population: alpha of the single-click scheme, 0..1 (ignored for double click).
        visibility: two-photon interference visibility / coherence of the heralded state, 0..1.
        dark_count_probability: probability that a detector clicks without light in one
            detection window, 0..1.  A false herald needs the clicks a success would
            show: with ``k`` real photons detected, double click needs ``2 - k`` dark
            clicks and accepts the pattern half the time; single click needs one click.
        cycle_ps: the hardware's minimum attempt period, ps, an int >= 0: spin
            initialisation, optical pulse and detection window (5.5 us for the NV
            nodes of Humphreys et al., Nature 558, 268 (2018)).  An attempt takes
            the longer of this and the herald round trip (this alone if
            ``pipelined``); 0 (default): the round trip.
        pipelined: True: an attempt every ``cycle_ps`` (which must then be > 0),
            without waiting for the previous attempt's herald, as on links whose
            photons are measured on arrival or with temporally multiplexed
            emitters; the first success ends the round and later attempts in
            flight are abandoned (see :func:`link_timing`).  False (default):
            each attempt waits for the previous one's herald.
        timing: ``"one-round"`` (default): an attempt every herald round trip
            ``tau`` (node to station and back: ``L/c``, the one-way delay over the
            whole link), heralded ``tau`` after its emission.  ``"two-round"``
            (double click only, not pipelined): the Barrett-Kok timing of NIST's
            random-topology study, in which each of the two emissions waits for a
            negotiation between the nodes: an attempt every ``5 tau + 2 tau0`` (or
            ``cycle_ps``, the longer), a success heralded ``4 tau + 2 tau0`` after
            the qubits were prepared (:func:`qactors.hardware.links.attempt_duration_s`).
            For 30 km at 2e8 m/s (``tau`` = 150 us, ``tau0`` = 0): 750 us and 600 us.
        local_delay_ps: ``tau0`` of the two-round timing, the local operation time
            per emission, ps, an int >= 0 (must be 0 with one-round timing).
        initial_fidelity: None (default): the heralded pair's state follows from
            the scheme (``visibility``, the single-click |11> term, dark counts).
            A number F in [0, 1]: every heralded pair is the Werner state of
            fidelity F (Pauli error ``(F, (1-F)/3, (1-F)/3, (1-F)/3)``, as
            :func:`qactors.hardware.links.double_click` gives it) when its qubits are stored,
            for links whose pair fidelity is a measured input; ``visibility`` must
            then be 1 (it would be ignored).  Memory noise acts from storage on.

    Raises:
        ConfigurationError: an unknown scheme or timing, a field outside its range,
            ``pipelined`` without a ``cycle_ps``, two-round timing on a single-click
            or pipelined link, a ``local_delay_ps`` with one-round timing, or a
            ``visibility`` with ``initial_fidelity``.
    """

    layout: ClassVar[str] = "midpoint"
    _rate_fields: ClassVar[tuple[str, ...]] = ("eta_arm", "bright_state_population")

    scheme: str
    eta_arm: float
    bright_state_population: float = 0.0
    visibility: float = 1.0
    dark_count_probability: float = 0.0
    cycle_ps: int = 0
    pipelined: bool = False
    timing: str = "one-round"
    local_delay_ps: int = 0
    initial_fidelity: float | None = None
    # per-attempt kind probabilities and herald states, fixed by the fields: computed once, not per round
    _kinds: tuple = dataclasses.field(init=False, repr=False, compare=False)
    _states: dict = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ConfigurationError(f"LinkPhysics.scheme = {self.scheme!r} is not known; allowed: {SCHEMES} "
                                     f"(a midpoint source or sender-receiver link takes MidpointSourcePhysics or "
                                     f"SenderReceiverPhysics)", field="scheme", value=self.scheme)
        _check_probabilities(self, ("eta_arm", "bright_state_population", "visibility", "dark_count_probability"))
        _check_cycle(self)
        _check_pipelined(self)
        if self.scheme == "single_click" and self.bright_state_population == 0.0:
            raise ConfigurationError("LinkPhysics.bright_state_population = 0 never emits; allowed for "
                                     "single_click: a number in (0, 1]", field="bright_state_population", value=0.0)
        self._check_timing()
        if self.initial_fidelity is not None:
            f = _checks.real("LinkPhysics.initial_fidelity", self.initial_fidelity, low=0.0, high=1.0,
                             allowed="None (the scheme's own error model) or a number in [0, 1] (every heralded "
                                     "pair a Werner state of that fidelity)", field="initial_fidelity")
            object.__setattr__(self, "initial_fidelity", f)
            if self.visibility != 1.0:
                raise _checks.fail("LinkPhysics.visibility", self.visibility, f"1 with initial_fidelity = {f!r} "
                                   f"(the Werner pair replaces the scheme's error model), or initial_fidelity = None",
                                   field="visibility")
        eta, d = self.eta_arm, self.dark_count_probability
        if self.scheme == "double_click":
            kinds = (eta * eta / 2, 0.0, 2 * eta * (1 - eta) * d / 2 + (1 - eta) ** 2 * d * d / 2)
            good_state = double_click(eta, self.visibility).pauli_probabilities
        else:
            alpha, v = self.bright_state_population, self.visibility
            kinds = (2 * alpha * (1 - alpha) * eta, alpha * alpha * eta * (2 - eta), (1 - alpha * eta) ** 2 * d)
            good_state = ((1 + v) / 2, 0.0, 0.0, (1 - v) / 2)
        object.__setattr__(self, "_kinds", kinds)
        if self.initial_fidelity is not None:  # every herald, whatever its kind, gives the given Werner pair
            pair = werner(self.initial_fidelity)
            object.__setattr__(self, "_states", {GOOD: pair, BAD: pair, DARK: pair})
        else:
            object.__setattr__(self, "_states", {GOOD: good_state, BAD: (0.0, 0.5, 0.5, 0.0), DARK: _MIXED})

    def _check_timing(self) -> None:
        if self.timing not in TIMINGS:
            raise _checks.fail("LinkPhysics.timing", self.timing, f"one of {TIMINGS}", field="timing")
        if self.timing == "two-round" and self.scheme != "double_click":
            raise _checks.fail("LinkPhysics.timing", self.timing, f"'one-round' for scheme {self.scheme!r} "
                               f"('two-round' is the Barrett-Kok timing: scheme 'double_click')", field="timing")
        if self.timing == "two-round" and self.pipelined:
            raise _checks.fail("LinkPhysics.timing", self.timing, "'one-round' with pipelined = True (two-round "
                               "attempts wait for the nodes' negotiations), or pipelined = False", field="timing")
        v = self.local_delay_ps
        if not (type(v) is int and v >= 0):
            raise _checks.fail("LinkPhysics.local_delay_ps", v, "an int >= 0 (tau0 of the two-round timing, ps)",
                               field="local_delay_ps")
        if v and self.timing != "two-round":
            raise _checks.fail("LinkPhysics.local_delay_ps", v, "0 with timing = 'one-round' (tau0 is a term of "
                               "the two-round timing), or timing = 'two-round'", field="local_delay_ps")

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

    # -- the attempt interface (AttemptPhysics) ------------------------------------------
    def source_pairs(self, rng: Any) -> int:
        """Nothing comes from the middle: the nodes emit (no random number drawn)."""
        return 0

    def at_node(self, rng: Any, pairs: int) -> tuple[bool, bool]:
        """:meth:`emit` with two numbers from ``rng``."""
        return self.emit(rng.random(), rng.random())

    def at_station(self, rng: Any, photons: tuple, pairs: int) -> tuple[int, tuple | None]:
        """(kind, Bell coefficients or None) from both nodes' photons, by :meth:`decide`."""
        kind = self.decide(photons[0], photons[1], rng.random(), rng.random())
        return kind, (self.state(kind) if kind else None)

    def draw_success(self, rng: Any) -> tuple[int, tuple]:
        """(kind, Bell coefficients) of a successful attempt, drawn from :meth:`kind_probabilities`."""
        good, bad, dark = self._kinds
        u = rng.random() * (good + bad + dark)
        kind = GOOD if u < good else BAD if u < good + bad else DARK
        return kind, self._states[kind]

    # -- the same process in aggregate -------------------------------------------------
    def kind_probabilities(self) -> tuple[float, float, float]:
        """Per-attempt probabilities of a GOOD, BAD and DARK herald: double click needs both
        photons (half the Bell states are told apart), single click exactly one of the two
        bright spins' photons (both bright and detected: BAD, the |11> term)."""
        return self._kinds

    def success_probability(self) -> float:
        return sum(self._kinds)

    def state(self, kind: int) -> tuple[float, float, float, float]:
        """Bell coefficients (Phi+ frame, after the herald's Pauli correction) of a herald of ``kind``."""
        return self._states[kind]

    def reference_fidelity(self) -> float:
        """Mean fidelity of a heralded pair at emission: the single-click mixture as in hardware.links,
        or ``initial_fidelity`` when it is given."""
        if self.initial_fidelity is not None:
            return self.initial_fidelity
        if self.scheme == "single_click" and self.dark_count_probability == 0.0:
            return single_click(self.bright_state_population, self.eta_arm, self.visibility).fidelity
        good, bad, dark = self.kind_probabilities()
        total = good + bad + dark
        return (good * self.state(GOOD)[0] + bad * self.state(BAD)[0] + dark * 0.25) / total


class _Aggregate(NamedTuple):
    """A midpoint source's per-attempt outcome probabilities, summed over the pair number."""

    good: float
    bad: float
    dark: float
    fidelity_sum: float  # sum over real heralds of probability x fidelity
    bad_state: tuple  # mean Bell coefficients of a BAD herald
    bad_cdf: tuple  # cumulative probability of a BAD herald with 2, 3, ... pairs


@dataclasses.dataclass(frozen=True)
class MidpointSourcePhysics:
    """What one attempt of a midpoint-source link can do.

    Per attempt the source emits ``N`` pairs.  Each of the ``N`` photons that
    travel to a node is stored there with probability ``eta_arm``, independently;
    the node heralds when at least one was (a threshold herald) or, without
    one, on a dark count.  A pair exists when both nodes herald.  Its state:

    * ``N = 1``: the source's Bell pair, its coherence reduced to ``visibility``
      (Phi+ with probability ``(1 + V)/2``, Phi- otherwise);
    * ``N >= 2`` (kind BAD): each node keeps one of the photons that reached it,
      at random.  One photon from each side of ``N`` pairs of a polarisation-
      entangled SPDC source is in the isotropic state of fidelity
      ``(N + 1) / (2 N)`` (then dephased by ``visibility``).  Averaged over the
      thermal pair statistics at low efficiency this gives exactly the
      visibility ``(1 + mu)/(1 + 3 mu)`` of
      :attr:`qactors.hardware.sources.SPDCSource.entanglement_visibility`;
    * a dark-count herald at either end (kind DARK): maximally mixed.

    Args:
        eta_arm: probability that a photon leaving the source is stored with a
            herald at its node: fibre over ``L/2`` times coupling and heralded-
            absorption efficiency, 0..1 (e.g.
            :func:`qactors.hardware.links.midpoint_arm_efficiency`).
        emission_probability: single-pair source: probability per attempt that
            it emits its pair (never more than one), 0..1.
        mean_photon_number: SPDC source if > 0: mean pairs per pulse per mode
            pair, as :class:`~qactors.hardware.sources.SPDCSource` (two thermal
            mode pairs, H and V: ``P(N) = (N + 1) x^N (1 - x)^2`` with
            ``x = mu / (1 + mu)``), at most 10.  0 (default): the single-pair source.
        visibility: coherence of the emitted pair, 0..1.
        dark_count_probability: probability that a node's herald fires with no
            photon stored, per attempt, 0..1.
        cycle_ps: minimum attempt period of the source and the nodes' absorbers,
            ps, an int >= 0 (as for :class:`LinkPhysics`); 0 (default): the round trip.
        pipelined: True: the source fires every ``cycle_ps`` (> 0), its pairs
            heralded on arrival, without waiting for the previous attempt's
            verdict (as for :class:`LinkPhysics`).  False (default): it waits.

    Raises:
        ConfigurationError: a field outside its range, ``emission_probability``
            set for an SPDC source, or ``pipelined`` without a ``cycle_ps``.
    """

    scheme: ClassVar[str] = "midpoint_source"
    layout: ClassVar[str] = "midpoint"
    _rate_fields: ClassVar[tuple[str, ...]] = ("eta_arm", "emission_probability")

    eta_arm: float
    emission_probability: float = 1.0
    mean_photon_number: float = 0.0
    visibility: float = 1.0
    dark_count_probability: float = 0.0
    cycle_ps: int = 0
    pipelined: bool = False
    _aggregate: _Aggregate = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_probabilities(self, ("eta_arm", "emission_probability", "visibility", "dark_count_probability"))
        _check_cycle(self)
        _check_pipelined(self)
        mu = self.mean_photon_number
        if not (isinstance(mu, (int, float)) and 0.0 <= mu <= _MAX_MEAN_PHOTON_NUMBER):
            raise ConfigurationError(f"MidpointSourcePhysics.mean_photon_number = {mu!r} is not allowed; allowed: "
                                     f"0 (single-pair source) or a number in (0, {_MAX_MEAN_PHOTON_NUMBER:g}] (SPDC)",
                                     field="mean_photon_number", value=mu)
        if mu > 0 and self.emission_probability != 1.0:
            raise ConfigurationError(f"MidpointSourcePhysics.emission_probability = {self.emission_probability!r} "
                                     f"is not allowed with an SPDC source (mean_photon_number = {mu!r}), whose "
                                     f"pair statistics follow from mean_photon_number; allowed: 1 (the default)",
                                     field="emission_probability", value=self.emission_probability)
        object.__setattr__(self, "_aggregate", self._sum_over_pairs())

    # -- pair statistics ------------------------------------------------------------------
    def pair_number_probabilities(self) -> tuple[float, ...]:
        """``P(N)`` for ``N = 0, 1, ...`` (the SPDC tail cut where it falls below 1e-18)."""
        if self.mean_photon_number == 0:
            return (1.0 - self.emission_probability, self.emission_probability)
        x = self.mean_photon_number / (1.0 + self.mean_photon_number)
        out, n = [], 0
        while True:
            p = (n + 1) * x ** n * (1 - x) ** 2
            out.append(p)
            if n > 2 * x / (1 - x) and p < 1e-18:  # past the mode: the rest falls geometrically
                return tuple(out)
            n += 1

    def stored_probability(self, pairs: int) -> float:
        """Probability that a node stores at least one of ``pairs`` photons: ``1 - (1 - eta)^N``."""
        if pairs <= 0:
            return 0.0
        if self.eta_arm >= 1.0:
            return 1.0
        return -math.expm1(pairs * math.log1p(-self.eta_arm))

    def pair_state(self, pairs: int) -> tuple[float, float, float, float]:
        """Bell coefficients of a pair heralded at both ends by real photons of ``pairs`` (>= 1) pairs."""
        return _dephased((pairs + 1) / (2 * pairs), self.visibility)

    def _sum_over_pairs(self) -> _Aggregate:
        d = self.dark_count_probability
        good = bad = dark = fidelity_sum = 0.0
        bad_state = [0.0, 0.0, 0.0, 0.0]
        bad_cdf = []
        for n, pn in enumerate(self.pair_number_probabilities()):
            q = self.stored_probability(n)
            dark += pn * (2 * q * (1 - q) * d + (1 - q) ** 2 * d * d)
            if n == 0:
                continue
            both = pn * q * q
            state = self.pair_state(n)
            fidelity_sum += both * state[0]
            if n == 1:
                good = both
            else:
                bad += both
                bad_cdf.append(bad)
                bad_state = [s + both * c for s, c in zip(bad_state, state)]
        mean_bad = tuple(s / bad for s in bad_state) if bad > 0 else _MIXED
        return _Aggregate(good, bad, dark, fidelity_sum, mean_bad, tuple(bad_cdf))

    # -- the attempt interface (AttemptPhysics) ------------------------------------------
    def source_pairs(self, rng: Any) -> int:
        """At the source: the number of pairs emitted in one attempt."""
        if self.mean_photon_number == 0:
            return int(rng.random() < self.emission_probability)
        p = 1.0 / (1.0 + self.mean_photon_number)  # each mode pair is thermal: geometric on 0, 1, ...
        return int(rng.geometric(p)) + int(rng.geometric(p)) - 2

    def at_node(self, rng: Any, pairs: int) -> tuple[bool, bool]:
        """At a node that ``pairs`` photons reached: (a photon stored, the node heralds)."""
        u_store, u_dark = rng.random(), rng.random()
        stored = u_store < self.stored_probability(pairs)
        return stored, stored or u_dark < self.dark_count_probability

    def at_station(self, rng: Any, photons: tuple, pairs: int) -> tuple[int, tuple | None]:
        """(kind, Bell coefficients or None) from both nodes' results for an attempt of ``pairs`` pairs."""
        (stored_a, herald_a), (stored_b, herald_b) = photons
        if not (herald_a and herald_b):
            return 0, None
        if stored_a and stored_b:
            return (GOOD if pairs == 1 else BAD), self.pair_state(pairs)
        return DARK, _MIXED

    def draw_success(self, rng: Any) -> tuple[int, tuple]:
        """(kind, Bell coefficients) of a successful attempt, the pair number drawn for a BAD one."""
        agg = self._aggregate
        u = rng.random() * self.success_probability()
        if u < agg.good:
            return GOOD, self.pair_state(1)
        if u < agg.good + agg.bad:
            i = min(bisect.bisect_right(agg.bad_cdf, u - agg.good), len(agg.bad_cdf) - 1)
            return BAD, self.pair_state(i + 2)
        return DARK, _MIXED

    # -- the same process in aggregate -------------------------------------------------
    def kind_probabilities(self) -> tuple[float, float, float]:
        """Per-attempt probabilities of a GOOD (one pair), BAD (several pairs) and DARK herald."""
        agg = self._aggregate
        return agg.good, agg.bad, agg.dark

    def success_probability(self) -> float:
        return sum(self.kind_probabilities())

    def state(self, kind: int) -> tuple[float, float, float, float]:
        """Bell coefficients of a herald of ``kind`` (for BAD: the mean over the pair number)."""
        if kind == DARK:
            return _MIXED
        return self.pair_state(1) if kind == GOOD else self._aggregate.bad_state

    def reference_fidelity(self) -> float:
        """Mean fidelity of a heralded pair when stored (no memory noise)."""
        agg = self._aggregate
        return (agg.fidelity_sum + 0.25 * agg.dark) / self.success_probability()


@dataclasses.dataclass(frozen=True)
class SenderReceiverPhysics:
    """What one attempt of a sender-receiver link can do.

    Node ``a`` emits a photon entangled with its memory every attempt; node
    ``b`` stores it with a herald with probability ``eta_link``, and otherwise
    heralds falsely on a dark count (a maximally mixed pair).

    Args:
        eta_link: probability that ``a``'s photon is stored with a herald at
            ``b``: emission and collection efficiency times fibre transmission
            over ``L`` (:attr:`~qactors.hardware.channels.Fibre.transmissivity`)
            times heralded-absorption efficiency, 0..1.
        visibility: coherence of the spin-photon pair, 0..1 (Phi+ with
            probability ``(1 + V)/2``, Phi- otherwise).
        dark_count_probability: probability that ``b``'s herald fires with no
            photon stored, per attempt, 0..1.
        cycle_ps: minimum attempt period of the sender, ps, an int >= 0 (as for
            :class:`LinkPhysics`); 0 (default): the round trip ``2 L/c``.
        pipelined: True: ``a`` emits every ``cycle_ps`` (> 0) without waiting
            for the previous attempt's herald (as for :class:`LinkPhysics`).
            False (default): it waits.

    Raises:
        ConfigurationError: a probability outside [0, 1], a bad ``cycle_ps`` or
            ``pipelined``, or ``pipelined`` without a ``cycle_ps``.
    """

    scheme: ClassVar[str] = "sender_receiver"
    layout: ClassVar[str] = "receiver"
    _rate_fields: ClassVar[tuple[str, ...]] = ("eta_link",)

    eta_link: float
    visibility: float = 1.0
    dark_count_probability: float = 0.0
    cycle_ps: int = 0
    pipelined: bool = False

    def __post_init__(self) -> None:
        _check_probabilities(self, ("eta_link", "visibility", "dark_count_probability"))
        _check_cycle(self)
        _check_pipelined(self)

    def source_pairs(self, rng: Any) -> int:
        """Nothing comes from a source: node ``a`` emits (no random number drawn)."""
        return 0

    def at_node(self, rng: Any, pairs: int) -> tuple[bool, bool]:
        """At node ``a``: (emitted, stored at ``b``)."""
        return True, rng.random() < self.eta_link

    def at_station(self, rng: Any, photons: tuple, pairs: int) -> tuple[int, tuple | None]:
        """At ``b``'s absorber: (kind, Bell coefficients or None) from ``a``'s photon."""
        ((_, arrived),) = photons
        if arrived:
            return GOOD, self.state(GOOD)
        if rng.random() < self.dark_count_probability:
            return DARK, _MIXED
        return 0, None

    def draw_success(self, rng: Any) -> tuple[int, tuple]:
        """(kind, Bell coefficients) of a successful attempt, drawn from :meth:`kind_probabilities`."""
        good, _, _ = self.kind_probabilities()
        kind = GOOD if rng.random() * self.success_probability() < good else DARK
        return kind, self.state(kind)

    def kind_probabilities(self) -> tuple[float, float, float]:
        """Per-attempt probabilities of a GOOD, BAD (never) and DARK herald."""
        return self.eta_link, 0.0, (1.0 - self.eta_link) * self.dark_count_probability

    def success_probability(self) -> float:
        return sum(self.kind_probabilities())

    def state(self, kind: int) -> tuple[float, float, float, float]:
        """Bell coefficients of a herald of ``kind``."""
        return _MIXED if kind == DARK else _dephased(1.0, self.visibility)

    def reference_fidelity(self) -> float:
        """Mean fidelity of a heralded pair when stored (no memory noise)."""
        good, _, dark = self.kind_probabilities()
        return (good * self.state(GOOD)[0] + 0.25 * dark) / (good + dark)


@message
class Ready(Message):
    link: str
    round: int
    noise: MemoryNoise


@message
class Go(Message):
    link: str
    round: int
    pairs: int = 0  # midpoint source: pairs emitted in the first attempt, whose light travels with this message


@message
class Photon(Message):
    """What a node reports for one attempt.

    Midpoint heralding: ``bright`` the spin emitted, ``detected`` the photon
    reaches the station's detectors.  Midpoint source: ``bright`` a real photon
    was stored, ``detected`` the node heralded.  Sender-receiver: ``bright``
    always, ``detected`` the photon will be stored at ``b``.  The flags the
    hardware could not know (which spin was bright, whether a herald was a
    dark count) label the pair's state only.
    """

    link: str
    round: int
    attempt: int
    bright: bool
    detected: bool


@message
class Herald(Message):
    link: str  # the memory slot pair the herald is for
    round: int
    attempt: int
    kind: int  # 0: failed attempt; GOOD, BAD or DARK: a pair was heralded
    pair: object  # PairRecord, or None for a failed attempt
    pairs: int = 0  # failed attempt of a midpoint source: pairs emitted in the next attempt
    purpose: str = ""  # shared memories: the request the channel gave this pair to ("": the slot's owner's)


@message
class Want(Message):
    """A node asks a link's channel actor to generate pairs for ``purpose`` (``on``), or to stop.

    Only for links whose memories are shared between requests: the channel
    opens a round only while some purpose wants pairs, and gives each round's
    pair to the wanting purposes in turn (sorted by id), so both ends learn
    from the herald itself which request the pair serves and never disagree.
    These are the purpose identifiers of the link layer of Dahlberg et al.,
    "A link layer protocol for quantum networks", SIGCOMM 2019.
    """

    link: str  # the link's name
    purpose: str
    on: bool


@message
class _Attempt(Message):
    """Channel timer of a pipelined link in the attempts model: attempt ``attempt`` of ``round``
    on ``slot`` reaches the station now, to be drawn and decided."""
    slot: str
    round: int
    attempt: int


def scaled_efficiency(physics: Any, factor: float) -> Any:
    """``physics`` with its per-attempt efficiency (its first rate field: ``eta_arm`` or ``eta_link``)
    multiplied by ``factor``: a detector or channel that lost that share of its light."""
    field = physics._rate_fields[0]
    return dataclasses.replace(physics, **{field: getattr(physics, field) * factor})


def _never_heralds(link: str, physics: Any) -> ConfigurationError:
    fields = getattr(physics, "_rate_fields", ())
    name = next((f for f in fields if getattr(physics, f) == 0), fields[0] if fields else "physics")
    value = getattr(physics, name, physics)
    return ConfigurationError(f"link {link!r} can never herald: its success probability per attempt is 0 "
                              f"({name} = {value}); allowed: a link that can succeed", field=name, value=value)


class SlotRounds(PlainData):
    """The rounds of one slot pair of a link (one memory slot at each end), as its channel keeps them.

    Plain data in the channel actor's state: the round under way, the ends
    ready for the next one (with their memories' noise), the photons reported
    for the attempt under way, the pairs a midpoint source emitted in it, and
    when the emitters last attempted.
    """

    # slots, in the order the fields were once set: a link has a record per slot pair (no instance dict)
    __slots__ = ("round", "ready", "photons", "pairs", "attempt", "emitted_ps", "purpose", "waiting")

    def __init__(self) -> None:
        self.round = -1
        self.ready: dict[str, MemoryNoise] = {}
        self.photons: dict[str, tuple[bool, bool]] = {}
        self.pairs = 0
        self.attempt = 0
        self.emitted_ps: int | None = None
        self.purpose = ""       # shared memories: the request this round's pair goes to
        self.waiting = False    # shared memories: both ends ready, no request wants pairs yet



class _LinkActor(Actor):
    """The channel actor of one link: every heralded attempt of every slot pair, decided in one place
    (see the module docstring).

    ``slots`` are the ids of the link's slot pairs (one memory slot at each
    end; default one, named ``link``); each runs its own rounds
    (:class:`SlotRounds`), in parallel, as the multiplexed attempts of a real
    midpoint station.  ``delays``: latency of messages to each node's end,
    ps; ``lags``: how long before an attempt is decided here each node stored
    its qubit, ps; ``emitters``: the nodes that act every attempt (they get
    :class:`Go` and failed heralds).  ``speakers`` maps each node to the actor
    that holds its end of the link, sends :class:`Ready` and receives the
    heralds: its memory actor (default: the node itself).  The pair records
    name the nodes.

    The emitters attempt at most once per ``physics.cycle_ps``: a :class:`Go`
    or failed :class:`Herald` that would reach them sooner than ``cycle_ps``
    after their previous attempt arrives when the cycle has run out (the node
    waits; a midpoint source fires that much later).  A successful herald
    always travels at the plain latency.

    In the ``geometric`` model the round's successful attempt, its kind and
    state are drawn when the round opens and its :class:`Herald` is sent then,
    timed to arrive exactly when the decision of that attempt would reach each
    end (nothing can end a round early, so no timer is needed).  With
    ``physics.pipelined`` the emitters fire every ``cycle_ps`` from the
    round's first attempt on, without waiting for heralds, so the attempts
    reach this actor one cycle apart and the first success ends the round;
    the ``attempts`` model sets one :class:`_Attempt` timer per cycle, at
    which it draws the emitters' and its own part of the attempt from
    ``physics``.  The nodes hear only the successful :class:`Herald`.

    ``shared``: the link's memories lend their slots to any request; a round
    opens only while some purpose is wanted (:class:`Want`) and its pair goes
    to the wanted purposes in turn.
    """

    _layout = ""
    _accepts = ""
    kind = "channel"

    def __init__(self, actor_id: str, link: str, node_a: str, node_b: str, physics: AttemptPhysics, model: str,
                 delays: dict[str, int], lags: dict[str, int], emitters: tuple[str, ...], *,
                 slots: tuple[str, ...] | None = None, speakers: dict[str, str] | None = None,
                 shared: bool = False, faults: tuple = ()):
        super().__init__(actor_id)
        if model not in MODELS:
            raise ConfigurationError(f"link model {model!r} is not known; allowed: {MODELS}", field="model",
                                     value=model)
        if getattr(physics, "layout", None) != self._layout:
            raise ConfigurationError(f"{type(self).__name__} {actor_id!r} cannot run link {link!r} with "
                                     f"{type(physics).__name__}; allowed: {self._accepts} (link_components picks the "
                                     f"right actor for any scheme)", field="physics", value=type(physics).__name__)
        for node, delay in delays.items():
            if type(delay) is not int or delay <= 0:
                raise ConfigurationError(f"delay from {actor_id!r} to {node!r} = {delay!r} is not allowed; "
                                         f"allowed: an int > 0 (ps)", field="delay_ps", value=delay)
        if physics.success_probability() <= 0.0:
            raise _never_heralds(link, physics)
        slots = (link,) if slots is None else tuple(slots)
        if not slots or len(set(slots)) != len(slots) or not all(type(s) is str and s for s in slots):
            raise ConfigurationError(f"slots of link {link!r} = {slots!r} are not allowed; allowed: distinct "
                                     f"non-empty strings, at least one", field="slots", value=slots)
        self.link, self.node_a, self.node_b = link, node_a, node_b
        self.physics, self.model = physics, model
        self.delays, self.lags, self.emitters = delays, lags, emitters
        self.speakers = {node_a: node_a, node_b: node_b, **(speakers or {})}
        self.node_of = {actor: node for node, actor in self.speakers.items()}
        # from one attempt's decision here to the next one's: the emitters' round trip, or their hardware cycle;
        # pipelined, the cycle alone (the emitters do not wait for heralds)
        self.period_ps = _period_ps(physics, 2 * delays[emitters[0]])
        # two-round timing: how much later than that round trip a success's / a failure's verdict leaves here
        self.settle_ps = _settle_ps(physics, 2 * delays[emitters[0]])
        self.slots = {s: SlotRounds() for s in slots}
        self.shared = shared
        self.wants: tuple[str, ...] = ()  # shared: purposes that want pairs, sorted
        self.turn = 0               # shared: how many rounds have been given a purpose
        self.heralds = 0
        self.ignored = 0
        self.faults = tuple(faults)  # LinkCut and DetectorDrop records for this link (protocols.faults)
        # derived from the faults, for the check at every round's opening: (from, until) of each cut
        self._cuts = tuple(sorted((f.at_ps, f.repair_ps or _checks.MAX_PS) for f in self.faults
                                  if isinstance(f, LinkCut)))
        self.down = False
        self.lost_rounds = 0

    def on_start(self) -> None:
        for fault in self.faults:
            self.set_timer(_Fault(fault, False), delay_ps=fault.at_ps)
            if isinstance(fault, LinkCut) and fault.repair_ps:
                self.set_timer(_Fault(fault, True), delay_ps=fault.repair_ps)

    @handler(_Fault)
    def on_fault(self, msg: _Fault, sender: str) -> None:
        fault = msg.fault
        if isinstance(fault, DetectorDrop):
            self.physics = scaled_efficiency(self.physics, fault.factor)
            return
        if not msg.end and not self.down:  # the cut: every round under way dies, the ends hear of it
            self.down = True
            for slot in self.slots.values():
                slot.ready, slot.photons, slot.waiting = {}, {}, False
            for node in (self.node_a, self.node_b):
                self.send(self.speakers[node], LinkDown(self.link, self.now), delay_ps=self.delays[node])
        elif msg.end and self.down:  # (cuts of one link never overlap: the builder refuses them)
            self.down = False
            for slot in self.slots.values():
                slot.round += 1  # rounds opened before the cut are over
                slot.emitted_ps = None
            rounds = tuple((sid, slot.round + 1) for sid, slot in self.slots.items())
            for node in (self.node_a, self.node_b):
                self.send(self.speakers[node], LinkUp(self.link, rounds), delay_ps=self.delays[node])

    @handler(Ready)
    def on_ready(self, msg: Ready, sender: str) -> None:
        node = self.node_of.get(sender)
        slot = self.slots.get(msg.link)
        if self.down:
            self.ignored += 1
            return
        if slot is None or node is None or msg.round != slot.round + 1 or node in slot.ready:
            self.ignored += 1
            return
        slot.ready[node] = msg.noise
        if len(slot.ready) == 2:
            if self.wants or not self.shared:
                self._open(msg.link, slot)
            else:
                slot.waiting = True  # shared memories and no request wants pairs: open when one does

    @handler(Want)
    def on_want(self, msg: Want, sender: str) -> None:
        if msg.link != self.link or not self.shared:
            self.ignored += 1
            return
        wanted = msg.purpose in self.wants
        if msg.on == wanted:
            return
        if msg.on:
            self.wants = tuple(sorted((*self.wants, msg.purpose)))
            if len(self.wants) == 1 and not self.down:  # rounds waiting for a purpose open now
                for sid, slot in self.slots.items():
                    if slot.waiting:
                        self._open(sid, slot)
        else:
            self.wants = tuple(p for p in self.wants if p != msg.purpose)

    def _open(self, sid: str, slot: SlotRounds) -> None:
        """Both ends of ``sid`` are ready: open its next round."""
        slot.round += 1
        slot.attempt = 0
        slot.photons = {}
        slot.waiting = False
        if self.shared:
            slot.purpose = self.wants[self.turn % len(self.wants)]
            self.turn += 1
        wait = self._cycle_wait_ps(slot)
        # attempt 1 leaves the emitters when they hear the round open (and their cycle allows) and is decided
        # here one delay later; attempt k, (k - 1) periods after that
        first = wait + 2 * self.delays[self.emitters[0]]
        if self.model == "attempts" and self.physics.pipelined:
            self.set_timer(_Attempt(sid, slot.round, 1), delay_ps=first)
            return
        if self.model == "attempts":
            slot.pairs = self.physics.source_pairs(self.rng)
            for node in self.emitters:
                self.send(self.speakers[node], Go(sid, slot.round, slot.pairs), delay_ps=self.delays[node] + wait)
            return
        k = int(self.rng.geometric(self.physics.success_probability()))
        kind, state = self.physics.draw_success(self.rng)
        after = first + (k - 1) * self.period_ps
        if self._cuts and self._cut_between(self.now, self.now + after + self.settle_ps[0]):
            self.lost_rounds += 1  # the fibre is cut before this round's success: it never heralds
            return
        self._herald(sid, slot, k, kind, state, after)

    def _cut_between(self, t0: int, t1: int) -> bool:
        return any(start <= t1 and end > t0 for start, end in self._cuts)

    def _cycle_wait_ps(self, slot: SlotRounds) -> int:
        """How much later than the latency a message sent now that sets the emitters off must arrive, ps:
        not before ``physics.cycle_ps`` after their previous attempt."""
        if slot.emitted_ps is None:
            return 0
        return max(0, slot.emitted_ps + self.physics.cycle_ps - self.now - self.delays[self.emitters[0]])

    @handler(_Attempt)
    def on_attempt(self, msg: _Attempt, sender: str) -> None:
        # only this actor sets these timers, one at a time per slot, and none after the round's success
        slot = self.slots[msg.slot]
        if self.down or msg.round != slot.round:
            return  # the round died with a cut
        slot.attempt = msg.attempt
        physics = self.physics
        pairs = physics.source_pairs(self.rng)
        photons = tuple(physics.at_node(self.rng, pairs) for _ in self.emitters)
        kind, state = physics.at_station(self.rng, photons, pairs)
        if kind:
            self._herald(msg.slot, slot, msg.attempt, kind, state)
        else:  # the next attempt left the emitters one cycle after this one: no herald, no waiting
            self.set_timer(_Attempt(msg.slot, slot.round, msg.attempt + 1), delay_ps=physics.cycle_ps)

    @handler(Photon)
    def on_photon(self, msg: Photon, sender: str) -> None:
        node = self.node_of.get(sender)
        slot = self.slots.get(msg.link)
        if (self.down or slot is None or msg.round != slot.round or msg.attempt != slot.attempt + 1
                or node not in self.emitters or node in slot.photons
                or self.model != "attempts" or self.physics.pipelined or len(slot.ready) < 2):
            self.ignored += 1  # late, duplicated, foreign or unasked-for photons never count
            return
        slot.photons[node] = (msg.bright, msg.detected)
        if len(slot.photons) < len(self.emitters):
            return
        slot.attempt += 1
        kind, state = self.physics.at_station(self.rng, tuple(slot.photons[n] for n in self.emitters), slot.pairs)
        slot.photons = {}
        self._herald(msg.link, slot, slot.attempt, kind, state)

    def _herald(self, sid: str, slot: SlotRounds, attempt: int, kind: int, state: tuple | None,
                after_ps: int = 0) -> None:
        """Attempt ``attempt`` of ``sid`` is decided ``after_ps`` from now: tell the ends that need to know.
        (Two-round timing: its photons reach this actor then; the verdict leaves ``settle_ps`` later.)"""
        decided = self.now + after_ps
        slot.emitted_ps = decided - self.delays[self.emitters[0]]
        pair = None
        if kind:
            a, b = self.node_a, self.node_b
            stored_a, stored_b = decided - self.lags[a], decided - self.lags[b]
            pair = PairRecord(f"{sid}#{slot.round}", state, min(stored_a, stored_b),
                              PairEnd(a, slot.ready[a], stored_a), PairEnd(b, slot.ready[b], stored_b))
            slot.ready = {}
            self.heralds += 1
            slot.pairs = 0
            targets: tuple[str, ...] = (a, b)
        else:
            slot.pairs = self.physics.source_pairs(self.rng)  # the next attempt's light leaves with this herald
            targets = self.emitters
        if self.settle_ps[0]:  # two-round: the success later; a failure one period after the last emission
            wait = self.settle_ps[0] if kind else self.settle_ps[1]  # (period >= cycle_ps: no cycle wait)
        else:
            wait = 0 if kind else self._cycle_wait_ps(slot)  # a failed herald sets the emitters off again
        for node in targets:
            self.send(self.speakers[node], Herald(sid, slot.round, attempt, kind, pair, slot.pairs, slot.purpose),
                      delay_ps=after_ps + self.delays[node] + wait)


class MidpointStation(_LinkActor):
    """The channel actor half-way between ``node_a`` and ``node_b``: a heralding station
    (:class:`LinkPhysics`) or a photon-pair source that collects both nodes'
    heralds (:class:`MidpointSourcePhysics`).  ``arm_delay_ps``: fibre delay
    over half the link, ps.  ``slots``, ``speakers``, ``shared``: as for the base class."""

    _layout = "midpoint"
    _accepts = "LinkPhysics or MidpointSourcePhysics"

    def __init__(self, actor_id: str, link: str, node_a: str, node_b: str, physics: AttemptPhysics, model: str,
                 arm_delay_ps: int, **kw):
        arms = {node_a: arm_delay_ps, node_b: arm_delay_ps}  # delays and lags alike: one table for both
        super().__init__(actor_id, link, node_a, node_b, physics, model, arms, arms, (node_a, node_b), **kw)
        self.arm_delay_ps = arm_delay_ps


class ReceiverStation(_LinkActor):
    """The channel actor of a sender-receiver link: the heralded absorber, at ``receiver``'s site.

    ``sender`` (node ``a``) emits each attempt; the photon reaches here
    ``link_delay_ps`` later (fibre over the whole link), where it is stored in
    ``receiver``'s memory, which hears of it ``local_delay_ps`` later.
    ``slots``, ``speakers``, ``shared``: as for the base class.
    """

    _layout = "receiver"
    _accepts = "SenderReceiverPhysics"

    def __init__(self, actor_id: str, link: str, sender: str, receiver: str, physics: AttemptPhysics, model: str,
                 link_delay_ps: int, local_delay_ps: int = RECEIVER_LOCAL_DELAY_PS, **kw):
        super().__init__(actor_id, link, sender, receiver, physics, model,
                         {sender: link_delay_ps, receiver: local_delay_ps}, {sender: link_delay_ps, receiver: 0},
                         (sender,), **kw)
        self.link_delay_ps, self.local_delay_ps = link_delay_ps, local_delay_ps


class LinkSide(PlainData):
    """One node's end of one link: the memory slot and the round/attempt bookkeeping.

    Plain data kept in the owning actor's state; the actor passes itself in to
    send and draw random numbers.  Stale, duplicated or foreign link messages
    are counted in ``ignored`` and change nothing.  ``station`` is the link's
    deciding actor and ``arm_delay_ps`` the latency to it; ``emits`` is False
    for the receiving end of a sender-receiver link, which never acts per
    attempt (it only hears of successes).  :meth:`LinkSideArgs.side` builds one
    for any scheme.
    """

    # slots, in the order the fields were once set (so a side encodes as before): one per memory slot
    __slots__ = ("link", "station", "physics", "arm_delay_ps", "noise", "emits", "round", "attempt", "pair",
                 "pair_attempts", "attempts_emitted", "photons_detected", "ignored")

    def __init__(self, link: str, station: str, physics: AttemptPhysics, arm_delay_ps: int, noise: MemoryNoise,
                 *, emits: bool = True):
        self.link, self.station, self.physics = link, station, physics
        self.arm_delay_ps = arm_delay_ps
        self.noise = noise
        self.emits = emits
        self.round = 0
        self.attempt = 0
        self.pair: PairRecord | None = None
        self.pair_attempts = 0  # attempts the current pair took
        self.attempts_emitted = 0
        self.photons_detected = 0
        self.ignored = 0


    def ready(self, actor: Actor) -> None:
        """Offer the (free) slot for the next round."""
        actor.send(self.station, Ready(self.link, self.round, self.noise), delay_ps=self.arm_delay_ps)

    def _emit(self, actor: Actor, pairs: int) -> None:
        self.attempt += 1
        bright, detected = self.physics.at_node(actor.rng, pairs)
        self.attempts_emitted += 1
        self.photons_detected += int(detected)
        actor.send(self.station, Photon(self.link, self.round, self.attempt, bright, detected),
                   delay_ps=self.arm_delay_ps)

    def go(self, actor: Actor, msg: Go) -> None:
        if not self.emits or msg.round != self.round or self.attempt or self.pair is not None:
            self.ignored += 1
            return
        self._emit(actor, msg.pairs)

    def herald(self, actor: Actor, msg: Herald) -> PairRecord | None:
        """Handle a herald; return the new pair if it heralded one for this slot."""
        if msg.round != self.round or self.pair is not None or (self.attempt and msg.attempt != self.attempt):
            self.ignored += 1  # a herald of another round or attempt: stale or duplicated
            return None
        if not msg.kind:
            if not self.emits:
                self.ignored += 1  # a receiving end is never told of failed attempts
                return None
            self._emit(actor, msg.pairs)
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


class LinkNode(Actor):
    """Base of actors that hold link ends (nodes, memory banks): ``self.sides`` maps link or slot
    ids to their :class:`LinkSide`; a message for one the actor does not hold is counted in
    ``ignored``.  Handles :class:`Go`; subclasses handle :class:`Herald`."""

    sides: dict[str, LinkSide]
    ignored: int

    def _side(self, link: str) -> LinkSide | None:
        side = self.sides.get(link)
        if side is None:
            self.ignored += 1  # a message for a link memory this node does not have
        return side

    @handler(Go)
    def on_go(self, msg: Go, sender: str) -> None:
        side = self._side(msg.link)
        if side is not None:
            side.go(self, msg)


class LinkEnd(Actor):
    """A node at one end of a link with one memory slot for it.

    Takes every heralded pair, records it (time, attempt count, kind, fidelity
    on arrival) and frees the slot at once, until ``max_pairs`` pairs: the
    consumer for link-level studies.
    """

    def __init__(self, actor_id: str, link: str, station: str, physics: AttemptPhysics, memory: QuantumMemory,
                 arm_delay_ps: int, max_pairs: int = 1_000_000, *, emits: bool = True):
        super().__init__(actor_id)
        self.side = LinkSide(link, station, physics, arm_delay_ps, memory.noise(), emits=emits)
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


# -- building links ------------------------------------------------------------------------

class LinkSideArgs(NamedTuple):
    """What one node needs to take part in a link: the :class:`LinkSide` arguments but the noise."""

    link: str
    station: str
    physics: AttemptPhysics
    arm_delay_ps: int
    emits: bool = True

    def side(self, noise: MemoryNoise, kind: type[LinkSide] = LinkSide) -> LinkSide:
        """The node's :class:`LinkSide` (or subclass ``kind``) for a memory with ``noise``."""
        return kind(self.link, self.station, self.physics, self.arm_delay_ps, noise, emits=self.emits)


class LinkComponents(NamedTuple):
    """A link between ``node_a`` and ``node_b`` as :func:`plan_link` lays it out."""

    a: LinkSideArgs
    b: LinkSideArgs
    station: str  # id of the link's deciding actor
    node_delay_ps: int  # latency of the path between the two nodes through the link's actor, ps
    attempt_ps: int  # period of one attempt: the herald round trip or physics.cycle_ps, the longer (pipelined:
    # cycle_ps alone), ps


class LinkTiming(NamedTuple):
    """Closed-form figures of one link (see :func:`link_timing`)."""

    scheme: str
    attempt_ps: int  # period T of one attempt: the herald round trip or the physics' cycle_ps, the longer;
    # pipelined, cycle_ps alone
    success_probability: float  # per attempt
    fidelity: float  # mean fidelity of a heralded pair as stored (no memory noise)
    herald_ps: tuple[int, int]  # from an attempt's emission (at the node, or at the source) to each end's herald
    stored_ps: tuple[int, int]  # how long each end's qubit has been stored when that end's herald arrives
    attempt_rate_hz: float  # p / T: heralded pairs per second with attempts back to back
    pair_rate_hz: float  # 1 / (max(2R, cycle) + (1/p - 1) T): with the slot re-offered after each pair (LinkEnd)


def _check_length(length_km: object) -> None:
    if not (isinstance(length_km, (int, float)) and length_km > 0 and math.isfinite(length_km)):
        raise ConfigurationError(f"length_km = {length_km!r} is not allowed; allowed: a finite number > 0",
                                 field="length_km", value=length_km)


def plan_link(link: str, node_a: str, node_b: str, physics: AttemptPhysics, *, length_km: float,
              refractive_index: float = 1.47, station: str | None = None) -> LinkComponents:
    """Lay out a link without building anything: ids, delays and each end's :class:`LinkSideArgs`.

    Midpoint layouts (:class:`LinkPhysics`, :class:`MidpointSourcePhysics`): an
    actor half-way, ``"{link}/station"`` or ``"{link}/source"``, an arm of
    ``length_km / 2`` of fibre to each node.  Sender-receiver
    (:class:`SenderReceiverPhysics`): ``node_a`` sends, ``"{link}/receiver"``
    sits at ``node_b``, ``length_km`` of fibre from ``node_a`` and
    :data:`RECEIVER_LOCAL_DELAY_PS` from ``node_b``.  ``attempt_ps`` is the
    attempt period: the herald round trip or ``physics.cycle_ps``, the longer,
    or ``physics.cycle_ps`` alone on a pipelined link.

    Args:
        link: the link's id (what :class:`LinkSide` and the messages carry).
        node_a, node_b: the two node actors' ids (``node_a`` sends on a sender-receiver link).
        physics: the link's per-attempt physics.
        length_km: node-to-node fibre length, km, > 0.
        refractive_index: the fibre's group index, >= 1.
        station: id of the link's actor, if not the default.

    Raises:
        ConfigurationError: a bad length, index, id or physics object.
    """
    _check_length(length_km)
    for name, value in (("link", link), ("node_a", node_a), ("node_b", node_b), ("station", station)):
        if not (type(value) is str and value) and not (name == "station" and value is None):
            raise ConfigurationError(f"{name} = {value!r} is not allowed; allowed: a non-empty string",
                                     field=name, value=value)
    if node_a == node_b:
        raise ConfigurationError(f"link {link!r} joins node {node_a!r} to itself; allowed: two different nodes",
                                 field="node_b", value=node_b)
    layout = getattr(physics, "layout", None)
    if layout == "midpoint":
        arm = Fibre(length_km / 2, refractive_index=refractive_index).delay_ps
        station = station or f"{link}/{'source' if physics.scheme == 'midpoint_source' else 'station'}"
        side = LinkSideArgs(link, station, physics, arm)
        return LinkComponents(side, side, station, 2 * arm, _period_ps(physics, 2 * arm))
    if layout == "receiver":
        fibre = Fibre(length_km, refractive_index=refractive_index).delay_ps
        station = station or f"{link}/receiver"
        return LinkComponents(LinkSideArgs(link, station, physics, fibre),
                              LinkSideArgs(link, station, physics, RECEIVER_LOCAL_DELAY_PS, emits=False),
                              station, fibre + RECEIVER_LOCAL_DELAY_PS, _period_ps(physics, 2 * fibre))
    raise ConfigurationError(f"physics = {physics!r} is not link physics; allowed: LinkPhysics, "
                             f"MidpointSourcePhysics or SenderReceiverPhysics", field="physics",
                             value=type(physics).__name__)


def link_components(net: Network, link: str, node_a: str, node_b: str, physics: AttemptPhysics, *,
                    length_km: float, model: str = "geometric", refractive_index: float = 1.47,
                    station: str | None = None, site: str | None = None, slots: tuple[str, ...] | None = None,
                    speakers: dict[str, str] | None = None, shared: bool = False, faults: tuple = ()) -> LinkComponents:
    """Add the actor and connections of a link of any scheme between two nodes already in ``net``.

    Returns what :func:`plan_link` returns for the same arguments; the node
    actors need its ``a`` and ``b`` (``LinkComponents.a.side(noise)`` is
    ``node_a``'s :class:`LinkSide`), so a builder whose nodes take their sides
    at construction calls :func:`plan_link` first, adds the nodes, then calls
    this.  ``node_delay_ps`` is the latency of the path between the two nodes
    through the link, for classical messages between them.

    Args:
        net: the network; ``node_a`` and ``node_b`` must be in it.
        link, node_a, node_b, physics, length_km, refractive_index, station: as
            for :func:`plan_link`.
        model: ``"attempts"`` or ``"geometric"``.
        site: where the link's actor is placed: default its own id for a
            midpoint actor, ``node_b``'s site for a receiver.
        slots: ids of the link's slot pairs, each with its own rounds (default
            one, named ``link``).
        speakers: for each node, the actor (in ``net``) that holds its end of
            the link: its memory actor; it is joined to the channel actor by
            the same fibre as the node.  Default: the nodes themselves.
        shared: the memories lend their slots to any request (see :class:`Want`).
        faults: :class:`~qactors.protocols.faults.LinkCut` and ``DetectorDrop`` records for this link.

    Raises:
        ConfigurationError: as :func:`plan_link`; an unknown model; a node not in
            ``net``; the actor id already taken; a link that can never herald.

    >>> from qactors.protocols.link import SenderReceiverPhysics, LinkEnd
    >>> from qactors.hardware import QuantumMemory
    >>> physics = SenderReceiverPhysics(eta_link=0.1)
    >>> plan = plan_link("A-B", "A", "B", physics, length_km=20)
    >>> net = Network()
    >>> for node, args in (("A", plan.a), ("B", plan.b)):
    ...     _ = net.add_actor(LinkEnd(node, args.link, args.station, physics, QuantumMemory(1), args.arm_delay_ps,
    ...                               emits=args.emits))
    >>> link_components(net, "A-B", "A", "B", physics, length_km=20).station
    'A-B/receiver'
    """
    plan = plan_link(link, node_a, node_b, physics, length_km=length_km, refractive_index=refractive_index,
                     station=station)
    if model not in MODELS:
        raise ConfigurationError(f"link model {model!r} is not known; allowed: {MODELS}", field="model", value=model)
    for node in (node_a, node_b):
        if node not in net.index:
            raise ConfigurationError(f"link {link!r} joins node {node!r}, which is not in the network; allowed: "
                                     f"nodes added first (plan_link gives their LinkSide arguments beforehand)",
                                     field="node", value=node)
    speakers = dict(speakers or {})
    for node, actor_id in speakers.items():
        if node not in (node_a, node_b) or actor_id not in net.index:
            raise ConfigurationError(f"speakers of link {link!r} = {speakers!r} are not allowed; allowed: a map from "
                                     f"{node_a!r} or {node_b!r} to an actor already in the network (its memory)",
                                     field="speakers", value=speakers)
    kw = dict(slots=slots, speakers=speakers, shared=shared, faults=tuple(faults))
    if physics.layout == "midpoint":
        arm = plan.a.arm_delay_ps
        actor: _LinkActor = MidpointStation(plan.station, link, node_a, node_b, physics, model, arm, **kw)
        net.add_actor(actor, site=site or plan.station)
        delays = {node_a: arm, node_b: arm}
    else:
        fibre, local = plan.a.arm_delay_ps, plan.b.arm_delay_ps
        actor = ReceiverStation(plan.station, link, node_a, node_b, physics, model, fibre, local, **kw)
        net.add_actor(actor, site=site or net.sites[net.index[node_b]])
        delays = {node_a: fibre, node_b: local}
    for node in (node_a, node_b):
        net.connect(node, plan.station, latency_ps=delays[node])
        if speakers.get(node, node) != node:
            net.connect(speakers[node], plan.station, latency_ps=delays[node])
    return plan


def link_timing(physics: AttemptPhysics, length_km: float, *, refractive_index: float = 1.47) -> LinkTiming:
    """Attempt period, success probability, mean fidelity and pair rates of a link, in closed form.

    Uses the delays :func:`link_components` builds.  The herald round trip
    ``R`` is ``2 x`` the arm delay (``L/c``) for midpoint layouts and ``2 x``
    the fibre delay (``2 L/c``) for sender-receiver; the period is
    ``T = max(R, physics.cycle_ps)``, or ``T = physics.cycle_ps`` if
    ``physics.pipelined`` (attempts do not wait for heralds).  ``pair_rate_hz``
    is what a :class:`LinkEnd` pair of nodes measures: after a pair's
    successful attempt the herald and the slot's new offer take ``2 R``, and the
    next round's first attempt comes ``max(2 R, cycle_ps)`` after it; then
    ``K - 1`` more periods (``K`` geometric with mean ``1/p``), so
    ``pair_rate_hz = 1 / (max(2 R, cycle_ps) + (1/p - 1) T)``.  Without a cycle
    that is ``1 / ((1/p + 1) T)``; with ``cycle_ps >= 2 R`` it is ``p / T``;
    pipelined with ``cycle_ps < 2 R`` it is ``1 / (2 R + (1/p - 1) cycle_ps)``,
    the handshake ``2 R`` then bounding the rate by ``1 / 2 R`` however many
    attempts a cycle fits.  ``herald_ps`` and ``stored_ps`` do not depend on
    the period: every end stores its qubit from the successful attempt.

    Two-round timing (:class:`LinkPhysics` ``timing="two-round"``, ``tau = R``):
    ``T = max(5 R + 2 tau0, cycle_ps)``, ``herald_ps = stored_ps = 4 R + 2 tau0``
    and the next round's first attempt ``max(5 R + 2 tau0, cycle_ps)`` after a
    success (the herald, then the offer's ``R``), so ``pair_rate_hz = p / T``
    without a cycle.

    >>> from qactors.protocols.link import LinkPhysics
    >>> t = link_timing(LinkPhysics("double_click", eta_arm=0.5), 20)
    >>> t.attempt_ps, t.success_probability, t.herald_ps
    (98067844, 0.125, (98067844, 98067844))
    """
    plan = plan_link("a-b", "a", "b", physics, length_km=length_km, refractive_index=refractive_index)
    period = plan.attempt_ps
    settle = 0
    if physics.layout == "midpoint":
        arm = plan.a.arm_delay_ps
        settle = _settle_ps(physics, 2 * arm)[0]  # two-round: the herald 4 tau + 2 tau0 after emission, not tau
        herald = (3 * arm if physics.scheme == "midpoint_source" else 2 * arm) + settle
        herald_ps, stored_ps = (herald, herald), (2 * arm + settle, 2 * arm + settle)
        round_trip = 2 * arm
    else:
        fibre, local = plan.a.arm_delay_ps, plan.b.arm_delay_ps
        herald_ps, stored_ps = (2 * fibre, fibre + local), (2 * fibre, local)
        round_trip = 2 * fibre
    # from a pair's successful attempt to the next round's first, in periods: 2 without a cycle (exactly, so
    # the rate is bit for bit the cycle-free 1 / ((1/p + 1) T)); pipelined, 2 R / cycle_ps or 1; two-round
    # timing, (herald + R) / T, exactly 1 without a cycle
    reoffer = max(2 * round_trip + settle, physics.cycle_ps) / period
    p = physics.success_probability()
    seconds = period * 1e-12
    return LinkTiming(physics.scheme, period, p, physics.reference_fidelity() if p > 0 else math.nan,
                      herald_ps, stored_ps, p / seconds, p / ((1 + p * (reoffer - 1)) * seconds))


def two_node_link(length_km: float, physics: AttemptPhysics, *, model: str = "geometric",
                  memory: QuantumMemory | None = None, max_pairs: int = 1000,
                  refractive_index: float = 1.47, names: tuple[str, str] = ("A", "B")) -> Network:
    """Nodes ``A`` and ``B`` (:class:`LinkEnd`) ``length_km`` apart, joined by a link of the
    scheme of ``physics`` (see :func:`plan_link`; ``A`` sends on a sender-receiver link).

    For midpoint layouts the arm delay is the propagation time over
    ``length_km / 2`` of fibre with ``refractive_index``, and an attempt takes
    twice that; sender-receiver attempts take twice the delay over ``length_km``;
    either way at least ``physics.cycle_ps``, and ``physics.cycle_ps`` alone on a
    pipelined link.
    """
    a, b = names
    link = f"{a}-{b}"
    plan = plan_link(link, a, b, physics, length_km=length_km, refractive_index=refractive_index)
    memory = memory or QuantumMemory(num_qubits=1)
    net = Network()
    for node, args in ((a, plan.a), (b, plan.b)):
        net.add_actor(LinkEnd(node, args.link, args.station, physics, memory, args.arm_delay_ps, max_pairs,
                              emits=args.emits), site=node)
    link_components(net, link, a, b, physics, length_km=length_km, model=model, refractive_index=refractive_index)
    return net
