"""Link layer with a hardware cycle: a minimum attempt period ``cycle_ps`` longer
than the herald round trip, as on short lab links (NV nodes a few metres apart,
5.5 us per attempt: Humphreys et al., Nature 558, 268 (2018)).

Monte Carlo comparisons use 3-sigma bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import qactors
from qactors.core.codec import record_fields
from qactors.hardware import QuantumMemory
from qactors.protocols.link import (GOOD, Go, Herald, LinkPhysics, MidpointSourcePhysics, MidpointStation, Photon,
                                    Ready, ReceiverStation, SenderReceiverPhysics, link_timing, plan_link,
                                    two_node_link)
from qactors.quantum.bell import MemoryNoise
from qactors.testing import ActorProbe

NV_CYCLE_PS = 5_500_000  # 5.5 us
LENGTH_KM = 0.01  # 10 m: a round trip of about 50 ns, a hundred times shorter than the cycle
NOISE = MemoryNoise()


def physics_of(scheme: str, cycle_ps: int, *, ideal: bool = False):
    """A link of ``scheme`` with success probability 0.1-0.3 per attempt: large enough for the pair
    rates with and without an extra period per pair (a factor 1 + p) to be told apart."""
    if scheme == "double_click":
        return LinkPhysics("double_click", eta_arm=0.6, visibility=1.0 if ideal else 0.95,
                           dark_count_probability=0.0 if ideal else 0.01, cycle_ps=cycle_ps)
    if scheme == "single_click":
        return LinkPhysics("single_click", eta_arm=0.5, bright_state_population=0.2, visibility=0.9,
                           dark_count_probability=0.01, cycle_ps=cycle_ps)
    if scheme == "midpoint_source":
        return MidpointSourcePhysics(eta_arm=0.6, emission_probability=0.8, visibility=1.0 if ideal else 0.95,
                                     dark_count_probability=0.0 if ideal else 0.01, cycle_ps=cycle_ps)
    return SenderReceiverPhysics(eta_link=0.3, visibility=1.0 if ideal else 0.95,
                                 dark_count_probability=0.0 if ideal else 0.01, cycle_ps=cycle_ps)


SCHEMES = ("double_click", "single_click", "midpoint_source", "sender_receiver")


def round_trip_ps(scheme: str, length_km: float) -> int:
    """The herald round trip: the attempt period without a cycle."""
    return plan_link("A-B", "A", "B", physics_of(scheme, 0), length_km=length_km).attempt_ps


def run_link(physics, model, pairs, *, length_km=LENGTH_KM, seed=1, memory=None):
    net = two_node_link(length_km, physics, model=model, max_pairs=pairs, memory=memory)
    return qactors.run(net, until_ps=2**62, seed=seed)


def deliveries(result, node="A"):
    return np.array(result.states[node]["deliveries"])


@pytest.mark.parametrize("model", ["attempts", "geometric"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_cycle_sets_the_pair_rate_of_a_short_link(scheme, model):
    pairs = 2000
    physics = physics_of(scheme, NV_CYCLE_PS)
    timing = link_timing(physics, LENGTH_KM)
    p = physics.success_probability()
    assert 2 * round_trip_ps(scheme, LENGTH_KM) < NV_CYCLE_PS
    assert timing.attempt_ps == NV_CYCLE_PS
    # the slot's new offer (two round trips) fits in the cycle: every attempt, the first of a round too,
    # comes one cycle after the previous one, so pairs arrive at p / T, not 1 / ((1/p + 1) T)
    assert timing.pair_rate_hz == pytest.approx(p / (NV_CYCLE_PS * 1e-12), rel=1e-12)
    assert timing.pair_rate_hz > 1.1 / ((1 / p + 1) * NV_CYCLE_PS * 1e-12)
    d = deliveries(run_link(physics, model, pairs))
    t, k = d[:, 0], d[:, 1]
    assert len(d) == pairs
    assert abs(k.mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs)
    assert np.array_equal(np.diff(t), k[1:] * NV_CYCLE_PS)
    rate = (pairs - 1) / ((t[-1] - t[0]) * 1e-12)
    assert abs(rate - timing.pair_rate_hz) < 3 * timing.pair_rate_hz * math.sqrt(1 - p) / math.sqrt(pairs)


@pytest.mark.parametrize("model", ["attempts", "geometric"])
@pytest.mark.parametrize("scheme", ["double_click", "midpoint_source", "sender_receiver"])
def test_a_cycle_between_one_and_two_round_trips(scheme, model):
    # the attempts of a round come one cycle apart; the next round's first attempt two round trips after
    # the success (herald out, the slot's new offer back), which is longer than the cycle
    length_km = 1.0
    rt = round_trip_ps(scheme, length_km)
    cycle = rt + rt // 2
    physics = physics_of(scheme, cycle)
    timing = link_timing(physics, length_km)
    p = physics.success_probability()
    assert timing.attempt_ps == cycle
    assert timing.pair_rate_hz == pytest.approx(1 / ((2 * rt + (1 / p - 1) * cycle) * 1e-12), rel=1e-12)
    pairs = 1000
    d = deliveries(run_link(physics, model, pairs, length_km=length_km))
    t, k = d[:, 0], d[:, 1]
    assert np.array_equal(np.diff(t), 2 * rt + (k[1:] - 1) * cycle)
    rate = (pairs - 1) / ((t[-1] - t[0]) * 1e-12)
    assert abs(rate - timing.pair_rate_hz) < 3 * timing.pair_rate_hz * math.sqrt(1 - p) / math.sqrt(pairs)


@pytest.mark.parametrize("model", ["attempts", "geometric"])
@pytest.mark.parametrize("scheme", ["double_click", "midpoint_source", "sender_receiver"])
def test_qubits_are_stored_from_emission_not_for_the_whole_cycle(scheme, model):
    # ideal links herald only the intended state, so a pair's fidelity on arrival depends only on how long
    # each qubit was stored; a cycle makes the attempts sparser but stores no qubit for longer
    memory = QuantumMemory(1, t1_s=1e-6, t2_s=1e-6)
    fidelity = {}
    for cycle in (0, NV_CYCLE_PS):
        res = run_link(physics_of(scheme, cycle, ideal=True), model, 50, memory=memory)
        fidelity[cycle] = {node: deliveries(res, node)[:, 3] for node in ("A", "B")}
    for node in ("A", "B"):
        assert np.all(fidelity[0][node] == fidelity[0][node][0]) and fidelity[0][node][0] < 0.99
        assert np.all(fidelity[NV_CYCLE_PS][node] == fidelity[0][node][0]), node


def _without_physics(states: dict) -> dict:
    """The actors' states with the physics objects left out (they differ in ``cycle_ps`` alone)."""
    out = {}
    for actor, state in states.items():
        state = {k: v for k, v in state.items() if k != "physics"}
        if "side" in state:
            state["side"] = {k: v for k, v in record_fields(state["side"]).items() if k != "physics"}
        out[actor] = state
    return out


@pytest.mark.parametrize("model", ["attempts", "geometric"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_cycle_shorter_than_the_round_trip_changes_nothing(scheme, model):
    rt = round_trip_ps(scheme, LENGTH_KM)
    memory = QuantumMemory(1, t1_s=1e-6, t2_s=1e-6)
    runs = {cycle: run_link(physics_of(scheme, cycle), model, 300, seed=4, memory=memory)
            for cycle in (0, rt - 1, rt)}
    reference = runs[0]
    assert len(reference.states["A"]["deliveries"]) == 300
    for cycle, res in runs.items():
        assert res.events == reference.events, cycle
        assert _without_physics(res.states) == _without_physics(reference.states), cycle
        assert link_timing(physics_of(scheme, cycle), LENGTH_KM) == link_timing(physics_of(scheme, 0), LENGTH_KM)
    assert runs[rt].states["A"]["side"].physics.cycle_ps == rt


def test_the_station_holds_back_failed_heralds_but_never_a_successful_one():
    cycle = 1000  # five round trips of 200
    physics = LinkPhysics("double_click", eta_arm=1.0, cycle_ps=cycle)
    probe = ActorProbe(MidpointStation("S", "A-B", "A", "B", physics, "attempts", arm_delay_ps=100),
                       peers=["A", "B"])
    probe.start()
    probe.deliver(Ready("A-B", 0, NOISE), "A", 100)
    go = probe.deliver(Ready("A-B", 0, NOISE), "B", 100)
    assert [(x.to, x.delay_ps, type(x.msg)) for x in go] == [("A", 100, Go), ("B", 100, Go)]  # no attempt yet
    t, attempt = 300, 1  # the photons of the attempt made at 200
    while True:
        probe.deliver(Photon("A-B", 0, attempt, True, True), "A", t)
        sent = probe.deliver(Photon("A-B", 0, attempt, True, True), "B", t)
        if sent[0].msg.kind:
            break
        # the herald is out at once, but the nodes may attempt again only one cycle after their last attempt
        assert [(x.to, x.delay_ps) for x in sent] == [("A", cycle - 100), ("B", cycle - 100)]
        t, attempt = t + cycle, attempt + 1
        assert attempt < 50
    assert [(x.to, x.delay_ps, x.msg.kind) for x in sent] == [("A", 100, GOOD), ("B", 100, GOOD)]
    assert sent[0].msg.pair.a.stored_ps == sent[0].msg.pair.b.stored_ps == t - 100
    # both ends offer their slots again at once (the herald's and the offer's round trips: 400 < cycle):
    # the next round starts one cycle after the last attempt
    probe.deliver(Ready("A-B", 1, NOISE), "A", t + 200)
    go = probe.deliver(Ready("A-B", 1, NOISE), "B", t + 200)
    assert [(x.to, x.delay_ps) for x in go] == [("A", cycle - 300), ("B", cycle - 300)]
    # an end that offers its slot late waits for nothing
    probe.deliver(Photon("A-B", 1, 1, True, True), "A", t + cycle)
    last = probe.deliver(Photon("A-B", 1, 1, True, True), "B", t + cycle)
    while not last[0].msg.kind:
        t, attempt = t + cycle, last[0].msg.attempt + 1
        probe.deliver(Photon("A-B", 1, attempt, True, True), "A", t + cycle)
        last = probe.deliver(Photon("A-B", 1, attempt, True, True), "B", t + cycle)
    late = t + 10 * cycle
    probe.deliver(Ready("A-B", 2, NOISE), "A", late)
    assert [x.delay_ps for x in probe.deliver(Ready("A-B", 2, NOISE), "B", late)] == [100, 100]


def test_geometric_receiver_decides_attempt_k_cycles_after_the_previous_attempt():
    cycle, fibre = 10_000, 1000
    physics = SenderReceiverPhysics(eta_link=0.3, cycle_ps=cycle)
    probe = ActorProbe(ReceiverStation("R", "A-B", "A", "B", physics, "geometric", link_delay_ps=fibre),
                       peers=["A", "B"])
    probe.start()
    probe.deliver(Ready("A-B", 0, NOISE), "B", 1)
    heralds = probe.deliver(Ready("A-B", 0, NOISE), "A", fibre)
    k = heralds[0].msg.attempt
    # A hears at once, emits, the photon takes L/c: attempt k is decided 2 L/c + (k - 1) cycles from now
    decided = fibre + 2 * fibre + (k - 1) * cycle
    assert [(x.to, x.delay_ps, type(x.msg)) for x in heralds] == [("A", decided - fibre + fibre, Herald),
                                                                    ("B", decided - fibre + 1, Herald)]
    pair = heralds[0].msg.pair
    assert (pair.a.stored_ps, pair.b.stored_ps) == (decided - fibre, decided)
    # the next round opens when A's offer arrives, two fibre delays after the decision; A emitted one fibre
    # delay before it, so it may emit again (cycle - 4 fibre delays) after hearing
    probe.deliver(Ready("A-B", 1, NOISE), "B", decided + 2)
    heralds = probe.deliver(Ready("A-B", 1, NOISE), "A", decided + 2 * fibre)
    assert heralds[0].delay_ps == (cycle - 4 * fibre) + 2 * fibre + (heralds[0].msg.attempt - 1) * cycle + fibre


@pytest.mark.parametrize("value", [-1, 5.5e6, 1.0, True, None, "5500000"])
@pytest.mark.parametrize("make", [
    lambda c: LinkPhysics("double_click", eta_arm=0.5, cycle_ps=c),
    lambda c: LinkPhysics("single_click", eta_arm=0.5, bright_state_population=0.1, cycle_ps=c),
    lambda c: MidpointSourcePhysics(eta_arm=0.5, cycle_ps=c),
    lambda c: SenderReceiverPhysics(eta_link=0.5, cycle_ps=c),
], ids=["double_click", "single_click", "midpoint_source", "sender_receiver"])
def test_bad_cycles_are_rejected(make, value):
    with pytest.raises(qactors.ConfigurationError, match=r"\.cycle_ps = .* is not allowed; allowed: an int >= 0") as e:
        make(value)
    assert e.value.field == "cycle_ps" and e.value.value is value


def test_the_cycle_defaults_to_zero_and_is_part_of_the_physics():
    assert LinkPhysics("double_click", eta_arm=0.5).cycle_ps == 0
    assert MidpointSourcePhysics(eta_arm=0.5).cycle_ps == SenderReceiverPhysics(eta_link=0.5).cycle_ps == 0
    assert LinkPhysics("double_click", eta_arm=0.5, cycle_ps=1) != LinkPhysics("double_click", eta_arm=0.5)
    assert plan_link("A-B", "A", "B", SenderReceiverPhysics(eta_link=0.5, cycle_ps=NV_CYCLE_PS),
                     length_km=LENGTH_KM).attempt_ps == NV_CYCLE_PS
