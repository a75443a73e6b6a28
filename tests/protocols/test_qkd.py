"""QKD on actors: decoy-state BB84 over a fibre link, E91 over delivered pairs, key-rate
accounting, and trusted-relay key forwarding.

Statistical checks use 3-sigma binomial bounds around the closed forms of
qactors.quantum.information (Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005) [MQZL] for decoy
BB84; S = 2 sqrt 2 w and QBER (1 - w)/2 for E91 over Werner pairs).  Seeds are fixed, so
every run is deterministic; the bounds say how far a correct model may stray.
"""

from __future__ import annotations

import doctest
import math
import re
from pathlib import Path

import numpy as np
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.core.time import MS, S, US
from qactors.hardware.channels import Fibre
from qactors.protocols.applications import Receiver, SiftBits
from qactors.protocols.link import GOOD, Herald, LinkPhysics, LinkSide
from qactors.protocols.qkd import (DECOY, GYS, SIGNAL, VACUUM, DecoyBB84, DecoyReceiver, DecoySender, DecoyTally,
                                   DetectionReport, KeyDelivered, KeyForward, KeyLink, KeyPool, KeyRate, KeyRelayNode,
                                   KeyRelayRequest, KeyRelayRoute, PulseBlock, SiftAnnouncement, _IssueKeys, _Tick,
                                   decoy_bb84_link,
                                   decoy_link_rate_bps, max_distance_km, trusted_relay_chain)
from qactors.protocols.swapping import ChainNode, repeater_chain
from qactors.quantum import information as info
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord, werner_parameter
from qactors.testing import ActorProbe

# =====================================================================================================
# Decoy-state BB84
# =====================================================================================================
# A short, bright link with a noisy detector so that every class (including vacuum) collects enough
# clicks for tight bounds in a fraction of a second.
BRIGHT = DecoyBB84(mu=0.5, nu=0.1, p_signal=0.5, p_decoy=0.3, p_vacuum=0.2, detector_efficiency=0.2,
                   dark_count_probability=1e-4, misalignment=0.02, repetition_rate_hz=1e7)
FIBRE_10KM = Fibre(10, attenuation_db_per_km=0.2)
BLOCKS, PULSES = 20, 200_000


@pytest.fixture(scope="module")
def bright_run():
    net = decoy_bb84_link(FIBRE_10KM, BRIGHT, blocks=BLOCKS, pulses_per_block=PULSES)
    return qactors.run(net, until_ps=S, seed=3)


def within_3_sigma(measured: float, p: float, n: int) -> bool:
    return abs(measured - p) <= 3 * math.sqrt(p * (1 - p) / n)


def test_decoy_gains_and_error_rates_match_the_closed_forms(bright_run):
    alice, bob = bright_run.states["alice"], bright_run.states["bob"]
    tally = alice["tally"]
    assert tally == bob["tally"]                      # both ends hold the same statistics
    assert sum(tally.sent) == BLOCKS * PULSES and bob["blocks_sifted"] == BLOCKS
    assert alice["pending"] == {} and bob["reported"] == {}
    eta = BRIGHT.transmittance(FIBRE_10KM)
    for k, mu in enumerate(BRIGHT.intensities):
        gain = info.decoy_gain(mu, eta, BRIGHT.dark_count_probability)
        error = info.decoy_error_rate(mu, eta, BRIGHT.dark_count_probability, BRIGHT.misalignment)
        assert within_3_sigma(tally.gain(k), gain, tally.sent[k]), k
        assert within_3_sigma(tally.error_rate(k), error, tally.sifted[k]), k
        # half the clicks survive sifting
        assert within_3_sigma(tally.sifted[k] / tally.clicks[k], 0.5, tally.clicks[k]), k
    for k, p in enumerate(BRIGHT.class_probabilities):
        assert within_3_sigma(tally.sent[k] / (BLOCKS * PULSES), p, BLOCKS * PULSES)


def test_decoy_estimate_from_the_simulation_matches_the_closed_form_and_stays_below_infinite_decoy(bright_run):
    """The GLLP rate Alice and Bob compute from their tallies agrees with the closed-form vacuum + weak
    decoy rate within 3 sigma (binomial errors of the five measured quantities propagated to first
    order), and both are below the infinite-decoy rate and within 10 % of it."""
    tally = bright_run.states["alice"]["tally"]
    est = tally.estimate(BRIGHT)
    eta = BRIGHT.transmittance(FIBRE_10KM)
    y0, e_d, mu, nu = BRIGHT.dark_count_probability, BRIGHT.misalignment, BRIGHT.mu, BRIGHT.nu
    expected = [info.decoy_gain(mu, eta, y0), info.decoy_error_rate(mu, eta, y0, e_d), info.decoy_gain(nu, eta, y0),
                info.decoy_error_rate(nu, eta, y0, e_d), y0]
    counts = [tally.sent[SIGNAL], tally.sifted[SIGNAL], tally.sent[DECOY], tally.sifted[DECOY], tally.sent[VACUUM]]

    def rate(x):
        return info.decoy_key_rate_from_gains(mu, nu, *x, ec_efficiency=BRIGHT.ec_efficiency)

    closed = rate(expected)
    assert closed == pytest.approx(info.decoy_key_rate(mu, nu, eta, y0, e_d, ec_efficiency=BRIGHT.ec_efficiency))
    variance = 0.0
    for i, (p, n) in enumerate(zip(expected, counts)):
        h = p * 1e-4
        up, down = list(expected), list(expected)
        up[i], down[i] = p + h, p - h
        variance += ((rate(up) - rate(down)) / (2 * h)) ** 2 * p * (1 - p) / n
    assert abs(est.rate_per_signal_pulse - closed) < 3 * math.sqrt(variance)
    infinite = info.infinite_decoy_key_rate(mu, eta, y0, e_d, ec_efficiency=BRIGHT.ec_efficiency)
    assert 0.9 * infinite < closed < infinite
    # the single-photon yield estimate is a lower bound of the true yield 1 - (1 - Y0)(1 - eta)
    assert est.y1_lower < (1 - (1 - y0) * (1 - eta)) + 3 * math.sqrt(variance) / (mu * math.exp(-mu))
    # accounting: the secret bits spread over the sifted signal bits, per second of sending
    elapsed_ps = BLOCKS * PULSES * S // int(BRIGHT.repetition_rate_hz)
    report = KeyRate.from_decoy(tally, BRIGHT, elapsed_ps)
    assert report.sifted_bits == tally.sifted[SIGNAL] and report.qber == pytest.approx(tally.error_rate(SIGNAL))
    assert report.rate_bps == pytest.approx(est.rate_per_signal_pulse * tally.sent[SIGNAL] / (elapsed_ps / S))


def test_gys_key_rate_vanishes_near_140_km():
    """GYS parameters as tabulated by MQZL: eta_Bob = 4.5 %, Y0 = 1.7e-6, e_d = 3.3 %, 0.21 dB/km, f = 1.22
    (mu = 0.48, nu = 0.05).  Our own formulas put the vacuum + weak decoy cutoff at about 140.6 km and
    the infinite-decoy cutoff at about 142.0 km; MQZL report cutoffs in the same place (~140 km)."""
    assert (GYS.detector_efficiency, GYS.dark_count_probability, GYS.misalignment, GYS.ec_efficiency) == \
        (0.045, 1.7e-6, 0.033, 1.22)
    decoy = max_distance_km(GYS, attenuation_db_per_km=0.21)
    infinite = max_distance_km(GYS, attenuation_db_per_km=0.21, infinite_decoy=True)
    assert 138 < decoy < infinite < 145
    assert decoy == pytest.approx(140.6, abs=0.1) and infinite == pytest.approx(142.0, abs=0.1)
    assert decoy_link_rate_bps(Fibre(decoy - 1, attenuation_db_per_km=0.21), GYS) > 0
    assert decoy_link_rate_bps(Fibre(decoy + 1, attenuation_db_per_km=0.21), GYS) == 0
    # the bit rate falls with the fibre's transmissivity
    assert (decoy_link_rate_bps(Fibre(0, attenuation_db_per_km=0.21))
            > decoy_link_rate_bps(Fibre(50, attenuation_db_per_km=0.21))
            > decoy_link_rate_bps(Fibre(100, attenuation_db_per_km=0.21)) > 0)
    # no decoy intensity can beat the infinite-decoy limit, at any distance
    for length in (0, 50, 100, 140):
        fibre = Fibre(length, attenuation_db_per_km=0.21)
        assert decoy_link_rate_bps(fibre, GYS) <= decoy_link_rate_bps(fibre, GYS, infinite_decoy=True)


def test_decoy_runs_are_deterministic_per_seed():
    net = decoy_bb84_link(FIBRE_10KM, BRIGHT, blocks=2, pulses_per_block=20_000)
    a = qactors.run(net, until_ps=S, seed=11)
    b = qactors.run(net, until_ps=S, seed=11)
    c = qactors.run(net, until_ps=S, seed=12)
    assert a.digest == b.digest and a.states["bob"]["tally"] == b.states["bob"]["tally"]
    assert c.digest != a.digest


# -- message order --------------------------------------------------------------------------------
def block_message(seed: int = 5, n: int = 2000) -> PulseBlock:
    rng = np.random.default_rng(seed)
    photons = rng.poisson(0.5, n).astype(np.uint8)
    return PulseBlock(0, n, photons.tobytes(), rng.integers(0, 2, n, dtype=np.uint8).tobytes(),
                      rng.integers(0, 2, n, dtype=np.uint8).tobytes())


def test_bob_ignores_an_announcement_before_its_block_and_duplicates():
    bob = ActorProbe(DecoyReceiver("bob", "alice", BRIGHT, 1.0, 100), peers=["alice"])
    bob.start()
    early = SiftAnnouncement(0, (1, 0, 0), b"\x00", b"\x00", b"\x00")
    assert bob.deliver(early, "alice", 10) == [] and bob.actor.ignored == 1
    block = block_message()
    sent = bob.deliver(block, "alice", 200)
    assert [(s.to, s.delay_ps, type(s.msg)) for s in sent] == [("alice", 100, DetectionReport)]
    report = sent[0].msg
    assert bob.deliver(block, "alice", 300) == [] and bob.actor.ignored == 2   # the same block again
    clicks = len(report.bases)
    assert clicks > 0 and bob.actor.tally == DecoyTally()
    # an announcement that does not match the report is refused, the right one is tallied once
    assert bob.deliver(SiftAnnouncement(0, (2000, 0, 0), b"\x00", b"\x00", b"\x00"), "alice", 350) == []
    good = SiftAnnouncement(0, (2000, 0, 0), bytes(clicks), report.bases, report.bits)
    assert bob.deliver(good, "alice", 400) == []
    assert bob.actor.tally.clicks == [clicks, 0, 0] and bob.actor.tally.errors == [0, 0, 0]
    assert bob.actor.tally.sifted == [clicks, 0, 0]
    assert bob.deliver(good, "alice", 500) == [] and bob.actor.ignored == 4
    assert bob.actor.tally.clicks == [clicks, 0, 0]


def test_alice_answers_each_report_once():
    alice = ActorProbe(DecoySender("alice", "bob", BRIGHT, 100, blocks=1, pulses_per_block=1000), peers=["bob"])
    [timer] = alice.start()
    assert timer.to == "alice" and timer.delay_ps == 100 * US  # 1000 pulses at 10 MHz
    [block] = alice.deliver(timer.msg, "alice", timer.delay_ps)   # the only block: no timer for another
    assert block.to == "bob" and isinstance(block.msg, PulseBlock) and block.delay_ps == 100
    idx = np.array([3, 10, 999], dtype="<u4")
    report = DetectionReport(0, idx.tobytes(), bytes(3), bytes(3))
    assert alice.deliver(DetectionReport(7, idx.tobytes(), bytes(3), bytes(3)), "bob", 200 * US) == []  # unknown block
    assert alice.deliver(DetectionReport(0, np.array([1000], "<u4").tobytes(), b"\x00", b"\x00"), "bob",
                         200 * US) == []                                           # index past the block
    assert alice.deliver(DetectionReport(0, np.array([3, 3], "<u4").tobytes(), bytes(2), bytes(2)), "bob",
                         200 * US) == []                                           # a pulse reported twice
    assert alice.deliver(DetectionReport(0, b"\x01\x02", b"\x00", b"\x00"), "bob", 200 * US) == []  # torn indices
    [answer] = alice.deliver(report, "bob", 200 * US)
    assert answer.to == "bob" and isinstance(answer.msg, SiftAnnouncement) and sum(answer.msg.sent) == 1000
    assert len(answer.msg.classes) == 3 and sum(alice.actor.tally.clicks) == 3
    assert alice.deliver(report, "bob", 300 * US) == [] and alice.actor.ignored == 5
    assert sum(alice.actor.tally.clicks) == 3


def test_decoy_settings_are_checked():
    with pytest.raises(ConfigurationError, match="DecoyBB84.nu = 0.5"):
        DecoyBB84(mu=0.5, nu=0.5)
    with pytest.raises(ConfigurationError, match="sum to 1"):
        DecoyBB84(p_signal=0.5, p_decoy=0.2, p_vacuum=0.2)
    with pytest.raises(ConfigurationError, match="DecoyBB84.detector_efficiency = 1.5"):
        DecoyBB84(detector_efficiency=1.5)
    with pytest.raises(ConfigurationError, match="DecoyBB84.ec_efficiency = 0.8"):
        DecoyBB84(ec_efficiency=0.8)
    with pytest.raises(ConfigurationError, match="takes a hardware.channels.Fibre"):
        decoy_bb84_link(10.0)
    with pytest.raises(ConfigurationError, match="pulses_per_block = 0"):
        decoy_bb84_link(FIBRE_10KM, blocks=1, pulses_per_block=0)
    with pytest.raises(ConfigurationError, match="no decoy estimate yet"):
        DecoyTally().estimate(GYS)


# =====================================================================================================
# E91 over delivered pairs
# =====================================================================================================
def werner_link(fidelity: float) -> LinkPhysics:
    """Double-click link whose dark counts bring the mean heralded fidelity to ``fidelity``
    (a perfect pair or, after a false herald, a maximally mixed one: a Werner state on average)."""
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if LinkPhysics("double_click", eta_arm=0.5, dark_count_probability=mid).reference_fidelity() > fidelity:
            lo = mid
        else:
            hi = mid
    return LinkPhysics("double_click", eta_arm=0.5, dark_count_probability=lo)


def test_e91_chsh_and_qber_over_delivered_werner_pairs(cases):
    """QKD-2 at F = 0.9 by simulation: the CHSH value and both key settings' QBER within 3 sigma of
    S = 2 sqrt 2 w and (1 - w)/2; the setting combinations occur 2/9 (key), 4/9 (CHSH), 3/9 (unused)."""
    pairs = 9000
    net = repeater_chain(2, 5, werner_link(0.9), application="e91", max_pairs=pairs)
    result = qactors.run(net, until_ps=2**62, seed=4)
    receiver = result.states["N1"]["receiver"]
    exp = cases["QKD-2"]["expected"]["0.9"]
    w = werner_parameter(0.9)
    key = sum(receiver.e91_sifted.values())
    chsh = sum(receiver.chsh_pairs.values())
    assert key + chsh + receiver.e91_unused == pairs
    for n, p in ((key, 2 / 9), (chsh, 4 / 9), (receiver.e91_unused, 3 / 9)):
        assert within_3_sigma(n / pairs, p, pairs)
    s = receiver.chsh()
    # each correlation E = w cos(a - b) = +-w / sqrt 2 estimated from n pairs has variance (1 - E^2)/n
    sigma = math.sqrt(sum((1 - w * w / 2) / receiver.chsh_pairs[t] for t in receiver.chsh_pairs))
    assert abs(s - exp["S"]) < 3 * sigma
    assert exp["S"] == pytest.approx(2 * math.sqrt(2) * w, abs=1e-6)
    assert s > 2  # a Bell violation
    for setting in ("D", "X"):
        n = receiver.e91_sifted[setting]
        assert within_3_sigma(receiver.e91_errors[setting] / n, exp["QBER"], n), setting
    # key-rate accounting from the same statistics: DI fraction at the measured S and QBER
    elapsed = result.states["N1"]["deliveries"][-1][0]
    report = KeyRate.from_e91(receiver, elapsed)
    assert report.chsh == s and report.sifted_bits == key
    assert report.key_fraction == pytest.approx(info.di_key_fraction(s, report.qber))
    assert report.rate_bps == pytest.approx(max(0.0, report.key_fraction) * key / (elapsed / S))


def test_e91_is_deterministic_and_mixed_stays_teleport_and_bbm92():
    physics = LinkPhysics("double_click", eta_arm=0.6, visibility=0.9)
    a = qactors.run(repeater_chain(3, 5, physics, application="e91", max_pairs=60), until_ps=2**62, seed=2)
    b = qactors.run(repeater_chain(3, 5, physics, application="e91", max_pairs=60), until_ps=2**62, seed=2)
    assert a.digest == b.digest and a.states["N2"]["receiver"] == b.states["N2"]["receiver"]
    mixed = qactors.run(repeater_chain(2, 5, physics, application="mixed", max_pairs=60), until_ps=2**62, seed=2)
    r = mixed.states["N1"]["receiver"]
    assert sum(r.e91_sifted.values()) + sum(r.chsh_pairs.values()) + r.e91_unused == 0


NOISE = MemoryNoise()


def e91_receiver_probe():
    side = LinkSide("N0-N1", "N0-N1/station", LinkPhysics("double_click", eta_arm=1.0), 100, NOISE)
    probe = ActorProbe(ChainNode("N1", [side], ("N0", "N1"), {"N0": 200, "N1": 1}, application="e91"),
                       peers=["N0-N1/station", "N0"])
    probe.start()
    return probe


def phi_plus(pair_id: str) -> PairRecord:
    return PairRecord(pair_id, (1.0, 0.0, 0.0, 0.0), 0, PairEnd("N0", NOISE, 0), PairEnd("N1", NOISE, 0))


def shared_outcome(pair_id: str, seed: int = 0) -> int:
    from qactors.core.rng import shared_generator
    return int(shared_generator(seed, "e91", pair_id).random() < 0.5)


def test_e91_sifting_before_the_pair_is_kept_until_it_arrives():
    end = e91_receiver_probe()
    assert end.deliver(SiftBits("p#0", "Z", shared_outcome("p#0"), 50), "N0", 90) == []
    sent = end.deliver(Herald("N0-N1", 0, 1, GOOD, phi_plus("p#0")), "N0-N1/station", 100)
    assert [type(x.msg).__name__ for x in sent] == ["Ready"]  # measured at once, slot offered again
    r = end.actor.receiver
    # Alice's Z against Bob's D or A is a CHSH pair, against Bob's X it is unused; never a key bit
    assert sum(r.chsh_pairs.values()) + r.e91_unused == 1 and sum(r.e91_sifted.values()) == 0
    assert r.waiting == {} and r.held == {}


def test_e91_equal_settings_of_phi_plus_never_err():
    end = e91_receiver_probe()
    for i in range(60):
        pid = f"p#{i}"
        end.deliver(Herald("N0-N1", i, 1, GOOD, phi_plus(pid)), "N0-N1/station", 100 + 1000 * i)
        end.deliver(SiftBits(pid, "D" if i % 2 else "X", shared_outcome(pid), 100 + 1000 * i), "N0", 400 + 1000 * i)
    r = end.actor.receiver
    assert sum(r.e91_sifted.values()) > 5 and r.e91_errors == {"D": 0, "X": 0}


def test_e91_sender_outcome_must_match_the_shared_draw():
    end = e91_receiver_probe()
    end.deliver(Herald("N0-N1", 0, 1, GOOD, phi_plus("p#0")), "N0-N1/station", 100)
    with pytest.raises(RuntimeError, match="keyed generators disagree"):
        end.deliver(SiftBits("p#0", "Z", 1 - shared_outcome("p#0"), 100), "N0", 300)
    end.deliver(Herald("N0-N1", 1, 1, GOOD, phi_plus("p#1")), "N0-N1/station", 1000)
    with pytest.raises(RuntimeError, match="setting 'A' is not one of"):
        end.deliver(SiftBits("p#1", "A", 0, 1000), "N0", 1300)


# =====================================================================================================
# Key-rate accounting
# =====================================================================================================
def test_bbm92_key_rate_from_receiver_counts():
    r = Receiver()
    r.sifted, r.errors = {"Z": 5000, "X": 5000}, {"Z": 500, "X": 250}
    report = KeyRate.from_bbm92(r, 2 * S)
    fz, fx = info.secret_fraction(0.1, 0.05), info.secret_fraction(0.05, 0.1)
    assert report.qber_by_basis == {"Z": 0.1, "X": 0.05} and report.qber == pytest.approx(0.075)
    assert report.key_fraction == pytest.approx((fz + fx) / 2)
    assert report.secret_bits == pytest.approx(5000 * (fz + fx)) and report.rate_bps == pytest.approx(2500 * (fz + fx))
    # equal error rates: the BBM92 fraction of a Werner pair with that QBER
    r.errors = {"Z": 500, "X": 500}
    werner_c = (0.85, 0.05, 0.05, 0.05)  # w = 0.8, QBER 0.1
    assert KeyRate.from_bbm92(r, S).key_fraction == pytest.approx(info.bbm92_key_fraction(werner_c))
    # too many errors: no key, rate 0
    r.errors = {"Z": 1000, "X": 1000}
    assert KeyRate.from_bbm92(r, S).key_fraction < 0 and KeyRate.from_bbm92(r, S).rate_bps == 0
    with pytest.raises(ConfigurationError, match="elapsed_ps = 0"):
        KeyRate.from_bbm92(r, 0)
    with pytest.raises(ConfigurationError, match="elapsed_ps = 1.5"):
        KeyRate.from_bbm92(r, 1.5)


def test_e91_key_rate_without_chsh_pairs_gives_no_key():
    r = Receiver()
    r.e91_sifted = {"D": 100, "X": 100}
    report = KeyRate.from_e91(r, S)
    assert math.isnan(report.chsh) and report.key_fraction <= 0 and report.rate_bps == 0


# =====================================================================================================
# Trusted relays
# =====================================================================================================
def delivered_bits(result, destination: str) -> int:
    return sum(bits for _, bits, _ in result.states[destination]["delivered"].values())


@pytest.mark.parametrize("rates", [(4000, 1000, 2500), (1000, 4000, 2500), (4000, 2500, 1000)])
def test_end_to_end_key_rate_is_the_weakest_link(rates):
    """A backlog of requests at N0: the end-to-end key rate is min(link rates) to within one request
    per run time (128 bits in 5 s: 26 bit/s) plus the tick and fibre latencies, wherever the weakest
    link sits; both ends hold the same keys."""
    seconds = 5
    requests = [(0, 128)] * 100
    net = trusted_relay_chain([20, 30, 25], rates_bps=list(rates), requests=requests)
    result = qactors.run(net, until_ps=seconds * S, seed=9)
    rate = delivered_bits(result, "N3") / seconds
    assert min(rates) - 40 <= rate <= min(rates)
    issued, delivered = result.states["N0"]["issued"], result.states["N3"]["delivered"]
    assert delivered and all(issued[r][1:] == delivered[r][1:] for r in delivered)
    assert len({key for _, _, key in delivered.values()}) == len(delivered)  # fresh keys, not a repeated pad
    confirmed = result.states["N0"]["confirmed"]
    assert set(confirmed) <= set(delivered) and len(confirmed) >= len(delivered) - 1
    # upstream of the bottleneck keys pile up at a relay; downstream every key moves on at once
    forwarded = [result.states[n]["forwarded"] for n in ("N0", "N1", "N2")]
    assert forwarded == sorted(forwarded, reverse=True) and forwarded[-1] >= len(delivered)
    weakest = rates.index(min(rates))
    assert all(f - len(delivered) <= 1 for f in forwarded[weakest:])


def test_relay_rates_from_the_decoy_closed_form_limit_the_chain_at_its_longest_link():
    lengths = [20, 60, 40]
    seconds = 10
    net = trusted_relay_chain(lengths, requests=[(0, 64)] * 400)
    result = qactors.run(net, until_ps=seconds * S, seed=1, record_digest=False)
    weakest = decoy_link_rate_bps(Fibre(60, attenuation_db_per_km=0.21))
    assert weakest == min(decoy_link_rate_bps(Fibre(x, attenuation_db_per_km=0.21)) for x in lengths)
    rate = delivered_bits(result, "N3") / seconds
    assert weakest - 2 * 64 / seconds <= rate <= weakest
    issued, delivered = result.states["N0"]["issued"], result.states["N3"]["delivered"]
    assert all(issued[r][1:] == delivered[r][1:] for r in delivered)


def relay(name: str, *, bits: int = 64, count: int = 2, rate=1e5) -> ActorProbe:
    """One node of the line N0 - N1 - N2, carrying one request of ``count`` keys of ``bits`` bits."""
    route = KeyRelayRoute(KeyRelayRequest("r", "N0", "N2", bits, count=count), ("N0", "N1", "N2"), (2.0, 2.0),
                          (rate, rate), (rate, rate), (10, 10))
    links = {"N0": ([], [KeyLink("N0-N1", "N1", rate, 10)]), "N1": ([KeyLink("N0-N1", "N0", rate, 10)],
                                                                    [KeyLink("N1-N2", "N2", rate, 10)]),
             "N2": ([KeyLink("N1-N2", "N1", rate, 10)], [])}
    incoming, outgoing = links[name]
    node = KeyRelayNode(name, incoming=incoming, outgoing=outgoing, routes=[route], tick_ps=MS)
    probe = ActorProbe(node, peers=[n for n in ("N0", "N1", "N2") if n != name])
    probe.start()
    return probe


def test_relay_step_by_step_with_early_replayed_and_unknown_messages():
    n0, n1, n2 = relay("N0"), relay("N1"), relay("N2")
    assert n0.deliver(_IssueKeys("r"), "N0", 0) == []              # no key on the link yet: queued
    [fwd, tick] = n0.deliver(_Tick(1), "N0", MS)                   # 100 bits produced: the first key sent padded
    assert (fwd.to, fwd.delay_ps, type(fwd.msg)) == ("N1", 10, KeyForward) and tick.to == "N0"
    assert (fwd.msg.offset, fwd.msg.bits) == (0, 64)
    assert len(n0.actor.queues["N1"]) == 1                         # 36 bits left: the second waits for a tick
    # the forward reaches N1 before N1's own tick: the key it needs does not exist there yet
    assert n1.deliver(fwd.msg, "N0", MS - 1) == [] and len(n1.actor.waiting) == 1
    [out, _] = n1.deliver(_Tick(1), "N1", MS)
    assert (out.to, out.msg.link, out.msg.offset) == ("N2", "N1-N2", 0)
    assert n1.actor.pools["N0-N1"].start == 64                     # used key is forgotten
    # a replay of the same forward, and the same key at a fresh position, are both refused
    assert n1.deliver(fwd.msg, "N0", MS + 20) == []
    replay = KeyForward(fwd.msg.request, "N0-N1", 64, 64, bytes(8))
    assert n1.deliver(replay, "N0", MS + 30) == [] and n1.actor.ignored == 2
    # messages on a link N1 does not receive on
    assert n1.deliver(KeyForward("r#1", "N1-N2", 0, 64, bytes(8)), "N2", MS + 40) == [] and n1.actor.ignored == 3
    n2.deliver(_Tick(1), "N2", MS)
    [ack] = n2.deliver(out.msg, "N1", MS + 10)
    assert (ack.to, ack.delay_ps, ack.msg) == ("N0", 20, KeyDelivered(fwd.msg.request, 64))
    assert n2.actor.delivered[fwd.msg.request][1:] == n0.actor.issued[fwd.msg.request][1:]
    assert n0.deliver(ack.msg, "N2", MS + 30) == [] and n0.actor.confirmed == {fwd.msg.request: MS + 30}
    # confirmations of unknown or already confirmed keys are ignored
    assert n0.deliver(KeyDelivered("r#99", 64), "N2", MS + 40) == [] and n0.actor.ignored == 1
    assert n0.deliver(ack.msg, "N2", MS + 50) == [] and n0.actor.ignored == 2
    # only the source issues a request's keys
    assert n1.deliver(_IssueKeys("r"), "N1", MS + 60) == [] and n1.actor.ignored == 4
    # a forged forward of a key the request does not have: N2 knows the request's route and count, so it
    # ignores it instead of confirming
    n2.deliver(_Tick(2), "N2", 2 * MS)                             # N2's pool now holds the bits it would pad
    ignored = n2.actor.ignored
    assert n2.deliver(KeyForward("r#7", "N1-N2", 64, 64, bytes(8)), "N1", 2 * MS + 70) == []
    assert n2.actor.ignored == ignored + 1 and "r#7" not in n2.actor.delivered


def test_key_pool_positions():
    class FakeActor:
        def shared_rng(self, *key):
            from qactors.core.rng import shared_generator
            return shared_generator(0, *key)
    a, b = KeyPool("L", 1000.0, MS), KeyPool("L", 1000.0, MS)
    for tick in (1, 2, 3):
        a.grow(FakeActor(), tick)
        b.grow(FakeActor(), tick)
    assert a == b and a.generated == 3 and a.available == 3
    assert b.take_at(1, 2).tolist() == a.bits[1:3].tolist() and b.start == 0   # a gap at 0 keeps the front
    assert b.take_at(0, 2) == "used" and b.take_at(3, 1) == "later"
    assert b.take_at(0, 1).tolist() == a.bits[:1].tolist() and b.start == 3
    offset, bits = a.take_next(2)
    assert offset == 0 and a.take_next(2) is None and a.available == 1


def test_relay_inputs_are_checked():
    with pytest.raises(ConfigurationError, match=r"link_lengths_km\[1\] = -5"):
        trusted_relay_chain([10, -5])
    with pytest.raises(ConfigurationError, match="at least one link"):
        trusted_relay_chain([])
    with pytest.raises(ConfigurationError, match=r"rates_bps\[0\] = -1"):
        trusted_relay_chain([10], rates_bps=[-1])
    with pytest.raises(ConfigurationError, match="rates_bps has 1 entries for 2 links"):
        trusted_relay_chain([10, 10], rates_bps=[5])
    with pytest.raises(ConfigurationError, match="key request"):
        trusted_relay_chain([10], rates_bps=[5], requests=[(0, 0)])
    with pytest.raises(ConfigurationError, match="tick_ps = 0"):
        trusted_relay_chain([10], rates_bps=[5], tick_ps=0)
    with pytest.raises(ConfigurationError, match="rate_bps = inf"):
        KeyLink("L", "N1", math.inf, 10)
    with pytest.raises(ConfigurationError, match="attenuation_db_per_km = -0.2"):
        trusted_relay_chain([10], attenuation_db_per_km=-0.2)


# =====================================================================================================
# Documentation
# =====================================================================================================
DOC = Path(__file__).resolve().parents[2] / "docs" / "qkd.md"


@pytest.mark.parametrize("index", range(4))
def test_docs_examples_run(index, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 4
    exec(compile(blocks[index], f"{DOC}:example{index}", "exec"), {})
    assert capsys.readouterr().out


def test_doctests():
    import qactors.protocols.qkd
    result = doctest.testmod(qactors.protocols.qkd)
    assert result.attempted > 0 and result.failed == 0
