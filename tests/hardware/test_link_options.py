"""Two options of the heralded-link physics, against closed forms: the two-round Barrett-Kok timing
(an attempt every 5 tau + 2 tau0, the herald 4 tau + 2 tau0 after the qubits were prepared, tau the
one-way delay over the whole link) and a Werner initial state (every heralded pair F |Phi+><Phi+| +
(1-F)/3 (1 - |Phi+><Phi+|), Pauli probabilities (1-F)/3 each).  The default behaviour is unchanged.

Both link models; Monte Carlo comparisons use 3-sigma bounds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.hardware import QuantumMemory, attempt_duration_ps, attempt_duration_s, double_click
from qactors.protocols.link import BAD, DARK, GOOD, LinkPhysics, link_timing, two_node_link

C_FIBRE = 2e8
N_REFERENCE = 299_792_458 / C_FIBRE  # signals at exactly 2e8 m/s
US = 1_000_000  # ps
ETA = 0.95 * 0.95 * 10 ** (-0.2 * 15 / 10)  # 30 km link, source and detector efficiency 0.95 (NIST's values)


def deliveries(physics, model, pairs, memory=None, seed=1):
    net = two_node_link(30, physics, model=model, max_pairs=pairs, refractive_index=N_REFERENCE, memory=memory)
    return qactors.run(net, until_ps=2 ** 62, seed=seed).states["A"]["deliveries"]


# -- two-round timing ------------------------------------------------------------------------------

def test_two_round_closed_forms_give_750_and_600_us_at_30_km():
    assert attempt_duration_s(30, timing="two-round") == pytest.approx(750e-6, rel=1e-12)
    assert attempt_duration_s(30, timing="two-round", local_delay_s=10e-6) == pytest.approx(770e-6, rel=1e-12)
    assert attempt_duration_ps(30, timing="two-round") == 750 * US
    assert attempt_duration_s(30) == pytest.approx(150e-6, rel=1e-12)  # the default: one round trip L/c
    one = link_timing(LinkPhysics("double_click", eta_arm=ETA), 30, refractive_index=N_REFERENCE)
    assert (one.attempt_ps, one.herald_ps, one.stored_ps) == (150 * US, (150 * US,) * 2, (150 * US,) * 2)
    physics = LinkPhysics("double_click", eta_arm=ETA, timing="two-round")
    t = link_timing(physics, 30, refractive_index=N_REFERENCE)
    assert t.attempt_ps == 750 * US
    assert t.herald_ps == t.stored_ps == (600 * US, 600 * US)
    assert t.success_probability == one.success_probability == pytest.approx(ETA ** 2 / 2, rel=1e-12)
    # the next round's first attempt comes one period after a success (herald, then the offer's tau)
    assert t.pair_rate_hz == pytest.approx(t.success_probability / 750e-6, rel=1e-12)
    tau0 = LinkPhysics("double_click", eta_arm=ETA, timing="two-round", local_delay_ps=10 * US)
    t0 = link_timing(tau0, 30, refractive_index=N_REFERENCE)
    assert (t0.attempt_ps, t0.herald_ps) == (770 * US, (620 * US, 620 * US))
    # a hardware cycle longer than 5 tau + 2 tau0 sets the period; the herald does not move
    slow = link_timing(LinkPhysics("double_click", eta_arm=ETA, timing="two-round", cycle_ps=900 * US), 30,
                       refractive_index=N_REFERENCE)
    assert (slow.attempt_ps, slow.herald_ps) == (900 * US, (600 * US, 600 * US))


@pytest.mark.parametrize("model, pairs", [("geometric", 2000), ("attempts", 400)])
def test_two_round_link_heralds_600_us_after_emission_and_attempts_every_750_us(model, pairs):
    physics = LinkPhysics("double_click", eta_arm=ETA, timing="two-round")
    d = deliveries(physics, model, pairs)
    t = np.array([x[0] for x in d])
    k = np.array([x[1] for x in d])
    assert len(d) == pairs
    # round 1 opens at the nodes tau after they offered their slots (Ready and Go over half the link each);
    # attempt K succeeds (K - 1) periods later and is heralded 600 us after its emission
    assert t[0] == 150 * US + (k[0] - 1) * 750 * US + 600 * US
    # after a herald the next round's first attempt comes tau later: a pair every K periods
    assert np.array_equal(np.diff(t), k[1:] * 750 * US)
    p = physics.success_probability()
    assert abs(k.mean() - 1 / p) < 3 * math.sqrt(1 - p) / p / math.sqrt(pairs)


@pytest.mark.parametrize("model", ["geometric", "attempts"])
def test_two_round_memory_decay_counts_from_the_preparation_of_the_qubits(model):
    physics = LinkPhysics("double_click", eta_arm=ETA, timing="two-round")
    d = deliveries(physics, model, 30, memory=QuantumMemory(1, t2_s=5e-3))
    e2 = math.exp(-2 * 600e-6 / 5e-3)  # both qubits dephased for 600 us: <XX>, <YY> shrink by e^2
    assert all(x[3] == pytest.approx((1 + e2) / 2, rel=1e-12) for x in d)


# -- Werner initial state --------------------------------------------------------------------------

def test_werner_initial_state_closed_form():
    r = 0.01 / 3
    link = double_click(ETA, initial_fidelity=0.99)
    assert link.pauli_probabilities == pytest.approx((0.99, r, r, r), rel=1e-12)
    assert link.fidelity == 0.99 and link.success_probability == pytest.approx(ETA ** 2 / 2, rel=1e-12)
    assert double_click(ETA).pauli_probabilities == (1.0, 0.0, 0.0, 0.0)  # the default is unchanged
    physics = LinkPhysics("double_click", eta_arm=ETA, initial_fidelity=0.99)
    assert physics.state(GOOD) == pytest.approx(link.pauli_probabilities, rel=1e-12)
    assert physics.reference_fidelity() == 0.99
    # every herald kind, a dark count's or a single-click |11> term's too, gives the Werner pair
    noisy = LinkPhysics("single_click", eta_arm=0.3, bright_state_population=0.2, dark_count_probability=0.1,
                        initial_fidelity=0.9)
    for kind in (GOOD, BAD, DARK):
        assert noisy.state(kind) == pytest.approx((0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3), rel=1e-12)
    assert noisy.success_probability() == LinkPhysics("single_click", eta_arm=0.3, bright_state_population=0.2,
                                                      dark_count_probability=0.1).success_probability()
    assert link_timing(physics, 30).fidelity == 0.99


@pytest.mark.parametrize("model", ["geometric", "attempts"])
def test_werner_pairs_have_the_given_fidelity_at_herald_time(model):
    for timing in ("one-round", "two-round"):
        physics = LinkPhysics("double_click", eta_arm=ETA, timing=timing, initial_fidelity=0.99)
        ideal = deliveries(physics, model, 40)  # memories without noise: the pair as stored
        assert all(x[3] == pytest.approx(0.99, rel=1e-12) for x in ideal)
    # with dephasing memories the Werner pair decays from its storage, 600 us before the two-round herald:
    # p_I = F (1 + e^2)/2 + (1 - F)/3 (1 - e^2)/2
    physics = LinkPhysics("double_click", eta_arm=ETA, timing="two-round", initial_fidelity=0.99)
    e2 = math.exp(-2 * 600e-6 / 5e-3)
    expected = 0.99 * (1 + e2) / 2 + 0.01 / 3 * (1 - e2) / 2
    for x in deliveries(physics, model, 40, memory=QuantumMemory(1, t2_s=5e-3)):
        assert x[3] == pytest.approx(expected, rel=1e-12)


# -- invalid values ----------------------------------------------------------------------------------

def test_invalid_options_are_rejected_naming_the_field(expect_error):
    def physics(**kw):
        return lambda: LinkPhysics(**{"scheme": "double_click", "eta_arm": 0.5, **kw})

    expect_error(physics(timing="three-round"), "LinkPhysics.timing", "'three-round'", "one-round")
    expect_error(physics(scheme="single_click", bright_state_population=0.1, timing="two-round"),
                 "LinkPhysics.timing", "'two-round'", "'one-round' for scheme 'single_click'")
    expect_error(physics(timing="two-round", pipelined=True, cycle_ps=1000), "LinkPhysics.timing", "'two-round'",
                 "pipelined = False")
    expect_error(physics(timing="two-round", local_delay_ps=-1), "LinkPhysics.local_delay_ps", "-1", "an int >= 0")
    expect_error(physics(timing="two-round", local_delay_ps=1.5), "LinkPhysics.local_delay_ps", "1.5", "an int >= 0")
    expect_error(physics(local_delay_ps=10), "LinkPhysics.local_delay_ps", "10", "timing = 'two-round'")
    expect_error(physics(initial_fidelity=1.5), "LinkPhysics.initial_fidelity", "1.5", "[0, 1]")
    expect_error(physics(initial_fidelity="high"), "LinkPhysics.initial_fidelity", "'high'", "None")
    expect_error(physics(initial_fidelity=0.99, visibility=0.9), "LinkPhysics.visibility", "0.9",
                 "initial_fidelity = None")
    expect_error(lambda: double_click(0.5, initial_fidelity=-0.1), "initial_fidelity", "-0.1", "[0, 1]")
    expect_error(lambda: double_click(0.5, 0.9, initial_fidelity=0.99), "visibility", "0.9", "initial_fidelity")
    expect_error(lambda: attempt_duration_s(30, timing="2"), "timing", "'2'", "one-round")
    expect_error(lambda: attempt_duration_s(30, timing="two-round", local_delay_s=-1e-6), "local_delay_s",
                 "-1e-06", ">= 0")
    expect_error(lambda: attempt_duration_s(30, local_delay_s=1e-6), "local_delay_s", "1e-06",
                 "timing = 'two-round'")
    with pytest.raises(ConfigurationError) as info:
        LinkPhysics("double_click", eta_arm=0.5, initial_fidelity=2.0)
    assert info.value.field == "initial_fidelity" and info.value.value == 2.0
    with pytest.raises(ConfigurationError) as info:
        LinkPhysics("double_click", eta_arm=0.5, timing="slow")
    assert info.value.field == "timing" and info.value.value == "slow"
