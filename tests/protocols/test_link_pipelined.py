"""Pipelined link attempts: on a long link whose photons are measured on arrival (an
entangled-photon source sending to two ground stations, as for Micius: Yin et al.,
Science 356, 1140 (2017)) or whose emitters are temporally multiplexed, attempts come
every ``cycle_ps`` (here 10 ns) instead of once per herald round trip (here ~0.5-1 ms).

Monte Carlo comparisons use 3-sigma bounds.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

import qactors
from qactors.hardware import QuantumMemory
from qactors.protocols.link import (BAD, DARK, GOOD, Herald, LinkPhysics, MidpointSourcePhysics, MidpointStation,
                                    Photon, Ready, ReceiverStation, SenderReceiverPhysics, link_timing, plan_link,
                                    two_node_link)
from qactors.quantum.bell import MemoryNoise
from qactors.testing import ActorProbe

CYCLE_PS = 10_000  # 10 ns: a pulsed source's repetition period
LENGTH_KM = 100.0  # herald round trip: ~0.5 ms half-way, ~1 ms sender-receiver
TAU_S = 1e-3  # memory T1 = T2: every correlation shrinks by exp(-t / TAU_S) per stored qubit
MEMORY = QuantumMemory(1, t1_s=TAU_S, t2_s=TAU_S)
SCHEMES = ("double_click", "single_click", "midpoint_source", "sender_receiver")
# success probability per attempt and pairs per run: ~1000 attempts per pair in the geometric model; the
# attempts model draws every attempt (one timer each), so it runs ~500 attempts per pair and fewer pairs
RUNS = {"geometric": (1e-3, 2000), "attempts": (2e-3, 200)}
KS_3_SIGMA = 1.82  # two-sample Kolmogorov-Smirnov critical value c(alpha) for alpha = 0.0027
NOISE = MemoryNoise()


def physics_of(scheme: str, p: float, *, cycle_ps: int = CYCLE_PS, pipelined: bool = True):
    """A link of ``scheme`` succeeding with probability about ``p`` per attempt, with some
    wrong-state and dark-count heralds so that pairs differ in fidelity."""
    if scheme == "double_click":  # p = eta^2 / 2
        return LinkPhysics("double_click", eta_arm=math.sqrt(2 * p), visibility=0.95, dark_count_probability=1e-3,
                           cycle_ps=cycle_ps, pipelined=pipelined)
    if scheme == "single_click":  # p ~ 2 alpha eta
        return LinkPhysics("single_click", eta_arm=p / 0.02, bright_state_population=0.01, visibility=0.9,
                           dark_count_probability=1e-5, cycle_ps=cycle_ps, pipelined=pipelined)
    if scheme == "midpoint_source":  # SPDC, one pair per pulse with probability ~0.02: p ~ 0.02 eta^2
        return MidpointSourcePhysics(eta_arm=math.sqrt(p / 0.0196), mean_photon_number=0.01, visibility=0.98,
                                     dark_count_probability=1e-4, cycle_ps=cycle_ps, pipelined=pipelined)
    return SenderReceiverPhysics(eta_link=p, visibility=0.95, dark_count_probability=1e-5, cycle_ps=cycle_ps,
                                 pipelined=pipelined)


def round_trip_ps(physics) -> int:
    """The herald round trip R: the attempt period of the same link without cycle or pipelining."""
    return link_timing(dataclasses.replace(physics, cycle_ps=0, pipelined=False), LENGTH_KM).attempt_ps


@functools.lru_cache(maxsize=None)
def deliveries(scheme: str, model: str, p: float, pairs: int) -> dict[str, np.ndarray]:
    """Each end's (time ps, attempts, kind, fidelity) per pair, with memories that decay (shared by the tests)."""
    net = two_node_link(LENGTH_KM, physics_of(scheme, p), model=model, max_pairs=pairs, memory=MEMORY)
    res = qactors.run(net, until_ps=2**62, seed=7)
    return {node: np.array(res.states[node]["deliveries"]) for node in ("A", "B")}


def ks_agrees(x, y):
    grid = np.union1d(x, y)
    cdf = [np.searchsorted(np.sort(v), grid, side="right") / len(v) for v in (x, y)]
    return np.max(np.abs(cdf[0] - cdf[1])) < KS_3_SIGMA * math.sqrt((len(x) + len(y)) / (len(x) * len(y)))


@pytest.mark.parametrize("model", ["geometric", "attempts"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_pipelined_pair_rate_matches_link_timing(scheme, model):
    p_target, pairs = RUNS[model]
    physics = physics_of(scheme, p_target)
    timing = link_timing(physics, LENGTH_KM)
    p, rt = physics.success_probability(), round_trip_ps(physics)
    assert 1 / p == pytest.approx(1 / p_target, rel=0.3) and rt > 40_000 * CYCLE_PS
    # attempts every cycle; a pair costs the handshake 2R plus K - 1 cycles
    assert timing.attempt_ps == CYCLE_PS
    assert timing.pair_rate_hz == pytest.approx(1 / ((2 * rt + (1 / p - 1) * CYCLE_PS) * 1e-12), rel=1e-9)
    assert timing.attempt_rate_hz == pytest.approx(p / (CYCLE_PS * 1e-12), rel=1e-12)
    # hundreds of times the rate of the same link waiting for each herald
    waiting = link_timing(dataclasses.replace(physics, pipelined=False), LENGTH_KM)
    assert waiting.attempt_ps == rt and timing.pair_rate_hz > 100 * waiting.pair_rate_hz
    d = deliveries(scheme, model, p_target, pairs)["A"]
    t, k = d[:, 0], d[:, 1]
    assert len(d) == pairs
    assert abs(k.mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs)
    # the intervals X = 2R + (K - 1) cycle have sd cycle sqrt(1 - p) / p: the rate's standard error follows
    rate = (pairs - 1) / ((t[-1] - t[0]) * 1e-12)
    mean_interval_ps = 1e12 / timing.pair_rate_hz
    se = timing.pair_rate_hz * CYCLE_PS * math.sqrt(1 - p) / p / mean_interval_ps / math.sqrt(pairs - 1)
    assert abs(rate - timing.pair_rate_hz) < 3 * se


@pytest.mark.parametrize("model", ["geometric", "attempts"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_heralds_come_a_handshake_plus_whole_cycles_apart(scheme, model):
    p_target, pairs = RUNS[model]
    physics = physics_of(scheme, p_target)
    handshake = max(2 * round_trip_ps(physics), CYCLE_PS)  # herald out, slot offered back
    d = deliveries(scheme, model, p_target, pairs)
    a, b = d["A"], d["B"]
    assert np.array_equal(a[:, 1], b[:, 1])  # both ends hear of the same pairs
    for end in (a, b):
        t, k = end[:, 0].astype(np.int64), end[:, 1].astype(np.int64)
        assert np.array_equal(np.diff(t) - handshake, (k[1:] - 1) * CYCLE_PS)
    # the first round opens as both ends offer their slots at t = 0: its first attempt is heralded at A one
    # handshake later, attempt K K - 1 cycles after that
    assert a[0, 0] == handshake + (a[0, 1] - 1) * CYCLE_PS
    assert np.all(b[:, 0] - a[:, 0] == b[0, 0] - a[0, 0])


def storage_ps(timing, end: int) -> int:
    """Sum of both qubits' storage times when ``end``'s herald arrives (``stored_ps`` of the other end
    is taken at its own herald, ``herald_ps[other] - herald_ps[end]`` away)."""
    other = 1 - end
    h, s = timing.herald_ps, timing.stored_ps
    return s[end] + s[other] + h[end] - h[other]


@pytest.mark.parametrize("model", ["geometric", "attempts"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_qubits_are_stored_from_the_successful_emission(scheme, model, fidelity_sd):
    p_target, pairs = RUNS[model]
    physics = physics_of(scheme, p_target)
    timing = link_timing(physics, LENGTH_KM)
    d = deliveries(scheme, model, p_target, pairs)
    for end, node in enumerate("AB"):
        # each qubit decays for its flight and herald time only, whatever attempt of the round succeeded
        # (not from the round's opening, K - 1 cycles earlier): with T1 = T2 = TAU every correlation
        # shrinks by exp(-t / TAU) per qubit, so F = 1/4 + (F0 - 1/4) exp(-(t_a + t_b) / TAU)
        e = math.exp(-storage_ps(timing, end) * 1e-12 / TAU_S)
        assert 0.2 < e < 0.7  # decay the memories make visible
        kind, fidelity = d[node][:, 2], d[node][:, 3]
        good = kind == GOOD
        assert good.mean() > 0.7
        assert np.allclose(fidelity[good], 0.25 + (physics.state(GOOD)[0] - 0.25) * e, rtol=1e-9, atol=0), node
        assert np.allclose(fidelity[kind == DARK], 0.25, rtol=1e-12), node
        if scheme == "single_click":  # BAD: the |11> term, fidelity 0 when stored
            assert np.allclose(fidelity[kind == BAD], 0.25 - 0.25 * e, rtol=1e-9), node
        # the mean over every kind of herald: the closed-form mean fidelity, decayed alike (and its sd with it)
        expected = 0.25 + (timing.fidelity - 0.25) * e
        assert abs(fidelity.mean() - expected) < 3 * e * fidelity_sd(physics) / math.sqrt(pairs), node


@pytest.mark.parametrize("scheme", SCHEMES)
def test_geometric_and_attempts_models_agree(scheme):
    p_target, pairs = RUNS["attempts"]
    physics = physics_of(scheme, p_target)
    p = physics.success_probability()
    runs = {model: deliveries(scheme, model, p_target, n)["A"]
            for model, n in (("attempts", pairs), ("geometric", 2000))}
    for model, d in runs.items():
        assert abs(d[:, 1].mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(len(d)), model
    # the same distribution of attempts per pair, of intervals between heralds and of fidelities
    assert ks_agrees(runs["attempts"][:, 1], runs["geometric"][:, 1])
    assert ks_agrees(np.diff(runs["attempts"][:, 0]), np.diff(runs["geometric"][:, 0]))
    assert ks_agrees(runs["attempts"][:, 3], runs["geometric"][:, 3])


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_cycle_no_shorter_than_the_round_trip_leaves_nothing_to_pipeline(scheme):
    # the herald of each attempt is back before the next one would leave: the same link as without pipelining
    rt = round_trip_ps(physics_of(scheme, 0.01))
    for cycle in (rt, 3 * rt):
        runs = {}
        for pipelined in (False, True):
            physics = physics_of(scheme, 0.01, cycle_ps=cycle, pipelined=pipelined)
            runs[pipelined] = qactors.run(two_node_link(LENGTH_KM, physics, max_pairs=200, memory=MEMORY),
                                          until_ps=2**62, seed=3)
            assert plan_link("A-B", "A", "B", physics, length_km=LENGTH_KM).attempt_ps == cycle
        assert runs[True].events == runs[False].events
        for node in ("A", "B"):
            assert runs[True].states[node]["deliveries"] == runs[False].states[node]["deliveries"]
        assert link_timing(physics_of(scheme, 0.01, cycle_ps=cycle), LENGTH_KM) == \
            link_timing(physics_of(scheme, 0.01, cycle_ps=cycle, pipelined=False), LENGTH_KM)


def test_the_station_decides_one_attempt_per_cycle_and_sends_only_the_success():
    arm, cycle = 1000, 30
    physics = LinkPhysics("double_click", eta_arm=0.3, cycle_ps=cycle, pipelined=True)
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", physics, "attempts", arm_delay_ps=arm),
                       peers=["A", "B"])
    probe.start()
    assert probe.deliver(Ready("A-B", 0, NOISE), "A", arm) == []
    # the round opens: no Go; attempt 1 leaves the nodes one arm later and reaches the station after another
    (timer,) = probe.deliver(Ready("A-B", 0, NOISE), "B", arm)
    assert (timer.to, timer.delay_ps, timer.msg.round, timer.msg.attempt) == ("S", 2 * arm, 0, 1)
    t = arm + timer.delay_ps
    while True:
        sent = probe.deliver(timer.msg, "S", t)
        if sent[0].to != "S":
            break
        # a failed attempt: nothing goes out, the next one arrives a cycle later
        (timer,) = sent
        assert (timer.delay_ps, timer.msg.attempt) == (cycle, probe.actor.slots["A-B"].attempt + 1)
        t += cycle
        assert timer.msg.attempt < 200
    k = probe.actor.slots["A-B"].attempt
    assert t == 3 * arm + (k - 1) * cycle
    assert [(x.to, x.delay_ps, type(x.msg), x.msg.attempt) for x in sent] == [("A", arm, Herald, k),
                                                                              ("B", arm, Herald, k)]
    assert sent[0].msg.kind and sent[0].msg.pair.a.stored_ps == sent[0].msg.pair.b.stored_ps == t - arm
    # photons are never asked for
    assert probe.deliver(Photon("A-B", 0, k + 1, True, True), "A", t + 1) == [] and probe.actor.ignored == 1
    # the next round opens when both offers are back (2 arms after the herald left): no cycle to wait out
    probe.deliver(Ready("A-B", 1, NOISE), "A", t + 2 * arm)
    (timer,) = probe.deliver(Ready("A-B", 1, NOISE), "B", t + 2 * arm)
    assert (timer.delay_ps, timer.msg.round, timer.msg.attempt) == (2 * arm, 1, 1)


def test_geometric_receiver_decides_attempt_k_one_cycle_after_attempt_k_minus_one():
    cycle, fibre = 10, 1000
    physics = SenderReceiverPhysics(eta_link=0.05, cycle_ps=cycle, pipelined=True)
    probe = ActorProbe(ReceiverStation("R", "A-B", "A", "B", physics, "geometric", link_delay_ps=fibre),
                       peers=["A", "B"])
    probe.start()
    probe.deliver(Ready("A-B", 0, NOISE), "B", 1)
    heralds = probe.deliver(Ready("A-B", 0, NOISE), "A", fibre)
    k = heralds[0].msg.attempt
    decided = fibre + 2 * fibre + (k - 1) * cycle  # not 2 fibre delays per attempt
    assert [(x.to, x.delay_ps, type(x.msg)) for x in heralds] == [("A", decided - fibre + fibre, Herald),
                                                                    ("B", decided - fibre + 1, Herald)]
    pair = heralds[0].msg.pair
    assert (pair.a.stored_ps, pair.b.stored_ps) == (decided - fibre, decided)


def test_pipelined_defaults_to_false_and_is_part_of_the_physics():
    for physics in (LinkPhysics("double_click", eta_arm=0.5), MidpointSourcePhysics(eta_arm=0.5),
                    SenderReceiverPhysics(eta_link=0.5)):
        assert physics.pipelined is False
        piped = dataclasses.replace(physics, cycle_ps=CYCLE_PS, pipelined=True)
        assert piped != dataclasses.replace(physics, cycle_ps=CYCLE_PS)
        assert plan_link("A-B", "A", "B", piped, length_km=LENGTH_KM).attempt_ps == CYCLE_PS


MAKERS = [
    lambda **kw: LinkPhysics("double_click", eta_arm=0.5, **kw),
    lambda **kw: LinkPhysics("single_click", eta_arm=0.5, bright_state_population=0.1, **kw),
    lambda **kw: MidpointSourcePhysics(eta_arm=0.5, **kw),
    lambda **kw: SenderReceiverPhysics(eta_link=0.5, **kw),
]


@pytest.mark.parametrize("value", [1, 0, None, "True", np.True_, 1.0])
@pytest.mark.parametrize("make", MAKERS, ids=SCHEMES)
def test_pipelined_must_be_a_bool(make, value):
    with pytest.raises(qactors.ConfigurationError,
                       match=r"\.pipelined = .* is not allowed; allowed: True \(an attempt every cycle_ps") as e:
        make(pipelined=value, cycle_ps=CYCLE_PS)
    assert e.value.field == "pipelined" and e.value.value is value


@pytest.mark.parametrize("make", MAKERS, ids=SCHEMES)
def test_pipelined_needs_a_cycle(make):
    with pytest.raises(qactors.ConfigurationError,
                       match=r"\.cycle_ps = 0 is not allowed with pipelined = True; allowed: an int > 0") as e:
        make(pipelined=True)
    assert e.value.field == "cycle_ps" and e.value.value == 0
    assert make(pipelined=True, cycle_ps=1).pipelined is True
