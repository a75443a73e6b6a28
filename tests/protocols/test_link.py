"""Link layer: heralded generation over a midpoint station, both link models.

LINK-2 (double click, eta_d = 0.9, c = 2e8 m/s) and FIB-1 (0.2 dB/km) from
../shared/validation/cases.json; Monte Carlo comparisons use 3-sigma bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import qactors
from qactors.hardware import QuantumMemory
from qactors.protocols.link import (BAD, DARK, GOOD, Go, Herald, LinkEnd, LinkPhysics, MidpointStation, Photon,
                                    Ready, two_node_link)
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
