"""Quantum key distribution on actors: decoy-state BB84 over a fibre link, key-rate
accounting, and key forwarding through a chain of trusted relays.

**Decoy-state BB84 with weak coherent pulses** follows Ma, Qi, Zhao, Lo,
PRA 72, 012326 (2005) [MQZL]: vacuum + weak decoy states (Hwang, PRL 91,
057901 (2003); Lo, Ma, Chen, PRL 94, 230504 (2005)) and the GLLP key rate
(Gottesman, Lo, Lütkenhaus, Preskill, Quantum Inf. Comput. 4, 325 (2004)).
Pulses travel in blocks, one message per block:

1. :class:`DecoySender` (Alice) draws for every pulse an intensity class
   (signal ``mu``, weak decoy ``nu`` or vacuum), a basis and a bit, and the
   pulse's photon number (Poisson with the class's mean: the source).  A
   :class:`PulseBlock` carries what the light carries -- photon number, basis
   and bit of each pulse, not the class -- to Bob after the fibre delay.
2. :class:`DecoyReceiver` (Bob) applies the channel and his detectors: each
   photon is detected with probability ``eta = fibre transmissivity x
   detector efficiency``; a dark count clicks with probability ``Y0`` per gate,
   independently.  He measures in a random basis: a click with a detected
   photon in Alice's basis gives her bit, flipped with probability ``e_d``
   (misalignment); any other click gives a random bit.  He reports the clicked
   pulses, his bases and his bits in a :class:`DetectionReport`.
3. Alice announces, for those pulses, their intensity classes, her bases and
   bits, and how many pulses of each class the block had
   (:class:`SiftAnnouncement`).  Both ends tally the same counts
   (:class:`DecoyTally`), so both end with the gain ``Q`` and error rate ``E``
   of each intensity.  Revealing every sifted bit stands in for the
   parameter estimation (asymptotically a vanishing sample suffices), as in
   :mod:`qactors.protocols.applications`.

The closed forms (expected gains and error rates, the decoy bounds and the key
rates) are in :mod:`qactors.quantum.information`.

**Key-rate accounting** (:class:`KeyRate`) turns the statistics of a BBM92 or
E91 :class:`~qactors.protocols.applications.Receiver` or of a
:class:`DecoyTally` into a QBER, an asymptotic secret fraction and a rate in
bit/s.

**Trusted relays**: nodes ``N0 .. Nk`` in a line, each neighbouring pair
running a QKD link whose output -- identical key bits at both ends -- grows
at the link's rate on periodic ticks (:class:`KeyPool`; the bits come from
the keyed shared generator, standing in for the distilled output of the
link's QKD).  An end-to-end key of ``m`` bits is drawn at ``N0`` and sent
one-time-padded with the first link's key; each relay decrypts with the
incoming link's key and re-encrypts with the outgoing link's, consuming ``m``
bits of each (the trusted-node scheme of the SECOQC network, Peev et al., New
J. Phys. 11, 075001 (2009), and the Tokyo QKD network, Sasaki et al., Opt.
Express 19, 10387 (2011)).  So the end-to-end key rate is the smallest link
rate.

**Trusted-relay networks** (:func:`trusted_relay_network`) do the same over any
graph for several :class:`KeyRelayRequest` s, each routed by least fibre length
(or a given routing function) when the network is built.  Requests routed over
a link in the same direction share its pool, first come, first served; a link
crossed in both directions gets one pool per direction at half its rate each
(a pool has one sending end).  :func:`key_relay_report` summarises a request.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping, NamedTuple, Sequence

import networkx as nx
import numpy as np

from qactors.core.actor import Actor, PlainData, handler
from qactors.core import checks as _checks
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.core.time import MS, S, to_ps
from qactors.hardware.channels import Fibre
from qactors.quantum.information import (E91_KEY_SETTINGS, decoy_key_rate, decoy_key_rate_from_gains,
                                         di_key_fraction, infinite_decoy_key_rate, secret_fraction,
                                         single_photon_bounds)

from .applications import Receiver

__all__ = [
    "SIGNAL", "DECOY", "VACUUM", "CLASSES", "DecoyBB84", "GYS", "GYS_ATTENUATION_DB_PER_KM",
    "PulseBlock", "DetectionReport", "SiftAnnouncement", "DecoyTally", "DecoyEstimate",
    "DecoySender", "DecoyReceiver", "decoy_bb84_link", "decoy_link_rate_bps", "max_distance_km",
    "KeyRate",
    "KeyLink", "KeyPool", "KeyForward", "KeyDelivered", "trusted_relay_chain",
    "KeyRelayRequest", "KeyRelayRoute", "KeyRelayNode", "trusted_relay_network", "key_relay_report",
]

SIGNAL, DECOY, VACUUM = 0, 1, 2
CLASSES = ("signal", "decoy", "vacuum")
_BASIS_FACTOR = 0.5  # unbiased Z/X bases: half the clicks survive sifting
_E0 = 0.5            # error rate of a click from a dark count alone: a random bit


def _real(where: str, value: object, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
          allowed: str | None = None) -> float:
    return _checks.real(where, value, low=low, high=high, low_open=low_open, allowed=allowed)


_probability = _checks.probability


def _count(where: str, value: object, low: int) -> int:
    return _checks.integer(where, value, low=low)


# =====================================================================================================
# Decoy-state BB84
# =====================================================================================================
@dataclasses.dataclass(frozen=True)
class DecoyBB84:
    """Source, detector and post-processing settings of a decoy-state BB84 link.

    The detector and post-processing defaults are the GYS parameters (Gobby, Yuan,
    Shields, Appl. Phys. Lett. 84, 3762 (2004)) as tabulated by MQZL; use them with
    fibre of 0.21 dB/km (:data:`GYS_ATTENUATION_DB_PER_KM`).  ``mu = 0.48`` maximises
    the infinite-decoy rate for them below 100 km (by these formulas), ``nu = 0.05``
    is a weak decoy; the class probabilities and the repetition rate are qactors'
    choices, not the experiment's.

    Args:
        mu: mean photon number of signal pulses, > nu.
        nu: mean photon number of weak decoy pulses, > 0.
        p_signal, p_decoy, p_vacuum: probability that a pulse is a signal, decoy or
            vacuum pulse (each in [0, 1], summing to 1).  Only signal pulses count
            towards the key rate; the others set how well the decoy estimate is known.
        detector_efficiency: Bob's detection efficiency including his optics (eta_Bob), 0..1.
        dark_count_probability: background yield ``Y0``, per gate, 0..1.
        misalignment: probability ``e_d`` that a detected photon hits the wrong detector, 0..1.
        repetition_rate_hz: pulses per second, > 0.
        ec_efficiency: error-correction inefficiency ``f`` >= 1.

    Raises:
        ConfigurationError: a field outside its range.
    """

    mu: float = 0.48
    nu: float = 0.05
    p_signal: float = 0.7
    p_decoy: float = 0.2
    p_vacuum: float = 0.1
    detector_efficiency: float = 0.045
    dark_count_probability: float = 1.7e-6
    misalignment: float = 0.033
    repetition_rate_hz: float = 2e6
    ec_efficiency: float = 1.22

    def __post_init__(self) -> None:
        mu = _real("DecoyBB84.mu", self.mu, 0.0, low_open=True)
        _real("DecoyBB84.nu", self.nu, 0.0, mu, low_open=True, allowed=f"a number in (0, mu = {mu:g})")
        if not self.nu < mu:
            raise ConfigurationError(f"DecoyBB84.nu = {self.nu!r} is not allowed; allowed: a number in "
                                     f"(0, mu = {mu:g})", field="DecoyBB84.nu", value=self.nu)
        for name in ("p_signal", "p_decoy", "p_vacuum", "detector_efficiency", "dark_count_probability",
                     "misalignment"):
            _probability(f"DecoyBB84.{name}", getattr(self, name))
        total = self.p_signal + self.p_decoy + self.p_vacuum
        if abs(total - 1.0) > 1e-9:
            raise ConfigurationError(f"DecoyBB84.p_signal + p_decoy + p_vacuum = {total!r}; allowed: they sum to 1",
                                     field="DecoyBB84.p_signal", value=(self.p_signal, self.p_decoy, self.p_vacuum))
        if self.p_signal == 0.0:
            raise ConfigurationError("DecoyBB84.p_signal = 0 sends no signal pulses; allowed: a number in (0, 1]",
                                     field="DecoyBB84.p_signal", value=0.0)
        _real("DecoyBB84.repetition_rate_hz", self.repetition_rate_hz, 0.0, low_open=True)
        _real("DecoyBB84.ec_efficiency", self.ec_efficiency, 1.0, allowed="a number >= 1 (1: Shannon limit)")

    @property
    def intensities(self) -> tuple[float, float, float]:
        """Mean photon numbers of the signal, decoy and vacuum classes."""
        return (float(self.mu), float(self.nu), 0.0)

    @property
    def class_probabilities(self) -> tuple[float, float, float]:
        return (float(self.p_signal), float(self.p_decoy), float(self.p_vacuum))

    def transmittance(self, fibre: Fibre) -> float:
        """Overall transmittance ``eta``: fibre transmissivity times detector efficiency."""
        return fibre.transmissivity * self.detector_efficiency


GYS = DecoyBB84()
GYS_ATTENUATION_DB_PER_KM = 0.21


def decoy_link_rate_bps(fibre: Fibre, params: DecoyBB84 = GYS, *, infinite_decoy: bool = False) -> float:
    """Expected secret-key rate of a decoy-state BB84 link, bit/s (0 when no key).

    ``R p_signal f_rep`` with ``R`` the vacuum + weak decoy GLLP rate per signal
    pulse (:func:`~qactors.quantum.information.decoy_key_rate`), or the
    infinite-decoy rate with ``infinite_decoy``.

    >>> round(decoy_link_rate_bps(Fibre(50, attenuation_db_per_km=0.21)), 1)
    293.5
    """
    eta = params.transmittance(fibre)
    if infinite_decoy:
        r = infinite_decoy_key_rate(params.mu, eta, params.dark_count_probability, params.misalignment,
                                    basis_factor=_BASIS_FACTOR, ec_efficiency=params.ec_efficiency, e0=_E0)
    else:
        r = decoy_key_rate(params.mu, params.nu, eta, params.dark_count_probability, params.misalignment,
                           basis_factor=_BASIS_FACTOR, ec_efficiency=params.ec_efficiency, e0=_E0)
    return max(0.0, r) * params.p_signal * params.repetition_rate_hz


def max_distance_km(params: DecoyBB84 = GYS, *, attenuation_db_per_km: float = GYS_ATTENUATION_DB_PER_KM,
                    infinite_decoy: bool = False) -> float:
    """Fibre length (km) beyond which the link gives no key, by bisection on the
    key rate per pulse (0 if it gives none at 0 km; to 1e-6 km)."""
    att = _real("attenuation_db_per_km", attenuation_db_per_km, 0.0, low_open=True)

    def rate(length_km: float) -> float:
        eta = params.transmittance(Fibre(length_km, attenuation_db_per_km=att))
        if infinite_decoy:
            return infinite_decoy_key_rate(params.mu, eta, params.dark_count_probability, params.misalignment,
                                           basis_factor=_BASIS_FACTOR, ec_efficiency=params.ec_efficiency, e0=_E0)
        return decoy_key_rate(params.mu, params.nu, eta, params.dark_count_probability, params.misalignment,
                              basis_factor=_BASIS_FACTOR, ec_efficiency=params.ec_efficiency, e0=_E0)

    if rate(0.0) <= 0.0:
        return 0.0
    lo, hi = 0.0, 100.0 / att  # 100 dB
    while rate(hi) > 0.0:
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rate(mid) > 0.0 else (lo, mid)
    return lo


@message
class PulseBlock(Message):
    """Alice -> Bob: a block of ``pulses`` pulses, as the light carries them: per pulse the
    photon number (uint8), basis (0 = Z, 1 = X) and bit, each packed as bytes."""

    block: int
    pulses: int
    photons: bytes
    bases: bytes
    bits: bytes


@message
class DetectionReport(Message):
    """Bob -> Alice: the pulses of ``block`` that clicked (uint32 little-endian indices),
    Bob's basis and bit for each (uint8 bytes)."""

    block: int
    indices: bytes
    bases: bytes
    bits: bytes


@message
class SiftAnnouncement(Message):
    """Alice -> Bob: for the reported pulses, in the report's order, their intensity class,
    Alice's basis and bit (uint8 bytes), and the block's number of pulses per class."""

    block: int
    sent: tuple
    classes: bytes
    bases: bytes
    bits: bytes


@message
class _EmitBlock(Message):
    block: int


class DecoyEstimate(NamedTuple):
    """What the tallies give: gains and error rates per class (signal, decoy, vacuum), the
    decoy bounds on the single-photon yield and error rate, and the GLLP rate per signal pulse."""

    gains: tuple
    error_rates: tuple
    y1_lower: float
    e1_upper: float
    rate_per_signal_pulse: float


class DecoyTally(PlainData):
    """Counts per intensity class (signal, decoy, vacuum): pulses sent, clicks, sifted clicks
    (equal bases) and errors among them.  Plain data; both ends of a link keep one."""

    def __init__(self) -> None:
        self.sent = [0, 0, 0]
        self.clicks = [0, 0, 0]
        self.sifted = [0, 0, 0]
        self.errors = [0, 0, 0]


    def add(self, sent: Sequence[int], classes: np.ndarray, matched: np.ndarray, wrong: np.ndarray) -> None:
        """Add a block: pulses per class, and for each click its class, whether the bases
        matched and whether the bits differed (with matching bases)."""
        for name, counts in (("sent", np.asarray(sent, dtype=np.int64)),
                             ("clicks", np.bincount(classes, minlength=3)),
                             ("sifted", np.bincount(classes[matched], minlength=3)),
                             ("errors", np.bincount(classes[matched & wrong], minlength=3))):
            total = getattr(self, name)
            for k in range(3):
                total[k] += int(counts[k])

    def gain(self, k: int) -> float:
        """Clicks per pulse sent of class ``k`` (``Q``); nan before any pulse."""
        return self.clicks[k] / self.sent[k] if self.sent[k] else math.nan

    def error_rate(self, k: int) -> float:
        """Errors per sifted click of class ``k`` (``E``); nan before any sifted click."""
        return self.errors[k] / self.sifted[k] if self.sifted[k] else math.nan

    def estimate(self, params: DecoyBB84) -> DecoyEstimate:
        """The decoy estimate from these counts (vacuum + weak decoy, MQZL).

        Raises:
            ConfigurationError: a class has no pulses or no sifted clicks yet.
        """
        gains = tuple(self.gain(k) for k in range(3))
        errors = tuple(self.error_rate(k) for k in range(3))
        for k in (SIGNAL, DECOY):
            if not (self.sent[k] and self.sifted[k]):
                raise ConfigurationError(f"no decoy estimate yet: {CLASSES[k]} pulses have {self.sent[k]} sent "
                                         f"and {self.sifted[k]} sifted clicks; allowed: at least one of each",
                                         field=CLASSES[k], value=(self.sent[k], self.sifted[k]))
        if not self.sent[VACUUM]:
            raise ConfigurationError("no decoy estimate yet: no vacuum pulses sent; allowed: p_vacuum > 0",
                                     field="vacuum", value=0)
        y1, e1 = single_photon_bounds(params.mu, params.nu, gains[SIGNAL], gains[DECOY], gains[VACUUM],
                                      errors[DECOY], _E0)
        rate = decoy_key_rate_from_gains(params.mu, params.nu, gains[SIGNAL], errors[SIGNAL], gains[DECOY],
                                         errors[DECOY], gains[VACUUM], basis_factor=_BASIS_FACTOR,
                                         ec_efficiency=params.ec_efficiency, e0=_E0)
        return DecoyEstimate(gains, errors, y1, e1, rate)


def _u8(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def _u32(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4")


class DecoySender(Actor):
    """Alice: sends ``blocks`` blocks of ``pulses_per_block`` pulses to ``receiver``, one every
    ``pulses_per_block / repetition_rate_hz`` (a block leaves when its last pulse does),
    answers Bob's detection reports and keeps a :class:`DecoyTally`.

    ``delay_ps`` is the one-way fibre delay (quantum and classical messages alike)."""

    def __init__(self, actor_id: str, receiver: str, params: DecoyBB84, delay_ps: int, *, blocks: int,
                 pulses_per_block: int):
        super().__init__(actor_id)
        self.receiver = receiver
        self.params = params
        self.delay_ps = _count("delay_ps", delay_ps, 1)
        self.blocks = _count("blocks", blocks, 0)
        self.pulses_per_block = _count("pulses_per_block", pulses_per_block, 1)
        self.block_ps = to_ps(pulses_per_block / params.repetition_rate_hz)
        if self.block_ps < 1:
            raise ConfigurationError(f"a block of {pulses_per_block} pulses at {params.repetition_rate_hz} Hz lasts "
                                     f"under 1 ps; allowed: a block lasting >= 1 ps", field="pulses_per_block",
                                     value=pulses_per_block)
        self.pending: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # block -> classes, bases, bits
        self.blocks_sent = 0
        self.tally = DecoyTally()
        self.ignored = 0

    @property
    def elapsed_ps(self) -> int:
        """Time spent sending the blocks sent so far."""
        return self.blocks_sent * self.block_ps

    def on_start(self) -> None:
        if self.blocks:
            self.set_timer(_EmitBlock(0), delay_ps=self.block_ps)

    @handler(_EmitBlock)
    def on_emit(self, msg: _EmitBlock, sender: str) -> None:
        n, rng, p = self.pulses_per_block, self.rng, self.params
        classes = rng.choice(3, size=n, p=p.class_probabilities).astype(np.uint8)
        bases = rng.integers(0, 2, size=n, dtype=np.uint8)
        bits = rng.integers(0, 2, size=n, dtype=np.uint8)
        photons = np.minimum(rng.poisson(np.asarray(p.intensities)[classes]), 255).astype(np.uint8)
        self.pending[msg.block] = (classes, bases, bits)
        self.blocks_sent += 1
        self.send(self.receiver, PulseBlock(msg.block, n, photons.tobytes(), bases.tobytes(), bits.tobytes()),
                  delay_ps=self.delay_ps)
        if msg.block + 1 < self.blocks:
            self.set_timer(_EmitBlock(msg.block + 1), delay_ps=self.block_ps)

    @handler(DetectionReport)
    def on_report(self, msg: DetectionReport, sender: str) -> None:
        record = self.pending.get(msg.block)
        idx = _u32(msg.indices) if len(msg.indices) % 4 == 0 else None
        if (record is None or idx is None or len(msg.bases) != len(idx) or len(msg.bits) != len(idx)
                or (len(idx) and (int(idx[-1]) >= len(record[0]) or np.any(np.diff(idx.astype(np.int64)) <= 0)))):
            self.ignored += 1  # a duplicate, a block never sent, or a malformed report (indices must increase)
            return
        del self.pending[msg.block]
        classes, bases, bits = record
        c, a_bases, a_bits = classes[idx], bases[idx], bits[idx]
        matched = a_bases == _u8(msg.bases)
        sent = tuple(int(x) for x in np.bincount(classes, minlength=3))
        self.tally.add(sent, c, matched, a_bits != _u8(msg.bits))
        self.send(sender, SiftAnnouncement(msg.block, sent, c.tobytes(), a_bases.tobytes(), a_bits.tobytes()),
                  delay_ps=self.delay_ps)


class DecoyReceiver(Actor):
    """Bob: detects each :class:`PulseBlock` (channel transmissivity ``transmissivity`` times
    the detector efficiency, dark counts, misalignment), reports the clicks, and tallies
    the block when Alice's :class:`SiftAnnouncement` arrives."""

    def __init__(self, actor_id: str, sender: str, params: DecoyBB84, transmissivity: float, delay_ps: int):
        super().__init__(actor_id)
        self.sender = sender
        self.params = params
        self.eta = _probability("transmissivity", transmissivity) * params.detector_efficiency
        self.delay_ps = _count("delay_ps", delay_ps, 1)
        self.reported: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # block -> indices, bases, bits
        self.blocks_seen: set[int] = set()
        self.blocks_sifted = 0
        self.tally = DecoyTally()
        self.ignored = 0

    @handler(PulseBlock)
    def on_block(self, msg: PulseBlock, sender: str) -> None:
        n = msg.pulses
        if msg.block in self.blocks_seen or not (len(msg.photons) == len(msg.bases) == len(msg.bits) == n):
            self.ignored += 1  # a duplicate or malformed block
            return
        self.blocks_seen.add(msg.block)
        rng, p = self.rng, self.params
        detected = rng.binomial(_u8(msg.photons), self.eta) > 0
        dark = rng.random(n) < p.dark_count_probability
        bases = rng.integers(0, 2, size=n, dtype=np.uint8)
        flip = (rng.random(n) < p.misalignment).astype(np.uint8)
        random_bits = rng.integers(0, 2, size=n, dtype=np.uint8)
        # a detected photon in Alice's basis gives her bit (up to misalignment); a photon in the other basis
        # or a dark count alone gives a random bit; a dark count beside a detected photon changes nothing
        faithful = detected & (bases == _u8(msg.bases))
        bits = np.where(faithful, _u8(msg.bits) ^ flip, random_bits)
        idx = np.flatnonzero(detected | dark).astype("<u4")
        self.reported[msg.block] = (idx, bases[idx], bits[idx])
        self.send(sender, DetectionReport(msg.block, idx.tobytes(), bases[idx].tobytes(), bits[idx].tobytes()),
                  delay_ps=self.delay_ps)

    @handler(SiftAnnouncement)
    def on_announcement(self, msg: SiftAnnouncement, sender: str) -> None:
        record = self.reported.get(msg.block)
        if (record is None or not len(msg.classes) == len(msg.bases) == len(msg.bits) == len(record[0])
                or len(msg.sent) != 3 or (msg.classes and max(msg.classes) > VACUUM)):
            self.ignored += 1  # before the block, a duplicate, or not matching the report
            return
        del self.reported[msg.block]
        _, bases, bits = record
        matched = _u8(msg.bases) == bases
        self.tally.add(msg.sent, _u8(msg.classes), matched, _u8(msg.bits) != bits)
        self.blocks_sifted += 1


def decoy_bb84_link(fibre: Fibre, params: DecoyBB84 = GYS, *, blocks: int = 10, pulses_per_block: int = 100_000,
                    names: tuple[str, str] = ("alice", "bob")) -> Network:
    """Alice and Bob at the two ends of ``fibre``, running decoy-state BB84 for ``blocks``
    blocks.  Run it until at least ``blocks * pulses_per_block / repetition_rate_hz`` plus
    three fibre delays to have every block sifted.

    >>> import qactors
    >>> net = decoy_bb84_link(Fibre(25, attenuation_db_per_km=0.21), blocks=2, pulses_per_block=1000)
    >>> result = qactors.run(net, until_ps=10**10, seed=1)
    >>> result.states["alice"]["tally"] == result.states["bob"]["tally"]
    True
    """
    if not isinstance(fibre, Fibre):
        raise ConfigurationError(f"decoy_bb84_link takes a hardware.channels.Fibre, got {type(fibre).__name__}",
                                 field="fibre", value=fibre)
    alice, bob = names
    net = Network()
    net.add_actor(DecoySender(alice, bob, params, fibre.delay_ps, blocks=blocks, pulses_per_block=pulses_per_block))
    net.add_actor(DecoyReceiver(bob, alice, params, fibre.transmissivity, fibre.delay_ps))
    net.connect(alice, bob, latency_ps=fibre.delay_ps)
    return net


# =====================================================================================================
# Key-rate accounting
# =====================================================================================================
def _elapsed(elapsed_ps: object) -> int:
    if type(elapsed_ps) is not int or elapsed_ps <= 0:
        raise ConfigurationError(f"elapsed_ps = {elapsed_ps!r} is not allowed; allowed: an int > 0 (picoseconds)",
                                 field="elapsed_ps", value=elapsed_ps)
    return elapsed_ps


def _rate(errors: int, sifted: int) -> float:
    return errors / sifted if sifted else 0.5  # nothing measured: assume the worst


@dataclasses.dataclass(frozen=True)
class KeyRate:
    """Asymptotic secret key from a protocol's statistics.

    Attributes:
        protocol: ``"bbm92"``, ``"e91"`` or ``"bb84-decoy"``.
        sifted_bits: key bits kept after sifting (for decoy BB84: signal pulses only).
        errors: errors among them.
        key_fraction: secret bits per sifted bit (negative: no key).
        elapsed_ps: simulated time the statistics took.
        qber_by_basis: error rate per basis or setting the key comes from.
        chsh: the measured CHSH value (E91), else nan.
    """

    protocol: str
    sifted_bits: int
    errors: int
    key_fraction: float
    elapsed_ps: int
    qber_by_basis: dict = dataclasses.field(default_factory=dict)
    chsh: float = math.nan

    def as_dict(self) -> dict:
        """The fields and the derived figures (``qber``, ``secret_bits``, ``rate_bps``), for reports."""
        return {**dataclasses.asdict(self), "qber": self.qber, "secret_bits": self.secret_bits,
                "rate_bps": self.rate_bps}

    @property
    def qber(self) -> float:
        """Error rate of the sifted key (nan when nothing was sifted)."""
        return self.errors / self.sifted_bits if self.sifted_bits else math.nan

    @property
    def secret_bits(self) -> float:
        return max(0.0, self.key_fraction) * self.sifted_bits

    @property
    def rate_bps(self) -> float:
        """Secret-key rate, bit/s of simulated time."""
        return self.secret_bits / (self.elapsed_ps / S)

    @classmethod
    def from_bbm92(cls, receiver: Receiver, elapsed_ps: int, *, ec_efficiency: float = 1.0) -> "KeyRate":
        """BBM92: the Z key's phase errors show in the X basis and vice versa, so the
        bits of basis ``b`` keep ``1 - f h2(Q_b) - h2(Q_other)`` each (Shor-Preskill)."""
        n = dict(receiver.sifted)
        q = {b: _rate(receiver.errors[b], n[b]) for b in ("Z", "X")}
        secret = (n["Z"] * secret_fraction(q["Z"], q["X"], ec_efficiency)
                  + n["X"] * secret_fraction(q["X"], q["Z"], ec_efficiency))
        total = n["Z"] + n["X"]
        return cls("bbm92", total, receiver.errors["Z"] + receiver.errors["X"], secret / total if total else 0.0,
                   _elapsed(elapsed_ps), q)

    @classmethod
    def from_e91(cls, receiver: Receiver, elapsed_ps: int, *, ec_efficiency: float = 1.0) -> "KeyRate":
        """E91: key bits from the equal settings, secrecy from the CHSH value S alone
        (device-independent fraction of Acín et al. 2007 at the pooled QBER)."""
        n = sum(receiver.e91_sifted.values())
        e = sum(receiver.e91_errors.values())
        s = receiver.chsh()
        fraction = di_key_fraction(2.0 if math.isnan(s) else s, _rate(e, n), ec_efficiency)
        q = {k: _rate(receiver.e91_errors[k], receiver.e91_sifted[k]) for k in E91_KEY_SETTINGS}
        return cls("e91", n, e, fraction, _elapsed(elapsed_ps), q, s)

    @classmethod
    def from_decoy(cls, tally: DecoyTally, params: DecoyBB84, elapsed_ps: int) -> "KeyRate":
        """Decoy-state BB84: the GLLP rate per signal pulse from the tallies' decoy estimate,
        times the signal pulses sent, spread over the sifted signal bits."""
        est = tally.estimate(params)
        n = tally.sifted[SIGNAL]
        secret = est.rate_per_signal_pulse * tally.sent[SIGNAL]
        return cls("bb84-decoy", n, tally.errors[SIGNAL], secret / n, _elapsed(elapsed_ps),
                   {"signal": est.error_rates[SIGNAL]})


# =====================================================================================================
# Trusted-relay key forwarding
# =====================================================================================================
@dataclasses.dataclass(frozen=True)
class KeyLink:
    """One QKD link seen from one end: its name, the node at the other end, the rate at
    which it produces secret key (bit/s, >= 0) and the one-way delay to that node (ps)."""

    name: str
    peer: str
    rate_bps: float
    delay_ps: int

    def __post_init__(self) -> None:
        if type(self.name) is not str or not self.name or type(self.peer) is not str or not self.peer:
            raise ConfigurationError(f"KeyLink name and peer must be non-empty strings, got {self.name!r}, "
                                     f"{self.peer!r}", field="KeyLink.name", value=(self.name, self.peer))
        _real(f"KeyLink({self.name}).rate_bps", self.rate_bps, 0.0)
        _count(f"KeyLink({self.name}).delay_ps", self.delay_ps, 1)


class KeyPool:
    """The key a link has produced at one of its ends, as a stream of bits numbered from 0.

    Both ends grow the stream alike on every tick ``k`` (at ``k tick_ps``), to
    ``floor(rate_bps k tick_ps)`` bits, drawing the new bits from the keyed shared
    generator ``("trusted-relay", link, k)``.  The sending end takes bits from the front
    (:meth:`take_next`) and says where they start; the receiving end takes the same bits
    by position (:meth:`take_at`), so each bit pads one message only.  Plain data."""

    def __init__(self, link: str, rate_bps: float, tick_ps: int) -> None:
        self.link = link
        self.rate_bps = rate_bps
        self.tick_ps = tick_ps
        self.generated = 0                          # bits produced so far
        self.start = 0                              # stream position of bits[0]
        self.bits = np.zeros(0, dtype=np.uint8)     # bits from ``start`` on, used or not
        self.next_offset = 0                        # sending end: first unused bit
        self.used: dict[int, int] = {}              # receiving end: start -> length of used ranges past ``start``

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        a, b = vars(self), vars(other)
        return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) if k == "bits" else a[k] == b[k] for k in a)

    __hash__ = None  # type: ignore[assignment]

    @property
    def available(self) -> int:
        """Unused bits at the sending end."""
        return self.generated - self.next_offset

    def grow(self, actor: Actor, tick: int) -> None:
        """Add the bits produced up to tick ``tick``."""
        total = math.floor(self.rate_bps * (tick * self.tick_ps) / S)
        new = total - self.generated
        if new > 0:
            fresh = actor.shared_rng("trusted-relay", self.link, tick).integers(0, 2, size=new, dtype=np.uint8)
            self.bits = np.concatenate([self.bits, fresh])
            self.generated = total

    def take_next(self, n: int) -> tuple[int, np.ndarray] | None:
        """Sending end: the position and the next ``n`` unused bits, or None if too few."""
        if self.available < n:
            return None
        offset = self.next_offset
        out = self.bits[offset - self.start:offset - self.start + n].copy()
        self.next_offset += n
        self._trim(self.next_offset)
        return offset, out

    def take_at(self, offset: int, n: int) -> np.ndarray | str:
        """Receiving end: bits ``offset .. offset + n - 1``; ``"used"`` if any of them padded a
        message already, ``"later"`` if they are not produced yet."""
        end = offset + n
        if offset < self.start or any(o < end and offset < o + k for o, k in self.used.items()):
            return "used"
        if end > self.generated:
            return "later"
        out = self.bits[offset - self.start:end - self.start].copy()
        self.used[offset] = n
        while self.start in self.used:  # forget the front once it is used up
            self._trim(self.start + self.used.pop(self.start))
        return out

    def _trim(self, upto: int) -> None:
        self.bits = self.bits[upto - self.start:]
        self.start = upto


@message
class KeyForward(Message):
    """The end-to-end key of ``request`` one-time-padded with ``link``'s key bits from
    position ``offset`` (``bits`` bits, packed big-endian into ``cipher``)."""

    request: str
    link: str
    offset: int
    bits: int
    cipher: bytes


@message
class KeyDelivered(Message):
    """Last node -> first node: the key of ``request`` arrived."""

    request: str
    bits: int


@message
class _Tick(Message):
    index: int


def _unpad(node, msg: KeyForward) -> bytes | None:
    """A relay's receiving step: the key ``msg`` carries, decrypted with the pool of its link
    (packed bits), or None when the key passed here already or replays used pad bits (both
    counted in ``node.ignored``) or when the pad is not produced yet (``msg`` waits in
    ``node.waiting`` for the next tick)."""
    if msg.request in node.seen:
        node.ignored += 1  # this key already passed here
        return None
    pad = node.pools[msg.link].take_at(msg.offset, msg.bits)
    if isinstance(pad, str):
        if pad == "used":
            node.ignored += 1  # a replay: that key padded a message already
        else:
            node.waiting.append(msg)
        return None
    node.seen.add(msg.request)
    key = np.unpackbits(np.frombuffer(msg.cipher, dtype=np.uint8), count=msg.bits) ^ pad
    return np.packbits(key).tobytes()


def _check_request(r: object) -> tuple[int, int]:
    if not (isinstance(r, tuple) and len(r) == 2 and type(r[0]) is int and type(r[1]) is int and r[0] >= 0
            and r[1] >= 1):
        raise ConfigurationError(f"key request {r!r} is not allowed; allowed: (time_ps >= 0, bits >= 1), both ints",
                                 field="requests", value=r)
    return r


def trusted_relay_chain(link_lengths_km: Sequence[float], *, rates_bps: Sequence[float] | None = None,
                        params: DecoyBB84 = GYS, attenuation_db_per_km: float = GYS_ATTENUATION_DB_PER_KM,
                        tick_ps: int = MS, requests: Sequence[tuple[int, int]] = ()) -> Network:
    """Nodes ``N0 .. Nk`` joined by fibre links of ``link_lengths_km`` (k links), each running QKD.

    Each link produces key at ``rates_bps[i]`` bit/s, or, if not given, at the
    expected decoy-state BB84 rate of its fibre (:func:`decoy_link_rate_bps` with
    ``params``).  ``requests`` are ``(time ps, bits)`` pairs: end-to-end keys ``N0``
    is asked for, relayed to ``Nk``.  This is the line case of
    :func:`trusted_relay_network`: request ``j`` becomes the one-key
    :class:`KeyRelayRequest` ``"N0.j"`` (its key is ``"N0.j#0"`` in the nodes' state).

    Raises:
        ConfigurationError: no link, a length that is not a finite number > 0, a rate
            that is negative or not finite, a rate list of the wrong length, a bad request.

    >>> net = trusted_relay_chain([20, 30], rates_bps=[2000, 500], requests=[(0, 256)])
    >>> net.names
    ['N0', 'N1', 'N2']
    """
    lengths = [_real(f"link_lengths_km[{i}]", x, 0.0, low_open=True) for i, x in enumerate(link_lengths_km)]
    if not lengths:
        raise ConfigurationError("trusted_relay_chain needs at least one link length; got none",
                                 field="link_lengths_km", value=list(link_lengths_km))
    att = _real("attenuation_db_per_km", attenuation_db_per_km, 0.0)
    if rates_bps is None:
        rates = [decoy_link_rate_bps(Fibre(x, attenuation_db_per_km=att), params) for x in lengths]
    else:
        rates = [_real(f"rates_bps[{i}]", r, 0.0) for i, r in enumerate(rates_bps)]
        if len(rates) != len(lengths):
            raise ConfigurationError(f"rates_bps has {len(rates)} entries for {len(lengths)} links; allowed: one "
                                     f"per link", field="rates_bps", value=list(rates_bps))
    graph = nx.Graph()
    for i, (km, rate) in enumerate(zip(lengths, rates)):
        graph.add_edge(f"N{i}", f"N{i + 1}", length_km=km, rate_bps=rate)
    dest = f"N{len(lengths)}"
    keys = [KeyRelayRequest(f"N0.{j}", "N0", dest, bits=bits, start_ps=at_ps)
            for j, (at_ps, bits) in enumerate(_check_request(r) for r in requests)]
    return trusted_relay_network(graph, keys, tick_ps=tick_ps)


# =====================================================================================================
# Trusted-relay networks over graphs
# =====================================================================================================
@dataclasses.dataclass(frozen=True)
class KeyRelayRequest:
    """``count`` end-to-end keys of ``bits`` bits each, from ``source`` to ``dest``, all asked for at ``start_ps``.

    Key ``j`` (0-based) of the request is called ``f"{request_id}#{j}"`` in the nodes' ``issued``,
    ``delivered`` and ``confirmed`` maps and in the messages.

    Args:
        request_id: a non-empty string, unique among the network's requests.
        source, dest: node ids (non-empty strings), different.
        bits: length of each key, an int >= 1.
        start_ps: when the source is asked, ps, an int >= 0.
        count: number of keys, an int >= 1.

    Raises:
        ConfigurationError: a field of the wrong type or outside its range.

    >>> KeyRelayRequest("r", "Beijing", "Shanghai", bits=256, count=10).count
    10
    """

    request_id: str
    source: str
    dest: str
    bits: int
    start_ps: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        for name in ("request_id", "source", "dest"):
            value = getattr(self, name)
            if type(value) is not str or not value:
                raise ConfigurationError(f"KeyRelayRequest.{name} = {value!r} is not allowed; allowed: a non-empty "
                                         f"string", field=name, value=value)
        where = f"KeyRelayRequest({self.request_id!r})"
        for field, low in (("bits", 1), ("start_ps", 0), ("count", 1)):
            _checks.integer(f"{where}.{field}", getattr(self, field), low=low, field=field)
        if self.source == self.dest:
            raise ConfigurationError(f"{where}.dest = {self.dest!r} is not allowed; allowed: a node other than the "
                                     f"source", field="dest", value=self.dest)

    def key_ids(self) -> list[str]:
        """The names of the request's keys, in the order the source issues them."""
        return [f"{self.request_id}#{j}" for j in range(self.count)]


@dataclasses.dataclass(frozen=True)
class KeyRelayRoute:
    """A request and the path it takes, with what the builder knew of each hop.

    ``path`` runs from the source to the destination; hop ``i`` joins ``path[i]`` and
    ``path[i + 1]``: its fibre length (km), the secret-key rate of its link (bit/s), the
    rate of the key pool the request draws from on it, in its direction of travel
    (bit/s: the link's rate, or half of it when the link carries keys both ways), and
    its one-way delay (ps).  Plain data; every node on the path holds a copy.

    Raises:
        ConfigurationError: the path has fewer than two nodes, repeats a node, does not run from the request's
            source to its destination, or the per-hop tuples do not have one entry per hop.
    """

    request: KeyRelayRequest
    path: tuple
    lengths_km: tuple
    link_rates_bps: tuple
    rates_bps: tuple
    delays_ps: tuple

    def __post_init__(self) -> None:
        rid = getattr(self.request, "request_id", None)
        if not isinstance(self.request, KeyRelayRequest):
            raise ConfigurationError(f"KeyRelayRoute.request = {self.request!r} is not allowed; allowed: a "
                                     f"KeyRelayRequest", field="KeyRelayRoute.request", value=self.request)
        path = self.path
        if (type(path) is not tuple or len(path) < 2 or len(set(path)) != len(path) or path[0] != self.request.source
                or path[-1] != self.request.dest):
            raise ConfigurationError(f"KeyRelayRoute({rid!r}).path = {path!r} is not allowed; allowed: a tuple of "
                                     f"distinct node ids from {self.request.source!r} to {self.request.dest!r}",
                                     field="KeyRelayRoute.path", value=path)
        for name in ("lengths_km", "link_rates_bps", "rates_bps", "delays_ps"):
            value = getattr(self, name)
            if type(value) is not tuple or len(value) != len(path) - 1:
                raise ConfigurationError(f"KeyRelayRoute({rid!r}).{name} = {value!r} is not allowed; allowed: a "
                                         f"tuple with one entry per hop ({len(path) - 1})",
                                         field=f"KeyRelayRoute.{name}", value=value)

    @property
    def request_id(self) -> str:
        return self.request.request_id

    @property
    def hops(self) -> list[tuple[str, str]]:
        return list(zip(self.path, self.path[1:]))


@message
class _IssueKeys(Message):
    request_id: str


class KeyRelayNode(Actor):
    """A node of a trusted-relay network: source, relay or destination of any number of requests.

    ``outgoing`` are the key pools this node sends on and ``incoming`` those it receives
    on, one :class:`KeyLink` each (``name`` is ``"sender-receiver"``; ``peer`` the node at
    the other end).  ``routes`` are the routes of the requests whose path passes through
    this node; the node finds its place on each path and so the pools to receive and send
    a request's keys on.

    Every ``tick_ps`` all pools grow (:class:`KeyPool`).  At ``start_ps`` the source of a
    request draws its ``count`` keys from its own random stream and queues them on the
    first hop; a relay decrypts with the incoming pool's key (it must be trusted) and
    queues the key on the outgoing pool of the request's next hop; the destination keeps
    the key and confirms to the source with :class:`KeyDelivered`.  Each outgoing pool
    serves its queue first come, first served, whichever request a key belongs to, and a
    queued key leaves as soon as the pool has enough unused bits.

    State: ``issued`` (at a source) and ``delivered`` (at a destination) map key ids to
    ``(time ps, bits, key packed as bytes)``; ``confirmed`` (at a source) maps them to the
    time the confirmation arrived; ``queues`` holds, per next node, the keys waiting for
    its pool; ``waiting`` the forwards whose key is not produced here yet; ``forwarded``
    counts keys sent on; ``ignored`` counts messages for an unknown request or key, on a
    link other than the request's, replays of used key, duplicates and malformed forwards.

    Raises:
        ConfigurationError: ``tick_ps`` not an int >= 1; two pools with one name or one peer
            in the same direction; a route that does not pass through this node, repeats a
            request id, or needs a pool this node lacks.
    """

    def __init__(self, actor_id: str, *, outgoing: Sequence[KeyLink] = (), incoming: Sequence[KeyLink] = (),
                 routes: Sequence[KeyRelayRoute] = (), tick_ps: int = MS):
        super().__init__(actor_id)
        self.tick_ps = _count("tick_ps", tick_ps, 1)
        self.outgoing: dict[str, KeyLink] = {}
        self.incoming: dict[str, KeyLink] = {}
        self.pools: dict[str, KeyPool] = {}
        for side, links in (("outgoing", outgoing), ("incoming", incoming)):
            by_peer = getattr(self, side)
            for link in links:
                if not isinstance(link, KeyLink):
                    raise ConfigurationError(f"node {actor_id!r} {side} link = {link!r} is not allowed; allowed: a "
                                             f"KeyLink", field=side, value=link)
                if link.peer in by_peer or link.name in self.pools:
                    raise ConfigurationError(f"node {actor_id!r} {side} link {link.name!r} to {link.peer!r} is not "
                                             f"allowed; allowed: one pool per name and per peer in each direction",
                                             field=side, value=link.name)
                by_peer[link.peer] = link
                self.pools[link.name] = KeyPool(link.name, float(link.rate_bps), tick_ps)
        self.routes: dict[str, KeyRelayRoute] = {}
        for route in routes:
            if not isinstance(route, KeyRelayRoute) or actor_id not in route.path or route.request_id in self.routes:
                raise ConfigurationError(f"node {actor_id!r} route = {route!r} is not allowed; allowed: a "
                                         f"KeyRelayRoute through this node, one per request id", field="routes",
                                         value=route)
            i = route.path.index(actor_id)
            for peer, side in ((route.path[i - 1] if i > 0 else None, "incoming"),
                               (route.path[i + 1] if i + 1 < len(route.path) else None, "outgoing")):
                if peer is not None and peer not in getattr(self, side):
                    raise ConfigurationError(f"node {actor_id!r} has no {side} pool with {peer!r}, which request "
                                             f"{route.request_id!r} needs; allowed: routes over this node's pools",
                                             field="routes", value=route.request_id)
            self.routes[route.request_id] = route
        self.queues: dict[str, list[tuple[str, int, bytes]]] = {peer: [] for peer in self.outgoing}
        self.waiting: list[KeyForward] = []
        self.seen: set[str] = set()
        self.issued: dict[str, tuple[int, int, bytes]] = {}
        self.delivered: dict[str, tuple[int, int, bytes]] = {}
        self.confirmed: dict[str, int] = {}
        self.forwarded = 0
        self.ignored = 0

    def on_start(self) -> None:
        if self.pools:
            self.set_timer(_Tick(1), delay_ps=self.tick_ps)
        for rid, route in self.routes.items():
            if route.path[0] == self.id:
                self.set_timer(_IssueKeys(rid), delay_ps=route.request.start_ps)

    @handler(_Tick)
    def on_tick(self, msg: _Tick, sender: str) -> None:
        for name in sorted(self.pools):
            self.pools[name].grow(self, msg.index)
        waiting, self.waiting = self.waiting, []
        for fwd in waiting:
            self._receive(fwd)
        for peer in sorted(self.queues):
            self._send_queued(peer)
        self.set_timer(_Tick(msg.index + 1), delay_ps=self.tick_ps)

    @handler(_IssueKeys)
    def on_issue(self, msg: _IssueKeys, sender: str) -> None:
        route = self.routes.get(msg.request_id)
        if route is None or route.path[0] != self.id or f"{msg.request_id}#0" in self.issued:
            self.ignored += 1  # not a request this node is the source of, or issued already
            return
        request, peer = route.request, route.path[1]
        for key_id in request.key_ids():
            packed = np.packbits(self.rng.integers(0, 2, size=request.bits, dtype=np.uint8)).tobytes()
            self.issued[key_id] = (self.now, request.bits, packed)
            self.queues[peer].append((key_id, request.bits, packed))
        self._send_queued(peer)

    @handler(KeyForward)
    def on_forward(self, msg: KeyForward, sender: str) -> None:
        if self._place(msg) is None:
            self.ignored += 1  # unknown key, not on the request's incoming link, or malformed
            return
        self._receive(msg)

    @handler(KeyDelivered)
    def on_delivered(self, msg: KeyDelivered, sender: str) -> None:
        route = self._route_of(msg.request)
        if (msg.request not in self.issued or msg.request in self.confirmed or route is None
                or sender != route.path[-1]):
            self.ignored += 1  # unknown key, a duplicate, or not from the request's destination
            return
        self.confirmed[msg.request] = self.now

    def _route_of(self, key_id: str) -> KeyRelayRoute | None:
        rid, _, index = key_id.rpartition("#")
        route = self.routes.get(rid)
        if route is None or not (index.isascii() and index.isdigit() and str(int(index)) == index
                                 and int(index) < route.request.count):
            return None
        return route

    def _place(self, msg: KeyForward) -> tuple[KeyRelayRoute, int] | None:
        """The route of a forward and this node's index on it, if the forward is well formed and arrives on the
        pool the request's previous hop uses; else None."""
        route = self._route_of(msg.request)
        if route is None:
            return None
        i = route.path.index(self.id)
        if (i == 0 or msg.link != self.incoming[route.path[i - 1]].name or msg.bits != route.request.bits
                or len(msg.cipher) != (msg.bits + 7) // 8):
            return None
        return route, i

    def _receive(self, msg: KeyForward) -> None:
        packed = _unpad(self, msg)
        if packed is None:
            return
        route, i = self._place(msg)
        if i == len(route.path) - 1:
            self.delivered[msg.request] = (self.now, msg.bits, packed)
            self.send(route.path[0], KeyDelivered(msg.request, msg.bits), delay_ps=sum(route.delays_ps))
            return
        peer = route.path[i + 1]
        self.queues[peer].append((msg.request, msg.bits, packed))
        self._send_queued(peer)

    def _send_queued(self, peer: str) -> None:
        link, queue = self.outgoing[peer], self.queues[peer]
        pool = self.pools[link.name]
        while queue:
            key_id, bits, packed = queue[0]
            taken = pool.take_next(bits)
            if taken is None:
                return
            offset, pad = taken
            queue.pop(0)
            cipher = np.packbits(np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=bits) ^ pad).tobytes()
            self.send(peer, KeyForward(key_id, link.name, offset, bits, cipher), delay_ps=link.delay_ps)
            self.forwarded += 1


def _edge_rate_bps(where: str, data: dict, length_km: float, refractive_index: float) -> float:
    """A link's secret-key rate from its edge attributes: ``rate_bps``, or ``qkd`` (+ ``attenuation_db_per_km``)."""
    has_rate, has_qkd = "rate_bps" in data, "qkd" in data
    if has_rate == has_qkd:
        raise ConfigurationError(
            f"{where} has {'both' if has_rate else 'neither'} rate_bps {'and' if has_rate else 'nor'} qkd; allowed: "
            f"exactly one of rate_bps (the link's secret-key rate, bit/s >= 0) and qkd (a DecoyBB84)",
            field=f"{where} rate_bps", value=(data.get("rate_bps"), data.get("qkd")))
    att = _real(f"{where} attenuation_db_per_km", data.get("attenuation_db_per_km", GYS_ATTENUATION_DB_PER_KM), 0.0)
    if has_rate:
        return _real(f"{where} rate_bps", data["rate_bps"], 0.0, allowed="a finite number >= 0 (bit/s)")
    params = data["qkd"]
    if not isinstance(params, DecoyBB84):
        raise ConfigurationError(f"{where} qkd = {params!r} is not allowed; allowed: a DecoyBB84",
                                 field=f"{where} qkd", value=params)
    return decoy_link_rate_bps(Fibre(length_km, attenuation_db_per_km=att, refractive_index=refractive_index), params)


def trusted_relay_network(graph: nx.Graph, requests: Sequence[KeyRelayRequest], *, tick_ps: int = MS,
                          refractive_index: float = 1.47,
                          routing: Callable[[nx.Graph, str, str], list] | None = None) -> Network:
    """One :class:`KeyRelayNode` per node of ``graph`` (id ``str(node)``), forwarding end-to-end keys
    through trusted relays along each request's route.

    Edge attributes:

    - ``length_km``: fibre length, a finite number > 0; the link's one-way delay is its
      fibre's (``refractive_index``).
    - ``rate_bps``: the link's secret-key rate, bit/s, finite and >= 0; *or*
    - ``qkd``: a :class:`DecoyBB84`, the rate then being :func:`decoy_link_rate_bps` of
      the link's fibre with ``attenuation_db_per_km`` (default
      :data:`GYS_ATTENUATION_DB_PER_KM`).

    Each request is routed by ``routing(graph, source, dest)`` (a list of nodes), by
    default the path of least total ``length_km`` (:func:`networkx.shortest_path`); the
    routes are fixed before the run and handed to the nodes on them.  All requests routed
    over a link in one direction share one key pool, first come, first served at its
    sending end.

    **Direction.** A link's key pool has one sending end: the sender picks which bits pad
    a message and the receiver takes them by position, with no message between them.
    Two senders on one stream would pick the same bits.  So a link that some route
    crosses in each direction is split into two pools, ``"a-b"`` and ``"b-a"``, each
    growing at half the link's rate from its own keyed stream; a link crossed one way only
    keeps one pool at the full rate (which routes cross which links is known when the
    network is built).  A fixed split needs no coordination and keeps
    :class:`KeyPool` unchanged; it leaves capacity idle when one direction's demand is
    much larger than the other's.

    Args:
        graph: an undirected :class:`networkx.Graph`.
        requests: the :class:`KeyRelayRequest` s, with unique ids.
        tick_ps: period of key-pool growth, ps, an int >= 1.
        refractive_index: group index of every fibre, >= 1.
        routing: ``routing(graph, source, dest) -> list of nodes``, or None for the shortest path by length.

    Raises:
        ConfigurationError: not an undirected simple graph, node ids that coincide as strings, or a self-loop;
            an edge with a missing, negative, NaN or infinite ``length_km``, with neither or both of ``rate_bps``
            and ``qkd``, a negative or non-finite rate, a ``qkd`` that is not a DecoyBB84, or a bad attenuation;
            two links with the same pool name; a request that is not a KeyRelayRequest, a duplicate request id,
            a source or destination not in the graph, ends not connected, or a route that is not a simple path of
            edges.

    >>> g = nx.Graph()
    >>> g.add_edge("A", "B", length_km=20, rate_bps=2000)
    >>> g.add_edge("B", "C", length_km=50, qkd=GYS)
    >>> net = trusted_relay_network(g, [KeyRelayRequest("r", "A", "C", bits=128, count=4)])
    >>> net.names
    ['A', 'B', 'C']
    """
    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise ConfigurationError(f"graph = {type(graph).__name__} is not allowed; allowed: an undirected "
                                 f"networkx.Graph (not directed, not a multigraph)", field="graph", value=graph)
    tick_ps = _count("tick_ps", tick_ps, 1)
    refractive_index = _real("refractive_index", refractive_index, 1.0)
    labels: dict[str, object] = {}
    for v in graph.nodes:
        if str(v) in labels:
            other = labels[str(v)]
            raise ConfigurationError(f"graph nodes {other!r} and {v!r} are not allowed together; allowed: node ids "
                                     f"that stay distinct as strings", field="graph", value=(other, v))
        labels[str(v)] = v
    g = nx.relabel_nodes(graph, {v: str(v) for v in graph.nodes}, copy=True)
    links: dict[tuple[str, str], tuple[float, float, int]] = {}  # (a, b) both ways -> length, rate, delay
    names: dict[str, tuple[str, str]] = {}
    for u, v, data in sorted(g.edges(data=True), key=lambda e: tuple(sorted(e[:2]))):
        a, b = sorted((u, v))
        where = f"edge ({a}, {b})"
        if a == b:
            raise ConfigurationError(f"{where} is not allowed; allowed: edges between two different nodes",
                                     field="graph", value=(a, b))
        length = _real(f"{where} length_km", data.get("length_km"), 0.0, low_open=True,
                       allowed="a finite number > 0 (km)")
        rate = _edge_rate_bps(where, data, length, refractive_index)
        delay = max(1, Fibre(length, refractive_index=refractive_index).delay_ps)
        links[(a, b)] = links[(b, a)] = (length, rate, delay)
        for s, r in ((a, b), (b, a)):
            name = f"{s}-{r}"
            if name in names:
                raise ConfigurationError(f"{where} pool name {name!r} is not allowed; allowed: a name no other link "
                                         f"has (edge {names[name]} has it too: rename nodes so that 'a-b' names "
                                         f"one link)", field="graph", value=name)
            names[name] = (a, b)
    requests = list(requests)
    ids: set[str] = set()
    paths = [_route_key_request(g, k, request, routing, links, ids) for k, request in enumerate(requests)]
    both_ways = {(a, b) for path in paths for a, b in zip(path, path[1:])}
    both_ways &= {(b, a) for a, b in both_ways}

    def pool_rate(a: str, b: str) -> float:
        rate = links[(a, b)][1]
        return rate / 2 if (a, b) in both_ways else rate

    routes = []
    for request, path in zip(requests, paths):
        hops = list(zip(path, path[1:]))
        routes.append(KeyRelayRoute(request, tuple(path), tuple(links[h][0] for h in hops),
                                    tuple(links[h][1] for h in hops), tuple(pool_rate(*h) for h in hops),
                                    tuple(links[h][2] for h in hops)))
    used = sorted({h for path in paths for h in zip(path, path[1:])})
    net = Network()
    for v in sorted(g.nodes):
        outgoing = [KeyLink(f"{a}-{b}", b, pool_rate(a, b), links[(a, b)][2]) for a, b in used if a == v]
        incoming = [KeyLink(f"{a}-{b}", a, pool_rate(a, b), links[(a, b)][2]) for a, b in used if b == v]
        net.add_actor(KeyRelayNode(v, outgoing=outgoing, incoming=incoming,
                                   routes=[r for r in routes if v in r.path], tick_ps=tick_ps))
    for (a, b), (_, _, delay) in sorted(links.items()):
        if a < b:
            net.connect(a, b, latency_ps=delay)
    return net


def _route_key_request(g: nx.Graph, k: int, request: object, routing, links: dict, ids: set) -> list[str]:
    if not isinstance(request, KeyRelayRequest):
        raise ConfigurationError(f"requests[{k}] = {request!r} is not allowed; allowed: a KeyRelayRequest",
                                 field=f"requests[{k}]", value=request)
    rid = request.request_id
    if rid in ids:
        raise ConfigurationError(f"requests[{k}].request_id = {rid!r} is not allowed; allowed: an id no other "
                                 f"request has", field="request_id", value=rid)
    ids.add(rid)
    for field in ("source", "dest"):
        node = getattr(request, field)
        if node not in g:
            raise ConfigurationError(f"request {rid!r} {field} = {node!r} is not allowed; allowed: a node of the "
                                     f"graph", field=field, value=node)
    try:
        path = (routing or _shortest_by_length)(g, request.source, request.dest)
    except nx.NetworkXNoPath:
        raise ConfigurationError(f"request {rid!r} dest = {request.dest!r} is not allowed; allowed: a node "
                                 f"connected to the source {request.source!r}", field="dest",
                                 value=request.dest) from None
    path = list(path) if isinstance(path, (list, tuple)) else path
    if not (isinstance(path, list) and len(path) >= 2 and all(type(v) is str for v in path)
            and path[0] == request.source and path[-1] == request.dest and len(set(path)) == len(path)
            and all(h in links for h in zip(path, path[1:]))):
        raise ConfigurationError(f"request {rid!r} route = {path!r} is not allowed; allowed: a simple path of graph "
                                 f"edges from {request.source!r} to {request.dest!r}", field="routing", value=path)
    return path


def _shortest_by_length(g: nx.Graph, source: str, dest: str) -> list[str]:
    return nx.shortest_path(g, source, dest, weight="length_km")


def key_relay_report(states: Mapping[str, dict], request: KeyRelayRequest | str) -> dict:
    """What a request got, from the final states of a :func:`trusted_relay_network` run.

    Returns a dict with:

    - ``request_id``, ``source``, ``dest``, ``path`` (tuple of node ids);
    - ``hop_lengths_km``; ``link_rates_bps`` (each link's secret-key rate) and
      ``hop_rates_bps`` (the rate of the pool the request draws from, in its direction:
      the link's rate, or half of it on a link used both ways), bit/s;
    - ``weakest_hop`` (the first hop ``(a, b)`` with the smallest ``hop_rates_bps``) and
      ``weakest_rate_bps``: the most the request can get in the long run, if it shares no
      pool (links produce key from the start of the run, so a request that starts later
      first uses key banked so far and may exceed it for a while);
    - ``keys_requested``, ``bits_requested``, ``keys_issued``, ``keys_delivered``,
      ``keys_confirmed``, ``bits_delivered``, ``complete`` (every key delivered);
    - ``start_ps``; ``first_issued_ps`` and ``last_delivered_ps`` (None if none);
      ``span_ps``: first issued to last delivered (None if none delivered);
    - ``delivered_rate_bps``: bits delivered over the time from ``start_ps`` to the last
      delivery, bit/s (0.0 if none delivered);
    - ``keys_match``: every delivered key equals the key the source issued (True when
      none is delivered yet: see ``keys_delivered``).

    Raises:
        ConfigurationError: no node in ``states`` is the source of ``request``.
    """
    rid = request.request_id if isinstance(request, KeyRelayRequest) else request
    route = None
    for name in sorted(states):
        candidate = states[name].get("routes", {}).get(rid) if isinstance(states[name], dict) else None
        if isinstance(candidate, KeyRelayRoute) and candidate.path[0] == name:
            route = candidate
            break
    if route is None:
        raise ConfigurationError(f"request = {rid!r} is not allowed; allowed: the id of a request whose source is "
                                 f"in states", field="request", value=rid)
    req, source, dest = route.request, route.path[0], route.path[-1]
    issued, delivered = states[source]["issued"], states[dest]["delivered"]
    confirmed = states[source]["confirmed"]
    keys = req.key_ids()
    got = [delivered[k] for k in keys if k in delivered]
    sent = [issued[k] for k in keys if k in issued]
    weakest = min(range(len(route.rates_bps)), key=lambda i: route.rates_bps[i])
    bits = sum(b for _, b, _ in got)
    last = max((t for t, _, _ in got), default=None)
    first = min((t for t, _, _ in sent), default=None)
    return {
        "request_id": rid, "source": source, "dest": dest, "path": route.path,
        "hop_lengths_km": route.lengths_km, "link_rates_bps": route.link_rates_bps, "hop_rates_bps": route.rates_bps,
        "weakest_hop": route.hops[weakest], "weakest_rate_bps": route.rates_bps[weakest],
        "keys_requested": req.count, "bits_requested": req.count * req.bits, "keys_issued": len(sent),
        "keys_delivered": len(got), "keys_confirmed": sum(k in confirmed for k in keys), "bits_delivered": bits,
        "complete": len(got) == req.count,
        "start_ps": req.start_ps, "first_issued_ps": first, "last_delivered_ps": last,
        "span_ps": None if last is None or first is None else last - first,
        "delivered_rate_bps": bits / ((last - req.start_ps) / S) if last is not None else 0.0,
        "keys_match": all(k in issued and issued[k][1:] == delivered[k][1:] for k in keys if k in delivered),
    }
