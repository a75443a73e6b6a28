"""Photon storage: a single-photon source, fibre, an absorptive memory and its detector.

The counts of each phase are checked against the click probabilities of the module's
closed form (binomial, 4 sigma), and the two figures a memory experiment reports, the
internal efficiency and the signal-to-noise ratio, against their closed forms."""

from __future__ import annotations

import math

import networkx as nx
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.core.time import MS, NS, S
from qactors.hardware import AbsorptiveMemory, Detector, Fibre
from qactors.protocols.storage import (PHASES, PhotonBlock, StorageJob, StorageNode, StorageRequest, storage_expected,
                                       storage_network, storage_report)
from qactors.testing import ActorProbe

RATE_HZ = 80e6


def graph(memory, detector, *, brightness=0.02, linewidth_ghz=0.5, length_km=2.0, window_ps=2 * NS):
    g = nx.Graph()
    g.add_node("QD", brightness=brightness, repetition_rate_hz=RATE_HZ, linewidth_ghz=linewidth_ghz)
    g.add_node("relay")  # photons pass through it
    g.add_node("M", memory=memory, detector=detector, window_ps=window_ps)
    g.add_edge("QD", "relay", length_km=length_km / 2)
    g.add_edge("relay", "M", length_km=length_km / 2)
    return g


def run(g, request, seed=1, backend="local"):
    until = request.start_ps + 4 * request.pulses * round(S / RATE_HZ) + MS
    return qactors.run(storage_network(g, [request]), until_ps=until, seed=seed, backend=backend)


def expected(g, request):
    mem, det = g.nodes["M"]["memory"], g.nodes["M"]["detector"]
    eta = mem.retrieval_probability(request.storage_ps / S, g.nodes["QD"]["linewidth_ghz"])
    return storage_expected(brightness=g.nodes["QD"]["brightness"], transmissivity=Fibre(2.0).transmissivity,
                            retrieval=eta, detector=det, window_ps=g.nodes["M"]["window_ps"],
                            noise_photons=mem.noise_photons), eta


@pytest.mark.parametrize("noise_photons, dark_hz", [(0.0, 0.0), (0.0, 2e5), (0.02, 1e5)])
def test_counts_efficiency_and_snr_match_the_closed_form(noise_photons, dark_hz):
    mem = AbsorptiveMemory(0.25, lifetime_s=1.1e-9, decay="gaussian", bandwidth_ghz=1.5, noise_photons=noise_photons)
    g = graph(mem, Detector(efficiency=0.7, dark_count_rate_hz=dark_hz))
    request = StorageRequest("r", "QD", "M", pulses=30_000_000, storage_ps=600, start_ps=MS)
    rep = storage_report(run(g, request).states, request)
    want, eta = expected(g, request)
    assert rep["complete"] and rep["windows"] == dict.fromkeys(PHASES, request.pulses)
    for phase, p in want["click_probability"].items():
        n = request.pulses
        assert abs(rep["counts"][phase] - n * p) <= 4 * math.sqrt(n * p * (1 - p)) + 1, phase
    # noise-free: the estimate is the memory's retrieval probability itself; with noise, eta exp(-n e)
    assert want["internal_efficiency"] == pytest.approx(eta * math.exp(-noise_photons * 0.7), rel=1e-9)
    assert abs(rep["internal_efficiency"] - want["internal_efficiency"]) <= 4 * rep["internal_efficiency_sd"]
    assert rep["internal_efficiency_sd"] < 0.02 * want["internal_efficiency"]  # enough photons to tell
    if noise_photons or dark_hz:
        assert abs(rep["signal_to_noise"] - want["signal_to_noise"]) <= 4 * rep["signal_to_noise_sd"]
    else:
        assert math.isnan(rep["signal_to_noise"]) and rep["counts"]["retrieved_background"] == 0
    assert rep["photons_retrieved"] <= rep["photons_stored"]


def test_efficiency_falls_with_storage_time_as_the_memory_decays():
    mem = AbsorptiveMemory(0.3, lifetime_s=1.0e-9, decay="gaussian")
    g = graph(mem, Detector(efficiency=0.9), linewidth_ghz=0.0, brightness=0.05)
    found = []
    for storage_ps in (200, 1000, 2000):
        request = StorageRequest("r", "QD", "M", pulses=8_000_000, storage_ps=storage_ps)
        rep = storage_report(run(g, request).states, request)
        want = 0.3 * math.exp(-(storage_ps / 1000) ** 2)
        assert abs(rep["internal_efficiency"] - want) <= 4 * rep["internal_efficiency_sd"]
        found.append(rep["internal_efficiency"])
    assert found[0] > found[1] > found[2]


def test_same_seed_same_run_and_seeds_differ():
    g = graph(AbsorptiveMemory(0.2, 1e-9), Detector(0.8, 1e5))
    request = StorageRequest("r", "QD", "M", pulses=2_000_000, storage_ps=500)
    a, b, c = run(g, request, seed=5), run(g, request, seed=5), run(g, request, seed=6)
    assert a.digest == b.digest and a.states == b.states
    assert c.digest != a.digest


def test_a_run_cut_short_says_so():
    g = graph(AbsorptiveMemory(0.2, 1e-9), Detector(0.8))
    request = StorageRequest("r", "QD", "M", pulses=4_000_000, storage_ps=500)
    result = qactors.run(storage_network(g, [request]), until_ps=60 * 10 ** 9, seed=1)
    rep = storage_report(result.states, request)
    assert not rep["complete"] and rep["windows"]["retrieved_background"] == 0


def test_network_errors_name_the_problem():
    g = graph(AbsorptiveMemory(0.2, 1e-9), Detector(0.8))
    with pytest.raises(ConfigurationError, match="storage_ps = 12500 is not allowed; allowed: less than the "
                                                 "source's trigger period, 12500 ps"):
        storage_network(g, [StorageRequest("r", "QD", "M", pulses=10, storage_ps=12_500)])
    with pytest.raises(ConfigurationError, match="node 'relay' has no memory, detector, window_ps"):
        storage_network(g, [StorageRequest("r", "QD", "relay", pulses=10, storage_ps=100)])
    with pytest.raises(ConfigurationError, match="node 'M' has no brightness, repetition_rate_hz"):
        storage_network(g, [StorageRequest("r", "M", "QD", pulses=10, storage_ps=100)])
    with pytest.raises(ConfigurationError, match="the id is used twice"):
        storage_network(g, [StorageRequest("r", "QD", "M", 10, 100)] * 2)
    g.add_node("island")
    with pytest.raises(ConfigurationError, match="'island' is not connected to 'QD'"):
        storage_network(g, [StorageRequest("r", "QD", "island", 10, 100)])
    with pytest.raises(ConfigurationError, match="StorageRequest.pulses = 0 is not allowed"):
        StorageRequest("r", "QD", "M", pulses=0, storage_ps=100)


def test_memory_node_ignores_foreign_repeated_and_malformed_blocks():
    request = StorageRequest("r", "QD", "M", pulses=100, storage_ps=500)
    job = StorageJob(request, period_ps=12_500, delay_ps=1000, transmissivity=1.0)
    node = StorageNode("M", memory=AbsorptiveMemory(1.0), detector=Detector(1.0), window_ps=1000, jobs=[job])
    probe = ActorProbe(node, peers=["QD", "X"])
    probe.start()
    good = PhotonBlock("r", 0, 0, bytes(4) + (7).to_bytes(4, "little"))
    assert probe.deliver(good, sender="QD", at_ps=2000) == [] and node.counts["r"][0] == 2
    for msg, sender in ((good, "QD"),  # a repeat
                        (PhotonBlock("r", 1, 0, b""), "X"),  # from another node
                        (PhotonBlock("other", 0, 0, b""), "QD"),  # an unknown request
                        (PhotonBlock("r", 2, 0, b""), "QD"),  # a phase in which the source is blocked
                        (PhotonBlock("r", 1, 0, b"\x01"), "QD"),  # not whole uint32 indices
                        (PhotonBlock("r", 1, 0, (100).to_bytes(4, "little")), "QD"),  # past the block
                        (PhotonBlock("r", 1, 0, bytes(8)), "QD")):  # not increasing
        assert probe.deliver(msg, sender=sender, at_ps=3000) == []
    assert node.ignored == 7 and node.counts["r"][0] == 2 and node.stored["r"] == 0
    sent = probe.deliver(PhotonBlock("r", 1, 0, bytes(4)), sender="QD", at_ps=4000)
    assert len(sent) == 1 and sent[0].delay_ps == 500 and node.stored["r"] == 1
