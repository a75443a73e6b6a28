"""SWAP-1, SWAP-2, PUR-1, PUR-2, QKD-1 and QKD-2 through the Bell-diagonal formalism's public API."""

from __future__ import annotations

import math

import pytest

from qactors.quantum import bell, information

EXACT = 1e-9
# The cases state abs 1e-9 for exact computation, but print their expected values to 7 significant
# digits; comparisons are therefore to within 5e-7 relative (half a unit in the 7th digit, rounded up).
PRINTED = 5e-7


def close(actual, expected, rel=PRINTED):
    return abs(actual - expected) <= rel * max(1.0, abs(expected))


def test_swap_1_two_werner_pairs(cases):
    case = cases["SWAP-1"]
    for f1, f2 in case["inputs"]["(F1,F2)"]:
        out = bell.swap(bell.werner(f1), bell.werner(f2))
        exp = case["expected"][f"{f1},{f2}"]
        assert close(out[bell.PHI_PLUS], exp["F_out"]), (f1, f2, out)
        assert close(bell.werner_parameter(out[bell.PHI_PLUS]), exp["w_out"])
        # "output is again Werner": the three other coefficients are equal
        assert max(out[1:]) - min(out[1:]) < EXACT


def test_swap_2_chain_of_links(cases):
    case = cases["SWAP-2"]
    link = bell.werner(case["inputs"]["F0"])
    for n in case["inputs"]["n"]:
        state = link
        for _ in range(n - 1):
            state = bell.swap(state, link)
        assert close(state[bell.PHI_PLUS], case["expected"][str(n)]), n


def test_pur_1_bbpssw_rounds(cases):
    case = cases["PUR-1"]
    for f in case["inputs"]["F"]:
        state = bell.werner(f)
        for expected in case["expected"][str(f)]:
            p, state = bell.bbpssw(state, state)
            assert close(p, expected["p_succ"]), (f, expected)
            assert close(state[bell.PHI_PLUS], expected["F"]), (f, expected)


def test_pur_2_dejmps_rounds(cases):
    case = cases["PUR-2"]
    for f in case["inputs"]["F"]:
        state = bell.werner(f)
        for expected in case["expected"][str(f)]:
            p, state = bell.dejmps(state, state)
            # the case lists (Phi+, Psi-, Psi+, Phi-)
            abcd = (state[bell.PHI_PLUS], state[bell.PSI_MINUS], state[bell.PSI_PLUS], state[bell.PHI_MINUS])
            assert close(p, expected["p_succ"]), (f, expected)
            for got, want in zip(abcd, expected["ABCD"]):
                assert close(got, want), (f, expected, abcd)


def test_qkd_1_bb84_key_fraction(cases):
    case = cases["QKD-1"]
    for q in case["inputs"]["Q"]:
        assert close(information.bb84_key_fraction(q), case["expected"]["r"][str(q)]), q
    threshold = case["expected"]["Q_threshold"]
    assert abs(information.bb84_key_fraction(threshold)) < 1e-6


def test_qkd_2_werner_chsh_qber_key_fraction(cases):
    case = cases["QKD-2"]
    for f in case["inputs"]["F"]:
        exp = case["expected"][f"{f}" if f != 1.0 else "1.0"]
        state = bell.werner(f)
        assert close(bell.werner_parameter(f), exp["w"])
        assert close(information.chsh_value(state), exp["S"])
        for basis in ("X", "Y", "Z"):
            assert close(information.qber(state, basis), exp["QBER"])
        if "r" in exp:
            # below the threshold the formula goes negative: no key
            assert close(information.bbm92_key_fraction(state), exp["r"]), f
        if "Ftel" in exp:
            assert close(information.teleportation_fidelity(state), exp["Ftel"])


def test_qkd_2_thresholds(cases):
    thresholds = cases["QKD-2"]["expected"]["thresholds"]
    # at the printed thresholds the CHSH value is 2 and the key fraction 0, within the printing precision
    assert information.chsh_value(bell.werner(thresholds["F_chsh"])) == pytest.approx(2.0, abs=2e-6)
    assert abs(information.bbm92_key_fraction(bell.werner(thresholds["F_key"]))) < 2e-6
    assert close(bell.werner_parameter(thresholds["F_key"]), thresholds["w_key"])
    assert close(1 / math.sqrt(2), thresholds["w_chsh"])


def test_tel_1_from_bell_coefficients(cases):
    case = cases["TEL-1"]
    for f in case["inputs"]["F_resource"]:
        assert close(information.teleportation_fidelity(bell.werner(f)), case["expected"]["F_tel"][str(f)])
    assert close(information.CLASSICAL_TELEPORTATION_LIMIT, case["expected"]["classical_limit"])


def test_swap_outcomes_corrected_give_the_unconditional_output():
    c1, c2 = (0.7, 0.1, 0.15, 0.05), (0.8, 0.02, 0.08, 0.1)
    for outcome in range(4):
        raw = bell.swap_outcome(c1, c2, outcome)
        assert bell.apply_pauli(raw, outcome) == pytest.approx(bell.swap(c1, c2), abs=1e-15)
        if outcome:
            assert raw[bell.PHI_PLUS] != pytest.approx(bell.swap(c1, c2)[bell.PHI_PLUS])
