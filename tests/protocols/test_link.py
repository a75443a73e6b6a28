"""Link layer: heralded generation over a midpoint station, a midpoint source or
sender-receiver, both link models.

LINK-2 (double click, eta_d = 0.9, c = 2e8 m/s) and FIB-1 (0.2 dB/km) from
tests/validation/cases.json; Monte Carlo comparisons use 3-sigma bounds.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import qactors
from qactors.core.network import Network
from qactors.hardware import Fibre, QuantumMemory, SPDCSource
from qactors.protocols.link import (BAD, DARK, GOOD, RECEIVER_LOCAL_DELAY_PS, Go, Herald, LinkEnd, LinkPhysics,
                                    MidpointSourcePhysics, MidpointStation, Photon, Ready, ReceiverStation,
                                    SenderReceiverPhysics, link_components, link_timing, plan_link, two_node_link, Want)
from qactors.protocols.swapping import ChainNode
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord
from qactors.testing import ActorProbe

C_FIBRE = 2e8
N_REFERENCE = 299_792_458 / C_FIBRE  # refractive index that makes light travel at the reference 2e8 m/s
ETA_D = 0.9


def arm_efficiency(length_km: float) -> float:
    # LINK-2's convention: the detection efficiency times 0.2 dB/km over half the distance
    return ETA_D * 10 ** (-0.2 * (length_km / 2) / 10)


def run_link(length_km, physics, model, pairs, seed=1, backend="local", memory=None):
    net = two_node_link(length_km, physics, model=model, max_pairs=pairs, refractive_index=N_REFERENCE,
                        memory=memory)
    return qactors.run(net, until_ps=2**62, seed=seed, backend=backend)


def attempts_per_pair(result):
    return np.array([d[1] for d in result.states["A"]["deliveries"]])


@pytest.mark.parametrize("length_km, model, pairs", [
    (10, "geometric", 2000), (50, "geometric", 2000), (100, "geometric", 2000), (200, "geometric", 1000),
    (10, "attempts", 1500), (50, "attempts", 600),
])
def test_link_2_double_click_rate(cases, length_km, model, pairs):
    exp = cases["LINK-2"]["expected"][str(length_km)]
    physics = LinkPhysics("double_click", eta_arm=arm_efficiency(length_km))
    assert physics.success_probability() == pytest.approx(exp["p"], rel=1e-6)
    result = run_link(length_km, physics, model, pairs)
    k = attempts_per_pair(result)
    assert len(k) == pairs
    p = exp["p"]
    # mean attempts per pair: geometric with mean 1/p and sd sqrt(1-p)/p
    assert abs(k.mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs)
    # every round costs a handshake (one round trip) plus K attempts of one round trip T each
    t = np.array([d[0] for d in result.states["A"]["deliveries"]])
    period = 2 * result.states["A"]["side"].arm_delay_ps
    assert period == pytest.approx(exp["T_attempt_s"] * 1e12, rel=1e-9)
    assert np.array_equal(np.diff(t), (k[1:] + 1) * period)
    # the heralded rate while attempting is p / T = p c / L
    rate = len(k) / (k.sum() * period * 1e-12)
    assert abs(rate - exp["rate_Hz"]) < 3 * exp["rate_Hz"] * math.sqrt(1 - p) / math.sqrt(pairs)
    # ideal double click: every pair is perfect
    assert all(d[3] == pytest.approx(1.0, abs=1e-12) for d in result.states["A"]["deliveries"])


@pytest.mark.parametrize("arm_km", [10, 50])
def test_fib_1_photons_reach_the_station_with_the_fibre_transmissivity(cases, arm_km):
    eta = cases["FIB-1"]["expected"][str(arm_km)]["eta"]
    physics = LinkPhysics("double_click", eta_arm=eta)  # ideal detectors: arm efficiency = fibre transmissivity
    result = run_link(2 * arm_km, physics, "attempts", pairs=200 if arm_km == 50 else 2500)
    sides = [result.states[n]["side"] for n in ("A", "B")]
    emitted = sum(s.attempts_emitted for s in sides)
    detected = sum(s.photons_detected for s in sides)
    assert emitted > 10_000
    assert abs(detected / emitted - eta) < 3 * math.sqrt(eta * (1 - eta) / emitted)


@pytest.mark.parametrize("physics", [
    LinkPhysics("single_click", eta_arm=0.3, bright_state_population=0.2, visibility=0.9,
                dark_count_probability=0.05),
    LinkPhysics("double_click", eta_arm=0.4, visibility=0.95, dark_count_probability=0.2),
], ids=["single_click", "double_click"])
def test_attempts_and_geometric_models_agree(physics):
    pairs = 3000
    res = {m: run_link(5, physics, m, pairs, seed=3) for m in ("attempts", "geometric")}
    k = {m: attempts_per_pair(r) for m, r in res.items()}
    p = physics.success_probability()
    sd_mean = math.sqrt(1 - p) / p / math.sqrt(pairs)
    for m in k:
        assert abs(k[m].mean() - 1 / p) < 3 * sd_mean, m
    assert abs(k["attempts"].mean() - k["geometric"].mean()) < 3 * math.sqrt(2) * sd_mean
    # the kinds of herald (right state, wrong state, dark count) and hence the fidelity distribution
    probs = np.array(physics.kind_probabilities()) / p
    for m, r in res.items():
        kinds = np.array([d[2] for d in r.states["A"]["deliveries"]])
        for kind, q in zip((GOOD, BAD, DARK), probs):
            share = np.mean(kinds == kind)
            assert abs(share - q) < 3 * math.sqrt(q * (1 - q) / pairs) + 1e-12, (m, kind)
        fids = np.array([d[3] for d in r.states["A"]["deliveries"]])
        assert set(np.round(fids, 12)) <= {round(physics.state(x)[0], 12) for x in (GOOD, BAD, DARK)}
        assert abs(fids.mean() - physics.reference_fidelity()) < 3 * fids.std() / math.sqrt(pairs) + 1e-12


@pytest.mark.parametrize("model", ["geometric", "attempts"])
def test_memory_decoherence_is_counted_from_emission(model):
    physics = LinkPhysics("double_click", eta_arm=0.5)
    memory = QuantumMemory(num_qubits=1, t1_s=math.inf, t2_s=math.inf)
    noisy = QuantumMemory(num_qubits=1, t1_s=1e-3, t2_s=1e-3)
    ideal = run_link(20, physics, model, 50, memory=memory)
    decayed = run_link(20, physics, model, 50, memory=noisy)
    period_s = 2 * decayed.states["A"]["side"].arm_delay_ps * 1e-12
    for d in decayed.states["A"]["deliveries"]:
        # both qubits have been stored since their photons left, one round trip T before the herald came back;
        # with T1 = T2 every correlation <XX>, <YY>, <ZZ> shrinks by e = exp(-T/T1) per qubit: F = (1 + 3 e^2)/4
        e = math.exp(-period_s / 1e-3)
        assert d[3] == pytest.approx((1 + 3 * e * e) / 4, rel=1e-9)
    assert all(d[3] == 1.0 for d in ideal.states["A"]["deliveries"])


def test_bad_link_physics_is_rejected():
    with pytest.raises(qactors.ConfigurationError, match="scheme = 'triple_click' is not known"):
        LinkPhysics("triple_click", eta_arm=0.5)
    with pytest.raises(qactors.ConfigurationError, match=r"eta_arm = 1.5 is not allowed; allowed: a number in \[0, 1\]"):
        LinkPhysics("double_click", eta_arm=1.5)
    with pytest.raises(qactors.ConfigurationError, match="link model 'exact' is not known"):
        two_node_link(10, LinkPhysics("double_click", eta_arm=0.5), model="exact")
    with pytest.raises(qactors.ConfigurationError, match="length_km = -1 is not allowed"):
        two_node_link(-1, LinkPhysics("double_click", eta_arm=0.5))


# -- adversarial message orders, fed by hand -----------------------------------------

PHYS = LinkPhysics("double_click", eta_arm=1.0)
NOISE = MemoryNoise()


def station(model="attempts"):
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", PHYS, model, arm_delay_ps=100), peers=["A", "B"])
    probe.start()
    return probe


def test_station_opens_a_round_only_when_both_ends_are_ready_once():
    s = station()
    assert s.deliver(Ready("A-B", 0, NOISE), "A", 100) == []
    assert s.deliver(Ready("A-B", 0, NOISE), "A", 110) == []  # duplicate
    sent = s.deliver(Ready("A-B", 0, NOISE), "B", 120)
    assert [(x.to, x.delay_ps, type(x.msg)) for x in sent] == [("A", 100, Go), ("B", 100, Go)]
    assert s.actor.ignored == 1
    assert s.deliver(Ready("A-B", 5, NOISE), "A", 130) == [] and s.actor.ignored == 2  # a round from the future


def test_station_ignores_late_duplicate_and_foreign_photons():
    s = station()
    s.deliver(Ready("A-B", 0, NOISE), "A", 100)
    s.deliver(Ready("A-B", 0, NOISE), "B", 100)
    assert s.deliver(Photon("A-B", 0, 1, True, True), "A", 300) == []
    assert s.deliver(Photon("A-B", 0, 1, True, True), "A", 300) == []     # duplicate
    assert s.deliver(Photon("A-B", 0, 2, True, True), "B", 300) == []     # wrong attempt
    assert s.deliver(Photon("X-Y", 0, 1, True, True), "B", 300) == []     # another link
    assert s.actor.ignored == 3
    sent = s.deliver(Photon("A-B", 0, 1, True, True), "B", 305)
    assert {x.to for x in sent} == {"A", "B"} and all(isinstance(x.msg, Herald) for x in sent)
    herald = sent[0].msg
    assert herald.attempt == 1 and herald.round == 0
    # keep attempting (one round trip T = 200 apart) until the analyser heralds: it accepts half the time
    t = 305
    while not herald.kind:
        t += 200
        s.deliver(Photon("A-B", 0, herald.attempt + 1, True, True), "A", t)
        herald = s.deliver(Photon("A-B", 0, herald.attempt + 1, True, True), "B", t)[0].msg
        assert herald.attempt < 50
    assert herald.pair.ref_ps == t - 100  # emitted half a round trip before the photons reached the station
    assert herald.pair.a.stored_ps == herald.pair.b.stored_ps == t - 100


def test_link_end_ignores_stale_and_duplicate_heralds():
    end = ActorProbe(LinkEnd("A", "A-B", "S", PHYS, QuantumMemory(1), arm_delay_ps=100), peers=["S"])
    assert [type(x.msg) for x in end.start()] == [Ready]
    assert [type(x.msg) for x in end.deliver(Go("A-B", 0), "S", 200)] == [Photon]
    assert end.deliver(Go("A-B", 0), "S", 210) == []                       # duplicate Go
    assert end.deliver(Herald("A-B", 0, 7, 0, None), "S", 400) == []      # herald for an attempt never made
    assert [type(x.msg) for x in end.deliver(Herald("A-B", 0, 1, 0, None), "S", 400)] == [Photon]  # failed: retry
    pair = PairRecord("A-B#0", (1.0, 0.0, 0.0, 0.0), 500, PairEnd("A", NOISE, 500), PairEnd("B", NOISE, 500))
    sent = end.deliver(Herald("A-B", 0, 2, GOOD, pair), "S", 600)
    assert [type(x.msg) for x in sent] == [Ready] and sent[0].msg.round == 1
    assert end.deliver(Herald("A-B", 0, 2, GOOD, pair), "S", 610) == []   # the same herald again
    assert end.actor.side.ignored == 3
    assert end.actor.deliveries == [(600, 2, GOOD, 1.0)]


@pytest.mark.ray
def test_link_runs_identically_on_two_ray_shards(ray_session):
    physics = LinkPhysics("single_click", eta_arm=0.3, bright_state_population=0.2, dark_count_probability=0.05)
    local = run_link(5, physics, "attempts", 100, seed=9)
    remote = run_link(5, physics, "attempts", 100, seed=9, backend="ray:2")
    assert remote.digest == local.digest and remote.stats["cross_shard_messages"] > 0


# -- midpoint source and sender-receiver -----------------------------------------------

SEED = 5
KS_3_SIGMA = 1.82  # two-sample Kolmogorov-Smirnov critical value c(alpha) for alpha = 0.0027


def midpoint_source(length_km):
    # an SPDC source half-way; each arm: 0.2 dB/km over L/2 and a 0.9 heralded absorption
    return MidpointSourcePhysics(eta_arm=arm_efficiency(length_km), mean_photon_number=0.02,
                                 visibility=0.98, dark_count_probability=1e-3)


def sender_receiver(length_km):
    # the photon crosses the whole link, then a 0.9 heralded absorption at B
    eta = ETA_D * Fibre(length_km).transmissivity
    return SenderReceiverPhysics(eta_link=eta, visibility=0.95, dark_count_probability=1e-3)


def run_scheme(length_km, physics, model, pairs, seed=1, memory=None):
    net = two_node_link(length_km, physics, model=model, max_pairs=pairs, refractive_index=N_REFERENCE,
                        memory=memory)
    return qactors.run(net, until_ps=2**62, seed=seed, collect_states=True)


def deliveries(result, node="A"):
    return np.array(result.states[node]["deliveries"])


def ks_agrees(x, y):
    grid = np.union1d(x, y)
    cdf = [np.searchsorted(np.sort(v), grid, side="right") / len(v) for v in (x, y)]
    return np.max(np.abs(cdf[0] - cdf[1])) < KS_3_SIGMA * math.sqrt((len(x) + len(y)) / (len(x) * len(y)))


@pytest.mark.parametrize("scheme, length_km, model, pairs", [
    ("source", 10, "geometric", 2000), ("source", 50, "geometric", 2000), ("source", 100, "geometric", 2000),
    ("source", 10, "attempts", 400),
    ("receiver", 10, "geometric", 2000), ("receiver", 50, "geometric", 2000), ("receiver", 100, "geometric", 2000),
    ("receiver", 10, "attempts", 1000), ("receiver", 50, "attempts", 300),
])
def test_rate_and_fidelity_match_the_closed_form(scheme, length_km, model, pairs, fidelity_sd):
    physics = midpoint_source(length_km) if scheme == "source" else sender_receiver(length_km)
    timing = link_timing(physics, length_km, refractive_index=N_REFERENCE)
    # one attempt takes L/c with the source half-way, 2 L/c from sender to receiver and back (c = 2e8 m/s)
    assert timing.attempt_ps == pytest.approx((1 if scheme == "source" else 2) * length_km * 1e3 / C_FIBRE * 1e12,
                                              rel=1e-6)
    d = deliveries(run_scheme(length_km, physics, model, pairs))
    t, k, fidelity = d[:, 0], d[:, 1], d[:, 3]
    assert len(d) == pairs
    p = physics.success_probability()
    assert abs(k.mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs)
    # each pair costs its K attempts plus one period to offer the slot again
    assert np.array_equal(np.diff(t), (k[1:] + 1) * timing.attempt_ps)
    rate = (pairs - 1) / ((t[-1] - t[0]) * 1e-12)
    assert abs(rate - timing.pair_rate_hz) < 3 * timing.pair_rate_hz * math.sqrt(1 - p) / ((1 + p) * math.sqrt(pairs))
    assert abs(fidelity.mean() - timing.fidelity) < 3 * fidelity_sd(physics) / math.sqrt(pairs) + 1e-12


@pytest.mark.parametrize("physics", [
    MidpointSourcePhysics(eta_arm=0.5, mean_photon_number=0.3, visibility=0.95, dark_count_probability=0.02),
    MidpointSourcePhysics(eta_arm=0.4, emission_probability=0.7, visibility=0.9, dark_count_probability=0.05),
    SenderReceiverPhysics(eta_link=0.3, visibility=0.9, dark_count_probability=0.05),
], ids=["spdc_source", "single_pair_source", "sender_receiver"])
def test_attempts_and_geometric_models_agree_for_the_new_schemes(physics, fidelity_sd):
    pairs = 2500
    res = {m: deliveries(run_scheme(5, physics, m, pairs, seed=SEED)) for m in ("attempts", "geometric")}
    p = physics.success_probability()
    probs = np.array(physics.kind_probabilities()) / p
    for m, d in res.items():
        assert abs(d[:, 1].mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs), m
        for kind, q in zip((GOOD, BAD, DARK), probs):
            share = np.mean(d[:, 2] == kind)
            assert abs(share - q) < 3 * math.sqrt(q * (1 - q) / pairs) + 1e-12, (m, kind)
        fids = d[:, 3]
        assert abs(fids.mean() - physics.reference_fidelity()) < 3 * fidelity_sd(physics) / math.sqrt(pairs), m
    # the same distributions of attempts per pair and of the pair's fidelity (several BAD states for SPDC)
    assert ks_agrees(res["attempts"][:, 1], res["geometric"][:, 1])
    assert ks_agrees(res["attempts"][:, 3], res["geometric"][:, 3])


@pytest.mark.parametrize("model", ["attempts", "geometric"])
def test_sender_receiver_heralds_b_one_link_delay_before_a(model):
    tau = 1e-3
    physics = SenderReceiverPhysics(eta_link=0.2)
    res = run_scheme(20, physics, model, 200, memory=QuantumMemory(1, t1_s=tau, t2_s=tau))
    fibre = res.states["A"]["side"].arm_delay_ps                 # L/c
    assert fibre == pytest.approx(20e3 / C_FIBRE * 1e12, rel=1e-6) and res.states["B"]["side"].arm_delay_ps == 1
    a, b = deliveries(res, "A"), deliveries(res, "B")
    assert np.array_equal(a[:, 1], b[:, 1])                      # the same pairs, in the same order
    # attempt k of the first round leaves A at 2 L/c + 2 (k - 1) L/c: B hears at emission + L/c (+ 1 ps to
    # its controller), A at emission + 2 L/c
    emission = 2 * fibre + 2 * (a[0, 1] - 1) * fibre
    assert a[0, 0] == emission + 2 * fibre and b[0, 0] == emission + fibre + RECEIVER_LOCAL_DELAY_PS
    assert np.all(a[:, 0] - b[:, 0] == fibre - RECEIVER_LOCAL_DELAY_PS)
    assert link_timing(physics, 20, refractive_index=N_REFERENCE).herald_ps == (2 * fibre, fibre + 1)
    # A stores from emission, B from emission + L/c: with T1 = T2 = tau each qubit's correlations shrink by
    # exp(-t/tau) while stored, so F = (1 + 3 exp(-(t_A + t_B)/tau)) / 4
    storage = {"A": 2 * fibre + fibre, "B": (fibre + 1) + 1}
    for node, d in (("A", a), ("B", b)):
        assert np.allclose(d[:, 3], (1 + 3 * math.exp(-storage[node] * 1e-12 / tau)) / 4, rtol=1e-12), node


@pytest.mark.parametrize("model", ["attempts", "geometric"])
def test_midpoint_source_heralds_both_ends_at_emission_plus_one_and_a_half_link_delays(model):
    tau = 1e-3
    physics = MidpointSourcePhysics(eta_arm=0.4)
    res = run_scheme(20, physics, model, 200, memory=QuantumMemory(1, t1_s=tau, t2_s=tau))
    arm = res.states["A"]["side"].arm_delay_ps                   # L/2c
    a, b = deliveries(res, "A"), deliveries(res, "B")
    assert np.array_equal(a[:, :2], b[:, :2])                    # same times, same attempts
    # the round opens at the source at L/2c; attempt k leaves it 2 (k - 1) L/2c later
    emission = arm + 2 * (a[0, 1] - 1) * arm
    assert a[0, 0] == emission + 3 * arm
    assert link_timing(physics, 20, refractive_index=N_REFERENCE).herald_ps == (3 * arm, 3 * arm)
    # both qubits stored from emission + L/2c: L/c each when the herald arrives
    assert np.allclose(a[:, 3], (1 + 3 * math.exp(-4 * arm * 1e-12 / tau)) / 4, rtol=1e-12)


def test_receiver_station_stamps_each_end_with_its_own_storage_time():
    probe = ActorProbe(ReceiverStation("A-B/receiver", "A-B", "A", "B", SenderReceiverPhysics(eta_link=1.0),
                                       "attempts", link_delay_ps=1000), peers=["A", "B"])
    probe.start()
    assert probe.deliver(Ready("A-B", 0, NOISE), "B", 1) == []
    sent = probe.deliver(Ready("A-B", 0, NOISE), "A", 1000)
    assert [(x.to, x.delay_ps, type(x.msg)) for x in sent] == [("A", 1000, Go)]      # only the sender acts
    sent = probe.deliver(Photon("A-B", 0, 1, True, True), "A", 3000)
    assert [(x.to, x.delay_ps) for x in sent] == [("A", 1000), ("B", 1)]
    pair = sent[0].msg.pair
    assert sent[0].msg.kind == GOOD and sent[1].msg.pair == pair
    assert (pair.ref_ps, pair.a.node, pair.a.stored_ps, pair.b.node, pair.b.stored_ps) == (2000, "A", 2000, "B", 3000)


def test_receiver_station_ignores_stale_duplicate_and_foreign_messages():
    physics = SenderReceiverPhysics(eta_link=0.5)
    probe = ActorProbe(ReceiverStation("R", "A-B", "A", "B", physics, "attempts", link_delay_ps=1000),
                       peers=["A", "B", "X"])
    probe.start()
    s = probe.actor
    probe.deliver(Ready("A-B", 0, NOISE), "B", 1)
    assert probe.deliver(Ready("A-B", 0, NOISE), "B", 2) == []        # duplicate
    assert probe.deliver(Ready("A-B", 0, NOISE), "X", 3) == []        # not on the link
    assert probe.deliver(Photon("A-B", 0, 1, True, True), "A", 4) == []   # before the round opened
    assert s.ignored == 3
    probe.deliver(Ready("A-B", 0, NOISE), "A", 1000)
    assert probe.deliver(Photon("A-B", 0, 1, True, True), "B", 3000) == []   # the receiver never emits
    assert probe.deliver(Photon("A-B", 0, 2, True, True), "A", 3000) == []   # an attempt not yet asked for
    assert s.ignored == 5
    sent = probe.deliver(Photon("A-B", 0, 1, True, False), "A", 3000)       # lost: only the sender hears
    assert [(x.to, x.msg.kind, x.msg.attempt) for x in sent] == [("A", 0, 1)]
    sent = probe.deliver(Photon("A-B", 0, 2, True, True), "A", 5000)
    assert sorted(x.to for x in sent) == ["A", "B"] and s.heralds == 1
    assert probe.deliver(Photon("A-B", 0, 3, True, True), "A", 5001) == []   # after the pair: the round is over
    assert probe.deliver(Photon("A-B", 0, 2, True, True), "A", 5002) == []   # the heralded attempt again
    assert s.ignored == 7 and s.heralds == 1


def test_midpoint_source_sends_each_attempts_pair_count_with_its_light():
    physics = MidpointSourcePhysics(eta_arm=1.0, mean_photon_number=1.0)
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", physics, "attempts", arm_delay_ps=100),
                       peers=["A", "B"])
    probe.start()
    probe.deliver(Ready("A-B", 0, NOISE), "A", 100)
    go = probe.deliver(Ready("A-B", 0, NOISE), "B", 100)
    slot = probe.actor.slots["A-B"]
    assert [x.msg.pairs for x in go] == [slot.pairs] * 2
    t, attempt, pairs = 300, 1, slot.pairs
    while True:  # report what the pairs sent would do to ideal absorbers: stored iff a photon came
        probe.deliver(Photon("A-B", 0, attempt, pairs > 0, pairs > 0), "A", t)
        sent = probe.deliver(Photon("A-B", 0, attempt, pairs > 0, pairs > 0), "B", t)
        herald = sent[0].msg
        if herald.kind:
            break
        assert pairs == 0 and herald.pairs == slot.pairs and sent[1].msg == herald
        t, attempt, pairs = t + 200, attempt + 1, herald.pairs
    assert herald.kind == (GOOD if pairs == 1 else BAD)
    assert herald.pair.coefficients == pytest.approx(physics.pair_state(pairs))
    assert herald.pair.a.stored_ps == herald.pair.b.stored_ps == t - 100   # the photons arrived L/2c ago
    assert probe.deliver(Photon("A-B", 0, attempt + 1, True, True), "A", t + 200) == []  # round over
    assert probe.actor.ignored == 1


def test_geometric_station_sends_the_successful_herald_when_the_round_opens_and_ignores_photons():
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", PHYS, "geometric", arm_delay_ps=100), peers=["A", "B"])
    probe.start()
    probe.deliver(Ready("A-B", 0, NOISE), "A", 100)
    sent = probe.deliver(Ready("A-B", 0, NOISE), "B", 100)  # no Go, no photons: the herald, timed
    assert [x.to for x in sent] == ["A", "B"] and sent[0].msg == sent[1].msg and sent[0].msg.kind
    k = sent[0].msg.attempt
    # attempt k is decided at the station 200 + (k - 1) 200 ps after the round opened, and heard 100 ps later
    assert all(x.delay_ps == 200 * k + 100 for x in sent)
    assert sent[0].msg.pair.ref_ps == 100 + 200 * k - 100  # emitted half a round trip before the decision
    assert probe.deliver(Photon("A-B", 0, 1, True, True), "A", 300) == [] and probe.actor.ignored == 1


def test_a_channel_runs_every_slot_of_its_link_and_speaks_to_the_memories():
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", PHYS, "attempts", arm_delay_ps=100,
                                       slots=("A-B:0", "A-B:1"), speakers={"A": "A/mem", "B": "B/mem"}),
                       peers=["A", "B", "A/mem", "B/mem"])
    probe.start()
    assert probe.deliver(Ready("A-B:1", 0, NOISE), "A", 100) == [] and probe.actor.ignored == 1  # not A's memory
    probe.deliver(Ready("A-B:1", 0, NOISE), "A/mem", 100)
    assert probe.deliver(Ready("A-B:0", 0, NOISE), "B/mem", 100) == []   # slot 0: only one end ready
    go = probe.deliver(Ready("A-B:1", 0, NOISE), "B/mem", 100)
    assert sorted((x.to, x.msg.link) for x in go) == [("A/mem", "A-B:1"), ("B/mem", "A-B:1")]
    probe.deliver(Photon("A-B:1", 0, 1, True, True), "A/mem", 300)
    sent = probe.deliver(Photon("A-B:1", 0, 1, True, True), "B/mem", 300)
    assert sorted(x.to for x in sent) == ["A/mem", "B/mem"]
    if sent[0].msg.kind:  # the pair record names the nodes, not their memories
        assert (sent[0].msg.pair.a.node, sent[0].msg.pair.b.node) == ("A", "B")
    assert probe.actor.slots["A-B:0"].round == -1 and probe.actor.slots["A-B:1"].round == 0


def test_a_shared_channel_opens_rounds_only_for_wanted_purposes_and_gives_them_pairs_in_turn():
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", PHYS, "geometric", arm_delay_ps=100,
                                       slots=("A-B:0", "A-B:1", "A-B:2"), shared=True), peers=["A", "B"])
    probe.start()
    for slot in ("A-B:0", "A-B:1"):
        probe.deliver(Ready(slot, 0, NOISE), "A", 100)
        assert probe.deliver(Ready(slot, 0, NOISE), "B", 100) == []   # nobody wants pairs: the round waits
    sent = probe.deliver(Want("A-B", "r2", True), "A", 150)
    assert sorted((x.msg.link, x.msg.purpose) for x in sent) == [("A-B:0", "r2")] * 2 + [("A-B:1", "r2")] * 2
    assert probe.deliver(Want("A-B", "r1", True), "A", 160) == []  # nothing waits now
    purposes = []
    for slot in ("A-B:2", "A-B:0", "A-B:1"):
        rnd = probe.actor.slots[slot].round + 1
        probe.deliver(Ready(slot, rnd, NOISE), "A", 10_000)
        purposes.append(probe.deliver(Ready(slot, rnd, NOISE), "B", 10_000)[0].msg.purpose)
    assert purposes == ["r1", "r2", "r1"]   # sorted, in turn
    probe.deliver(Want("A-B", "r1", False), "A", 20_000)
    probe.deliver(Ready("A-B:2", 1, NOISE), "A", 30_000)
    assert probe.deliver(Ready("A-B:2", 1, NOISE), "B", 30_000)[0].msg.purpose == "r2"
    probe.deliver(Want("A-B", "r2", False), "A", 40_000)
    probe.deliver(Ready("A-B:0", 2, NOISE), "A", 50_000)
    assert probe.deliver(Ready("A-B:0", 2, NOISE), "B", 50_000) == []


def test_receiving_end_never_acts_per_attempt():
    physics = SenderReceiverPhysics(eta_link=0.5)
    end = ActorProbe(LinkEnd("B", "A-B", "R", physics, QuantumMemory(1), arm_delay_ps=1, emits=False), peers=["R"])
    assert [(x.to, x.delay_ps, type(x.msg)) for x in end.start()] == [("R", 1, Ready)]
    assert end.deliver(Go("A-B", 0), "R", 10) == []                          # only the sender is told to go
    assert end.deliver(Herald("A-B", 0, 1, 0, None), "R", 20) == []          # nor of failed attempts
    assert end.deliver(Herald("A-B", 1, 1, GOOD, None), "R", 25) == []       # a round from the future
    pair = PairRecord("A-B#0", (1.0, 0.0, 0.0, 0.0), 0, PairEnd("A", NOISE, 0), PairEnd("B", NOISE, 30))
    sent = end.deliver(Herald("A-B", 0, 4, GOOD, pair), "R", 31)
    assert [type(x.msg) for x in sent] == [Ready] and sent[0].msg.round == 1
    assert end.deliver(Herald("A-B", 0, 4, GOOD, pair), "R", 32) == []       # the same herald again
    assert end.actor.side.ignored == 4 and end.actor.side.attempts_emitted == 0
    assert end.actor.deliveries == [(31, 4, GOOD, 1.0)]


def test_closed_forms_of_the_new_schemes():
    eta, pe, d = 0.3, 0.8, 0.01
    source = MidpointSourcePhysics(eta_arm=eta, emission_probability=pe, dark_count_probability=d)
    good, bad, dark = source.kind_probabilities()
    assert good == pytest.approx(pe * eta ** 2) and bad == 0.0
    assert dark == pytest.approx(2 * d * pe * eta * (1 - eta) + d * d * (1 - pe + pe * (1 - eta) ** 2))
    # weak absorption: the SPDC pair's fidelity tends to SPDCSource's (the difference is linear in eta),
    # and p to eta^2 <N^2> = eta^2 (2 mu + 6 mu^2)
    for mu in (0.01, 0.1):
        spdc = MidpointSourcePhysics(eta_arm=1e-6, mean_photon_number=mu)
        assert spdc.reference_fidelity() == pytest.approx(SPDCSource(mu, 1.0, 1e8).fidelity, rel=1e-6)
        assert spdc.success_probability() == pytest.approx(1e-12 * (2 * mu + 6 * mu * mu), rel=1e-5)
    receiver = SenderReceiverPhysics(eta_link=0.2, visibility=0.9, dark_count_probability=0.1)
    assert receiver.success_probability() == pytest.approx(0.2 + 0.8 * 0.1)
    assert receiver.reference_fidelity() == pytest.approx((0.2 * 0.95 + 0.08 * 0.25) / 0.28)
    # periods: L/c half-way (two arms of L/2), 2 L/c sender-receiver; the rates follow
    arm, fibre = Fibre(25).delay_ps, Fibre(50).delay_ps
    for physics, period in ((LinkPhysics("double_click", eta_arm=0.5), 2 * arm), (source, 2 * arm),
                            (receiver, 2 * fibre)):
        t = link_timing(physics, 50)
        p = physics.success_probability()
        assert t.attempt_ps == period and t.attempt_rate_hz == pytest.approx(p / (period * 1e-12))
        assert t.pair_rate_hz == pytest.approx(1 / ((1 / p + 1) * period * 1e-12))
    assert link_timing(source, 50).stored_ps == (2 * arm, 2 * arm)
    assert link_timing(receiver, 50).stored_ps == (2 * fibre, 1)


def test_link_components_join_existing_nodes_with_any_scheme():
    # a three-node repeater chain whose two links use different schemes: the nodes cannot tell
    names, length = ["N0", "N1", "N2"], 10
    links = [("N0-N1", MidpointSourcePhysics(eta_arm=0.5)), ("N1-N2", SenderReceiverPhysics(eta_link=0.4))]
    plans = [plan_link(link, names[i], names[i + 1], physics, length_km=length)
             for i, (link, physics) in enumerate(links)]
    assert [p.station for p in plans] == ["N0-N1/source", "N1-N2/receiver"]
    noise = QuantumMemory(2).noise()
    sides = {"N0": [plans[0].a.side(noise)], "N1": [plans[0].b.side(noise), plans[1].a.side(noise)],
             "N2": [plans[1].b.side(noise)]}
    hop = [plans[0].node_delay_ps, plans[1].node_delay_ps]
    latency = {"N0": {"N0": 1, "N2": sum(hop)}, "N1": {"N0": hop[0], "N2": hop[1]}, "N2": {"N0": sum(hop), "N2": 1}}
    net = Network()
    for name in names:
        net.add_actor(ChainNode(name, sides[name], ("N0", "N2"), latency[name], max_pairs=20), site=name)
    for i, (link, physics) in enumerate(links):
        assert link_components(net, link, names[i], names[i + 1], physics, length_km=length,
                               model="attempts") == plans[i]
    assert net.sites[net.index["N1-N2/receiver"]] == "N2"
    res = qactors.run(net, until_ps=2**62, seed=2, collect_states=True)
    for end in ("N0", "N2"):
        assert len(res.states[end]["deliveries"]) == 20
        assert all(f == pytest.approx(1.0) for _, f, _, _ in res.states[end]["deliveries"])


def test_bad_inputs_of_the_new_schemes_are_rejected():
    with pytest.raises(qactors.ConfigurationError, match=r"MidpointSourcePhysics.eta_arm = 1.5 is not allowed"):
        MidpointSourcePhysics(eta_arm=1.5)
    with pytest.raises(qactors.ConfigurationError, match=r"mean_photon_number = -0.1 is not allowed; allowed: 0"):
        MidpointSourcePhysics(eta_arm=0.5, mean_photon_number=-0.1)
    with pytest.raises(qactors.ConfigurationError, match="emission_probability = 0.5 is not allowed with an SPDC") as e:
        MidpointSourcePhysics(eta_arm=0.5, emission_probability=0.5, mean_photon_number=0.1)
    assert (e.value.field, e.value.value) == ("emission_probability", 0.5)
    with pytest.raises(qactors.ConfigurationError, match=r"SenderReceiverPhysics.eta_link = -0.1 is not allowed"):
        SenderReceiverPhysics(eta_link=-0.1)
    with pytest.raises(qactors.ConfigurationError, match=r"can never herald.*\(eta_link = 0.0\)") as e:
        two_node_link(10, SenderReceiverPhysics(eta_link=0.0))
    assert e.value.field == "eta_link"
    with pytest.raises(qactors.ConfigurationError, match=r"can never herald.*\(emission_probability = 0.0\)"):
        two_node_link(10, MidpointSourcePhysics(eta_arm=0.5, emission_probability=0.0))
    with pytest.raises(qactors.ConfigurationError, match="cannot run link 'A-B' with SenderReceiverPhysics; "
                                                         "allowed: LinkPhysics or MidpointSourcePhysics"):
        MidpointStation("S", "A-B", "A", "B", SenderReceiverPhysics(eta_link=0.5), "attempts", 100)
    with pytest.raises(qactors.ConfigurationError, match="with LinkPhysics; allowed: SenderReceiverPhysics"):
        ReceiverStation("R", "A-B", "A", "B", PHYS, "attempts", 100)
    with pytest.raises(qactors.ConfigurationError, match="'double_click' is not link physics; allowed: LinkPhysics"):
        plan_link("A-B", "A", "B", "double_click", length_km=10)
    with pytest.raises(qactors.ConfigurationError, match="joins node 'A' to itself"):
        plan_link("A-B", "A", "A", PHYS, length_km=10)
    with pytest.raises(qactors.ConfigurationError, match="length_km = 0 is not allowed"):
        link_timing(PHYS, 0)
    net = Network()
    net.add_actor(LinkEnd("A", "A-B", "A-B/receiver", PHYS, QuantumMemory(1), 100))
    with pytest.raises(qactors.ConfigurationError, match="joins node 'B', which is not in the network"):
        link_components(net, "A-B", "A", "B", SenderReceiverPhysics(eta_link=0.5), length_km=10)
    with pytest.raises(qactors.ConfigurationError, match="link model 'exact' is not known"):
        two_node_link(10, SenderReceiverPhysics(eta_link=0.5), model="exact")
    assert len(net) == 1  # nothing was added by the failed calls


def test_link_module_examples_run():
    import qactors.protocols.link as link
    result = doctest.testmod(link)
    assert result.attempted > 0 and result.failed == 0
