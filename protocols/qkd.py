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
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple, Sequence

import numpy as np

from qactors.core.actor import Actor, handler
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
    "KeyLink", "KeyPool", "KeyRequest", "KeyForward", "KeyDelivered", "RelayNode", "trusted_relay_chain",
]

SIGNAL, DECOY, VACUUM = 0, 1, 2
CLASSES = ("signal", "decoy", "vacuum")
_BASIS_FACTOR = 0.5  # unbiased Z/X bases: half the clicks survive sifting
_E0 = 0.5            # error rate of a click from a dark count alone: a random bit


def _real(where: str, value: object, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
          allowed: str | None = None) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and low <= value <= high and not (low_open and value == low))
    if not ok:
        if allowed is None:
            lo = f"{'>' if low_open else '>='} {low:g}" if low > -math.inf else ""
            allowed = f"a finite number {lo}" + (f" and <= {high:g}" if high < math.inf else "")
        raise ConfigurationError(f"{where} = {value!r} is not allowed; allowed: {allowed.strip()}",
                                 field=where, value=value)
    return float(value)


def _probability(where: str, value: object) -> float:
    return _real(where, value, 0.0, 1.0, allowed="a number in [0, 1]")


def _count(where: str, value: object, low: int) -> int:
    if type(value) is not int or value < low:
        raise ConfigurationError(f"{where} = {value!r} is not allowed; allowed: an int >= {low}",
                                 field=where, value=value)
    return value


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


class DecoyTally:
    """Counts per intensity class (signal, decoy, vacuum): pulses sent, clicks, sifted clicks
    (equal bases) and errors among them.  Plain data; both ends of a link keep one."""

    def __init__(self) -> None:
        self.sent = [0, 0, 0]
        self.clicks = [0, 0, 0]
        self.sifted = [0, 0, 0]
        self.errors = [0, 0, 0]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

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
class KeyRequest(Message):
    """Ask the first node of a chain for an end-to-end key of ``bits`` bits."""

    bits: int


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


class RelayNode(Actor):
    """A node of a trusted-relay chain from ``source`` to ``destination``.

    ``left`` is the link towards the source (None at the source), ``right`` the link
    towards the destination (None there).  Every ``tick_ps`` both pools grow
    (:class:`KeyPool`).  The source turns each :class:`KeyRequest` into a fresh random
    key from its own random stream and sends it padded with the right link's key as soon
    as that link has enough; a relay decrypts with the left link's key and re-encrypts
    with the right link's, waiting for key when it must (first come, first served); the
    destination keeps the key and tells the source.

    State: ``issued`` (source) and ``delivered`` (destination) map request ids to
    ``(time ps, bits, key packed as bytes)``; ``confirmed`` (source) maps them to the
    time the destination's confirmation arrived; ``ignored`` counts messages for an
    unknown link or request, replays of used key, and duplicates.
    """

    def __init__(self, actor_id: str, *, left: KeyLink | None, right: KeyLink | None, source: str, destination: str,
                 to_source_ps: int, tick_ps: int = MS, requests: Sequence[tuple[int, int]] = ()):
        super().__init__(actor_id)
        if left is None and right is None:
            raise ConfigurationError(f"relay node {actor_id!r} has no link; allowed: a left link, a right link or "
                                     f"both", field="links", value=None)
        self.tick_ps = _count("tick_ps", tick_ps, 1)
        self.left, self.right = left, right
        self.pools = {link.name: KeyPool(link.name, float(link.rate_bps), tick_ps)
                      for link in (left, right) if link is not None}
        self.source, self.destination = source, destination
        self.to_source_ps = _count("to_source_ps", to_source_ps, 1)
        self.requests = tuple(_check_request(r) for r in requests)
        self.next_request = 0
        self.queue: list[tuple[str, int, bytes]] = []   # (request, bits, key) waiting for right-link key
        self.waiting: list[KeyForward] = []             # forwards whose left-link key is not produced yet
        self.seen: set[str] = set()                     # requests that passed through here
        self.issued: dict[str, tuple[int, int, bytes]] = {}
        self.delivered: dict[str, tuple[int, int, bytes]] = {}
        self.confirmed: dict[str, int] = {}
        self.forwarded = 0
        self.ignored = 0

    def on_start(self) -> None:
        self.set_timer(_Tick(1), delay_ps=self.tick_ps)
        for at_ps, bits in self.requests:
            self.set_timer(KeyRequest(bits), delay_ps=at_ps)

    @handler(_Tick)
    def on_tick(self, msg: _Tick, sender: str) -> None:
        for name in sorted(self.pools):
            self.pools[name].grow(self, msg.index)
        waiting, self.waiting = self.waiting, []
        for fwd in waiting:
            self._receive(fwd)
        self._send_queued()
        self.set_timer(_Tick(msg.index + 1), delay_ps=self.tick_ps)

    @handler(KeyRequest)
    def on_request(self, msg: KeyRequest, sender: str) -> None:
        if self.right is None or self.left is not None or msg.bits < 1:
            self.ignored += 1  # only the source serves requests
            return
        request = f"{self.id}#{self.next_request}"
        self.next_request += 1
        key = self.rng.integers(0, 2, size=msg.bits, dtype=np.uint8)
        self.issued[request] = (self.now, msg.bits, np.packbits(key).tobytes())
        self.queue.append((request, msg.bits, np.packbits(key).tobytes()))
        self._send_queued()

    @handler(KeyForward)
    def on_forward(self, msg: KeyForward, sender: str) -> None:
        if self.left is None or msg.link != self.left.name or msg.bits < 1 or len(msg.cipher) != (msg.bits + 7) // 8:
            self.ignored += 1  # not on a link this node receives on, or malformed
            return
        self._receive(msg)

    @handler(KeyDelivered)
    def on_delivered(self, msg: KeyDelivered, sender: str) -> None:
        if msg.request not in self.issued or msg.request in self.confirmed:
            self.ignored += 1  # unknown request, or a duplicate confirmation
            return
        self.confirmed[msg.request] = self.now

    def _receive(self, msg: KeyForward) -> None:
        if msg.request in self.seen:
            self.ignored += 1  # this request already passed here
            return
        pad = self.pools[msg.link].take_at(msg.offset, msg.bits)
        if isinstance(pad, str):
            if pad == "used":
                self.ignored += 1  # a replay: that key padded a message already
            else:
                self.waiting.append(msg)
            return
        self.seen.add(msg.request)
        key = np.unpackbits(np.frombuffer(msg.cipher, dtype=np.uint8), count=msg.bits) ^ pad
        packed = np.packbits(key).tobytes()
        if self.right is None:
            self.delivered[msg.request] = (self.now, msg.bits, packed)
            self.send(self.source, KeyDelivered(msg.request, msg.bits), delay_ps=self.to_source_ps)
            return
        self.queue.append((msg.request, msg.bits, packed))
        self._send_queued()

    def _send_queued(self) -> None:
        if self.right is None:
            return
        pool = self.pools[self.right.name]
        while self.queue:
            request, bits, packed = self.queue[0]
            taken = pool.take_next(bits)
            if taken is None:
                return
            offset, pad = taken
            self.queue.pop(0)
            cipher = np.packbits(np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=bits) ^ pad).tobytes()
            self.send(self.right.peer, KeyForward(request, self.right.name, offset, bits, cipher),
                      delay_ps=self.right.delay_ps)
            self.forwarded += 1


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
    is asked for, relayed to ``Nk``.

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
    fibres = [Fibre(x, attenuation_db_per_km=att) for x in lengths]
    if rates_bps is None:
        rates = [decoy_link_rate_bps(f, params) for f in fibres]
    else:
        rates = [_real(f"rates_bps[{i}]", r, 0.0) for i, r in enumerate(rates_bps)]
        if len(rates) != len(lengths):
            raise ConfigurationError(f"rates_bps has {len(rates)} entries for {len(lengths)} links; allowed: one "
                                     f"per link", field="rates_bps", value=list(rates_bps))
    names = [f"N{i}" for i in range(len(lengths) + 1)]
    delays = [f.delay_ps for f in fibres]
    net = Network()
    for i, name in enumerate(names):
        left = KeyLink(f"{names[i - 1]}-{name}", names[i - 1], rates[i - 1], delays[i - 1]) if i > 0 else None
        right = KeyLink(f"{name}-{names[i + 1]}", names[i + 1], rates[i], delays[i]) if i < len(lengths) else None
        net.add_actor(RelayNode(name, left=left, right=right, source=names[0], destination=names[-1],
                                to_source_ps=max(1, sum(delays[:i])), tick_ps=tick_ps,
                                requests=requests if i == 0 else ()))
    for i, d in enumerate(delays):
        net.connect(names[i], names[i + 1], latency_ps=d)
    return net
