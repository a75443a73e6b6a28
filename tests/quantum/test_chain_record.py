"""chain_record against the step-by-step composition: decay each link's qubits with
at_ends until their swaps, swap in turn, then let the outer qubits decay."""

import math

import pytest

from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord, chain_record, swap

NA = MemoryNoise(t1_s=2e-3, t2_s=1e-3)
NB = MemoryNoise(t2_s=5e-4, depolarising_s=3e-3)
NC = MemoryNoise(t1_s=1e-2)


def link(pid, a, b, t, coefficients, noise_a, noise_b):
    return PairRecord(pid, coefficients, t, PairEnd(a, noise_a, t), PairEnd(b, noise_b, t))


def test_three_links_with_different_memories():
    l0 = link("0", "A", "R1", 0, (0.9, 0.05, 0.03, 0.02), NA, NB)
    l1 = link("1", "R1", "R2", 200_000_000, (0.85, 0.05, 0.05, 0.05), NB, NC)
    l2 = link("2", "R2", "B", 100_000_000, (0.95, 0.01, 0.02, 0.02), NC, NA)
    t1, t2, t_end = 300_000_000, 450_000_000, 900_000_000
    # step by step: R1 swaps at t1 and R2 at t2, each inner qubit decayed until its own swap
    s1 = swap(l0.at_ends(l0.ref_ps, t1), l1.at_ends(t1, t2))
    s2 = swap(s1, l2.at_ends(t2, l2.ref_ps))
    expected = PairRecord("x", s2, 0, PairEnd("A", NA, 0), PairEnd("B", NA, 100_000_000)).at(t_end)
    got = chain_record("0..2", [l0, l1, l2], [t1, t2]).at(t_end)
    assert got == pytest.approx(expected, abs=1e-15)
    assert math.isclose(sum(got), 1.0, abs_tol=1e-15)


def test_an_advanced_outer_link_is_not_decayed_twice():
    l0 = link("0", "A", "R", 0, (1.0, 0.0, 0.0, 0.0), NA, NA)
    l1 = link("1", "R", "B", 0, (1.0, 0.0, 0.0, 0.0), NA, NA)
    plain = chain_record("p", [l0, l1], [10_000_000]).at(50_000_000)
    # the same first link, brought forward to 5e6 ps (coefficients include the decay so far)
    moved = chain_record("m", [l0.advanced(5_000_000), l1], [10_000_000]).at(50_000_000)
    assert moved == pytest.approx(plain, abs=1e-15)
