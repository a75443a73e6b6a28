"""Quantum memory: validation, T1/T2 closed forms and the twirled Pauli channel."""

from __future__ import annotations

import dataclasses
import math
import pickle

import pytest

from qactors.hardware import QuantumMemory


@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"num_qubits": 0}, "QuantumMemory.num_qubits", "0", "int >= 1"),
    ({"num_qubits": 2.0}, "QuantumMemory.num_qubits", "2.0", "int >= 1"),
    ({"num_qubits": True}, "QuantumMemory.num_qubits", "True", "int >= 1"),
    ({"num_qubits": 1, "t1_s": 0.0}, "QuantumMemory.t1_s", "0.0", "> 0"),
    ({"num_qubits": 1, "t1_s": -1.0}, "QuantumMemory.t1_s", "-1.0", "> 0"),
    ({"num_qubits": 1, "t2_s": math.nan}, "QuantumMemory.t2_s", "nan", "> 0"),
    ({"num_qubits": 1, "t1_s": 1.0, "t2_s": 2.5}, "QuantumMemory.t2_s", "2.5", "t2_s <= 2 * t1_s = 2.0"),
    ({"num_qubits": 1, "t1_s": 1.0}, "QuantumMemory.t2_s", "inf", "t2_s <= 2 * t1_s"),
    ({"num_qubits": 1, "write_efficiency": 1.1}, "QuantumMemory.write_efficiency", "1.1", "[0, 1]"),
    ({"num_qubits": 1, "read_efficiency": -0.1}, "QuantumMemory.read_efficiency", "-0.1", "[0, 1]"),
    ({"num_qubits": 1, "storage_fidelity": 2}, "QuantumMemory.storage_fidelity", "2", "[0, 1]"),
    ({"num_qubits": 1, "access_time_ps": 0}, "QuantumMemory.access_time_ps", "0", "int >= 1"),
    ({"num_qubits": 1, "access_time_ps": 1.5e6}, "QuantumMemory.access_time_ps", "1500000.0", "int >= 1"),
    ({"num_qubits": 1, "dead_time_ps": -1}, "QuantumMemory.dead_time_ps", "-1", "int >= 0"),
])
def test_rejects_bad_fields(kwargs, field, value, allowed, expect_error):
    expect_error(lambda: QuantumMemory(**kwargs), field, value, allowed)


def test_physical_limits_are_accepted():
    QuantumMemory(1, t1_s=1.0, t2_s=2.0)          # T2 = 2 T1: no pure dephasing
    QuantumMemory(1)                               # perfect memory
    QuantumMemory(1, t1_s=math.inf, t2_s=0.5)      # pure dephasing only


def test_durations_must_be_finite_and_non_negative(expect_error):
    m = QuantumMemory(1, t1_s=1.0, t2_s=1.0)
    expect_error(lambda: m.amplitude_damping_gamma(-1.0), "duration_s", "-1.0", ">= 0")
    expect_error(lambda: m.coherence_factor(math.inf), "duration_s", "inf", "finite")


def test_closed_forms():
    """gamma = 1 - e^{-t/T1}; total coherence e^{-t/T2}; pure dephasing rate
    1/T2 - 1/(2 T1), so sqrt(1 - gamma) * dephasing = e^{-t/(2T1)} e^{-t(1/T2 - 1/(2T1))} = e^{-t/T2}."""
    m = QuantumMemory(1, t1_s=10.0, t2_s=4.0)
    for t in (0.0, 0.3, 2.0, 25.0):
        gamma = m.amplitude_damping_gamma(t)
        assert gamma == pytest.approx(1 - math.exp(-t / 10.0), abs=1e-15)
        assert m.coherence_factor(t) == pytest.approx(math.exp(-t / 4.0), rel=1e-12)
        assert m.dephasing_factor(t) == pytest.approx(math.exp(-t * (1 / 4.0 - 1 / 20.0)), rel=1e-12)
        assert math.sqrt(1 - gamma) * m.dephasing_factor(t) == pytest.approx(m.coherence_factor(t), rel=1e-12)
    assert QuantumMemory(1, t1_s=3.0, t2_s=6.0).dephasing_factor(5.0) == 1.0
    perfect = QuantumMemory(1)
    assert perfect.amplitude_damping_gamma(1e6) == 0.0 and perfect.coherence_factor(1e6) == 1.0


def test_decay_is_monotonic_in_time():
    m = QuantumMemory(1, t1_s=1.0, t2_s=0.5)
    ts = [0.0, 0.01, 0.1, 1.0, 10.0]
    assert [m.amplitude_damping_gamma(t) for t in ts] == sorted(m.amplitude_damping_gamma(t) for t in ts)
    fid = [m.twirled_pauli_probabilities(t)[0] for t in ts]
    assert fid == sorted(fid, reverse=True) and fid[0] == 1.0


@pytest.mark.parametrize("t1, t2, t", [(1.0, 2.0, 0.5), (10.0, 5.0, 1.0), (math.inf, 3.0, 2.0), (2.0, 0.1, 0.7)])
def test_twirled_channel_keeps_the_bloch_contractions(t1, t2, t):
    """A Pauli channel contracts x and y by p_I + p_X - p_Y - p_Z (resp. p_I - p_X + p_Y - p_Z)
    and z by p_I - p_X - p_Y + p_Z.  The T1/T2 channel contracts x, y by e^{-t/T2} and z by e^{-t/T1}."""
    m = QuantumMemory(1, t1_s=t1, t2_s=t2)
    p_i, p_x, p_y, p_z = m.twirled_pauli_probabilities(t)
    assert all(p >= 0 for p in (p_i, p_x, p_y, p_z))
    assert p_i + p_x + p_y + p_z == pytest.approx(1.0, abs=1e-15)
    assert p_x == pytest.approx(p_y, abs=1e-15)
    assert p_i + p_x - p_y - p_z == pytest.approx(math.exp(-t / t2), rel=1e-12)
    assert p_i - p_x + p_y - p_z == pytest.approx(math.exp(-t / t2), rel=1e-12)
    assert p_i - p_x - p_y + p_z == pytest.approx(math.exp(-t / t1), rel=1e-12)


def test_twirled_p_i_is_the_one_sided_bell_fidelity():
    """Applying the T1/T2 channel E to one half of |Phi+>:
    F = (1/4) sum_ij <i|E(|i><j|)|j> = (1 + (1 - gamma) + 2 e^{-t/T2}) / 4.
    Twirling preserves this (entanglement fidelity), so it must equal p_I."""
    m = QuantumMemory(1, t1_s=10.0, t2_s=5.0)
    t = 1.0
    gamma = 1 - math.exp(-t / 10.0)
    assert m.twirled_pauli_probabilities(t)[0] == pytest.approx(
        (1 + (1 - gamma) + 2 * math.exp(-t / 5.0)) / 4, rel=1e-12)


@pytest.mark.parametrize("t_over_t1, ampdamp_one, dephase_one", [
    (0.1, 0.9518241, 0.9524187), (0.5, 0.7910331, 0.8032653), (1.0, 0.6452352, 0.6839397)])
def test_one_sided_fidelities_match_the_mem1_reference(t_over_t1, ampdamp_one, dephase_one):
    """MEM-1 (tests/validation/cases.json, printed to 7 digits): pure amplitude
    damping (T2 = 2 T1) on one qubit gives F = (2 - gamma + 2 sqrt(1 - gamma))/4 and pure
    dephasing (T1 = inf) gives (1 + e)/2."""
    amp = QuantumMemory(1, t1_s=1.0, t2_s=2.0).twirled_pauli_probabilities(t_over_t1)[0]
    deph = QuantumMemory(1, t2_s=1.0).twirled_pauli_probabilities(t_over_t1)[0]
    assert amp == pytest.approx(ampdamp_one, abs=1e-7)
    assert deph == pytest.approx(dephase_one, abs=1e-7)


def test_storage_error_and_efficiency():
    m = QuantumMemory(4, write_efficiency=0.8, read_efficiency=0.5, storage_fidelity=0.97)
    assert m.efficiency == pytest.approx(0.4)
    p = m.storage_pauli_probabilities
    assert p[0] == 0.97 and sum(p) == pytest.approx(1.0) and p[1] == p[2] == p[3]


def test_record_is_frozen_and_picklable():
    m = QuantumMemory(2, t1_s=1.0, t2_s=1.0, access_time_ps=5_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.num_qubits = 3  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(m)) == m
    assert type(m.t1_s) is float and type(m.access_time_ps) is int
