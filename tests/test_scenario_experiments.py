"""The scenario library's reproduced experiments (issue 5, items 1-7).

Each scenario runs from the command line as a user would run it and is judged from its
``summary.json``: its headline figure against the published one within the published
uncertainty (or the tolerance the scenario file states and justifies), and against the closed
form of the model evaluated at the file's own inputs, within 3 standard deviations.

Teleportation closed form (the mixture model of ``qactors.protocols.applications``): the BSM's
photons interfere with probability ``V`` (``bsm_visibility``).  Over a dephased pair of coherence
``v`` (Phi+ with probability (1 + v)/2, else Phi-), a Z input arrives with fidelity 1 and an X or
Y input with (1 + v)/2 if the photons interfered, 1/2 if not.  A herald caused by noise gives a
maximally mixed pair, and every input then arrives with fidelity 1/2.  Each teleportation's
fidelity is one of these values, so the mean and variance over N teleportations are exact.

The files fix their seeds; ``QACTORS_LIBRARY_SEED=N pytest tests/test_scenario_*.py`` reruns every
library check at seed N (seeds 2-7 all passed when these tests were written).
"""

from __future__ import annotations

import math

import pytest

H_J_S = 6.62607015e-34
C_M_S = 299_792_458.0


def teleport_moments(bsm_visibility: float, coherence: float, noise_share: float = 0.0) -> tuple[float, float]:
    """Mean and variance of one teleportation's fidelity (module doc)."""
    v, V, d = coherence, bsm_visibility, noise_share
    outcomes = [  # (probability, fidelity)
        (d, 0.5),
        ((1 - d) / 3, 1.0),                      # Z input
        ((1 - d) * 2 / 3 * V, (1 + v) / 2),      # X or Y input, photons interfered
        ((1 - d) * 2 / 3 * (1 - V), 0.5),        # X or Y input, photons distinguishable
    ]
    mean = sum(p * f for p, f in outcomes)
    return mean, sum(p * (f - mean) ** 2 for p, f in outcomes)


def within_3_sigma(simulated: float, moments: tuple[float, float], n: int) -> bool:
    mean, var = moments
    return abs(simulated - mean) <= 3 * math.sqrt(var / n)


def teleport_request(t: dict) -> tuple[dict, dict]:
    """(the link profile, the request) of a single-link teleportation scenario's tables ``t``."""
    (link,) = t["profiles"]["links"].values()
    (request,) = t["requests"]
    assert request["application"] == "teleport" and link.get("dark_count_probability", 0.0) == 0.0
    return link, request


def test_moments_of_the_mixture_model_match_the_averages_they_stand_for():
    # perfect pair: 2/3 + V/3 (the module's six-input average); no interference: 2/3; noise only: 1/2
    assert teleport_moments(0.4, 1.0)[0] == pytest.approx(2 / 3 + 0.4 / 3)
    assert teleport_moments(0.0, 0.7)[0] == pytest.approx(2 / 3)
    assert teleport_moments(0.9, 0.9, noise_share=1.0) == pytest.approx((0.5, 0.0))
    # ideal BSM over a dephased pair: TEL-1's (2F + 1)/3 with F = (1 + v)/2
    assert teleport_moments(1.0, 0.6)[0] == pytest.approx((2 * 0.8 + 1) / 3)


# -- 1. Rome: teleportation between dissimilar quantum dots over 270 m of free space -------------

def run_teleportation(name: str, tmp_path, run_cli, tables) -> tuple[dict, dict, float, tuple, int]:
    """Run a single-link teleportation scenario: (report, link profile, simulated fidelity, the
    model's moments, teleportations), after checking that every pair was served and that the
    fidelity agrees with the closed form within 3 sigma."""
    summary, _, _ = run_cli(name, tmp_path)
    report = summary["requests"]["teleport"]
    link, request = teleport_request(tables(name))
    n = request["pairs"]
    assert report["outcome"] == f"served: {n} pairs"
    moments = teleport_moments(request["bsm_visibility"], link["visibility"])
    assert within_3_sigma(report["teleport_fidelity"], moments, n)
    return report, link, report["teleport_fidelity"], moments, n


def test_qd_teleportation_over_free_space_reaches_the_published_fidelity(tmp_path, cases, run_cli, tables):
    from qactors.hardware.channels import FreeSpaceLink
    report, link, f_tel, moments, n = run_teleportation("qd-teleport-rome", tmp_path, run_cli, tables)
    exp = cases["EXP-1"]["expected"]
    assert abs(f_tel - exp["F_tel"]) <= 0.02                    # EXP-1's tolerance: 2 sigma of 0.01
    sigma = math.sqrt(moments[1] / n)
    assert (f_tel - cases["EXP-1"]["inputs"]["classical_limit"]) / sigma > 10   # "> 10 sigma above 2/3"
    # the 270 m of air and the two telescopes lose the ~0.06 dB the file's header says
    air = FreeSpaceLink(270.0, link["wavelength_nm"], link["tx_aperture_m"], link["rx_aperture_m"],
                        extinction_db_per_km=link["extinction_db_per_km"])
    assert link["channel"] == "free_space" and 0.05 < air.loss_db < 0.07


# -- 4. Caltech/Fermilab: time-bin teleportation over 22 + 22 km -----------------------------------

def test_caltech_fermilab_teleportation_is_within_the_published_range(tmp_path, run_cli, tables, cases):
    report, _, f_tel, _, _ = run_teleportation("caltech-fermilab-teleport", tmp_path, run_cli, tables)
    # docs/experiments.md, section 4: ">= 90 %" in the abstract, 0.89 +- 0.01 on average in a
    # secondary extraction of the corrected paper; cases.json EXP-6 accepts F_tel >= 0.88, and the
    # file's upper bound 0.93 is the secondary average's 3 sigma rounded up
    assert cases["EXP-6"]["tolerance"] == "F_tel >= 0.88"
    assert 0.88 <= f_tel <= 0.93
    # the pair itself is the secondary Bell-state fidelity 0.973 it was derived from
    assert report["mean_fidelity"] == pytest.approx(0.973, abs=1e-12)


# -- 5. Northwestern: teleportation beside classical traffic ---------------------------------------

def raman_noise_share(link: dict, length_km: float, power_dbm: float) -> float:
    """Share of heralds caused by Raman noise, computed here from the file's values: co-propagating
    spontaneous Raman scattering P beta d_lambda L exp(-a L) (a the fibre's attenuation in 1/km),
    as photons of h c / lambda per detection window, each clicking with the noise detection
    efficiency; a herald happens on the photon (eta) or, without it, on noise."""
    a = link["attenuation_db_per_km"] * math.log(10) / 10
    power_w = 10 ** (power_dbm / 10) * 1e-3
    scattered_w = power_w * link["raman_coefficient_per_km_per_nm"] * link["filter_bandwidth_nm"] * \
        length_km * math.exp(-a * length_km)
    photons = scattered_w / (H_J_S * C_M_S / (link["quantum_wavelength_nm"] * 1e-9)) * \
        link["detection_window_ns"] * 1e-9
    p_noise = 1 - math.exp(-link["noise_detection_efficiency"] * photons)
    eta = link["detection_efficiency"] * 10 ** (-link["attenuation_db_per_km"] * length_km / 10)
    return (1 - eta) * p_noise / (eta + (1 - eta) * p_noise)


def test_northwestern_fidelity_falls_with_launch_power_as_the_raman_model_says(tmp_path, run_cli, tables):
    name = "northwestern-raman-teleport"
    summary, run, _ = run_cli(name, tmp_path)
    t = tables(name)
    link, request = teleport_request(tables(name))
    length = t["topology"]["links"][0]["length_km"]
    points = summary["sweep"]["points"]
    assert [p["value"] for p in points] == t["sweep"]["values"] and len(run["points"]) == len(points)
    n = request["pairs"]
    simulated, expected = [], []
    for point in points:
        report = point["requests"]["teleport"]
        assert report["outcome"] == f"served: {n} pairs", point["value"]
        moments = teleport_moments(request["bsm_visibility"], link["visibility"],
                                   raman_noise_share(link, length, point["value"]))
        assert within_3_sigma(report["teleport_fidelity"], moments, n), point["value"]
        simulated.append(report["teleport_fidelity"])
        expected.append(moments)
    means = [m for m, _ in expected]
    assert means == sorted(means, reverse=True) and means[0] - means[-1] > 0.1
    # the simulated drop from traffic off to 21 dBm is many standard deviations
    sigma = math.sqrt(expected[0][1] / n + expected[-1][1] / n)
    assert simulated[0] - simulated[-1] > 10 * sigma
    # the published "fidelity well maintained at 18.7 dBm": the model keeps it above 2/3 by more
    # than 3 sigma of the estimate, and the simulation is above 2/3
    at = t["sweep"]["values"].index(18.7)
    assert expected[at][0] - 2 / 3 > 3 * math.sqrt(expected[at][1] / n) and simulated[at] > 2 / 3


# -- 6. Beijing - Shanghai: trusted-relay QKD backbone ---------------------------------------------

def test_beijing_shanghai_key_rate_is_the_weakest_hops(tmp_path, run_cli, tables):
    from qactors.hardware.channels import Fibre
    from qactors.protocols.qkd import GYS, decoy_link_rate_bps
    name = "beijing-shanghai-qkd"
    summary, run, rows = run_cli(name, tmp_path)
    t = tables(name)
    (request,) = t["key_requests"]
    report = summary["key_requests"][request["id"]]
    links = t["topology"]["links"]
    # the published structure: Beijing to Shanghai through 32 trusted relays, more than 2000 km
    assert len(report["path"]) - 2 == 32 and report["path"][0] == "Beijing" and report["path"][-1] == "Shanghai"
    assert sum(link["length_km"] for link in links) > 2000
    assert report["complete"] and report["keys_match"] and len(rows) == request["count"]
    # every hop's rate is the decoy-state closed form at its length (GYS settings, the file's loss)
    (profile,) = t["profiles"]["links"].values()
    expected = [decoy_link_rate_bps(Fibre(km, attenuation_db_per_km=profile["attenuation_db_per_km"]), GYS)
                for km in report["hop_lengths_km"]]
    assert report["hop_rates_bps"] == pytest.approx(expected, rel=1e-12)
    r = min(expected)
    assert report["weakest_rate_bps"] == pytest.approx(r, rel=1e-12)
    # limited by the weakest hop: N B / (N B / r + tick + D) <= delivered rate <= r (the file's header)
    total_bits = request["count"] * request["bits"]
    delay_s = sum(report["hop_lengths_km"]) * 1.47 / 299_792.458
    tick_s = t["run"]["key_tick_ms"] / 1e3
    low = total_bits / (total_bits / r + tick_s + delay_s)
    assert low <= report["delivered_rate_bps"] <= r
    assert report["bits_delivered"] == total_bits and low / r > 0.99


# -- 3. Micius: entanglement distribution from a satellite, CHSH ------------------------------------

def test_micius_chsh_value_matches_the_published_one(tmp_path, run_cli, tables, cases):
    from qactors.hardware.channels import SatelliteDownlink, dual_downlink
    from qactors.protocols.link import GOOD, BAD, DARK, MidpointSourcePhysics
    name = "micius-entanglement"
    summary, _, _ = run_cli(name, tmp_path)
    t = tables(name)
    (link,) = t["profiles"]["links"].values()
    (request,) = t["requests"]
    report = summary["requests"][request["id"]]
    assert report["outcome"] == f"served: {request['pairs']} pairs"
    # the geometry and loss against the published ranges
    downs = [SatelliteDownlink(link["altitude_km"], e, link["wavelength_nm"], link["tx_aperture_m"], r,
                               divergence_urad=link["divergence_urad"])
             for e, r in zip(link["elevation_deg"], link["rx_aperture_m"])]
    assert 1600 <= sum(d.slant_range_km for d in downs) <= 2400                     # confirmed
    two_photon_db = dual_downlink(*downs).loss_db - 20 * math.log10(link["detection_efficiency"])
    assert 64 <= two_photon_db <= 82                                                # secondary
    # S expected from the heralded pairs' mixture: for a Bell-diagonal pair (p_I, p_X, p_Y, p_Z) the
    # E91 settings give E(a, b) = cos a cos b <ZZ> + sin a sin b <XX>
    physics = MidpointSourcePhysics(
        eta_arm=link["detection_efficiency"] * math.sqrt(dual_downlink(*downs).transmissivity),
        mean_photon_number=link["mean_photon_number"], visibility=link["visibility"],
        dark_count_probability=link["dark_count_probability"])
    weights = dict(zip((GOOD, BAD, DARK), physics.kind_probabilities()))
    total = sum(weights.values())
    zz = xx = 0.0
    for kind, w in weights.items():
        p_i, p_x, p_y, p_z = physics.state(kind)
        zz += w / total * (p_i - p_x - p_y + p_z)
        xx += w / total * (p_i + p_x - p_y - p_z)
    terms = [(0, math.pi / 4, 1), (0, 3 * math.pi / 4, -1), (math.pi / 2, math.pi / 4, 1),
             (math.pi / 2, 3 * math.pi / 4, 1)]  # Alice Z, X against Bob D, A (applications module doc)
    e = [math.cos(a) * math.cos(b) * zz + math.sin(a) * math.sin(b) * xx for a, b, _ in terms]
    s_expected = sum(sign * x for (_, _, sign), x in zip(terms, e))
    per_term = request["pairs"] / 9                                                 # each setting pair 1 in 9
    sigma = math.sqrt(sum((1 - x * x) / per_term for x in e))
    s = report["key"]["chsh"]
    assert abs(s - s_expected) <= 3 * sigma
    exp = cases["EXP-5"]["expected"]
    assert abs(s - exp["S"]) <= 2 * exp["S_err"]                                    # 2.37 +- 0.18
    assert s > 2 + 3 * sigma                                                        # a Bell violation
    # the pairs' mean fidelity is the secondary 0.87 the source visibility was derived from
    assert report["mean_fidelity"] == pytest.approx(0.87, abs=0.01)


# -- 2. QuTech: three NV nodes, entanglement swapping at Bob ----------------------------------------

def _compose(a: list[float], b: list[float]) -> list[float]:
    """Bell-diagonal coefficients (I, X, Y, Z) of two Pauli frames composed (a swap's outcome frame,
    or a Pauli error applied to a pair): frames multiply as the bits (x, z) XOR, up to phase."""
    bits = {0: (0, 0), 1: (1, 0), 2: (1, 1), 3: (0, 1)}
    index = {v: k for k, v in bits.items()}
    out = [0.0] * 4
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            out[index[(bits[i][0] ^ bits[j][0], bits[i][1] ^ bits[j][1])]] += p * q
    return out


def test_qutech_three_node_swap_fidelity(tmp_path, run_cli, tables):
    from qactors.protocols.link import LinkPhysics
    name = "qutech-three-node"
    summary, _, rows = run_cli(name, tmp_path)
    t = tables(name)
    (request,) = t["requests"]
    report = summary["requests"]["swap"]
    assert report["outcome"] == f"served: {request['pairs']} pairs"
    fids = [float(r["fidelity"]) for r in rows if r["end"] == request["dest"]]
    n = len(fids)
    mean = sum(fids) / n
    sigma = math.sqrt(sum((f - mean) ** 2 for f in fids) / (n - 1) / n)
    assert report["mean_fidelity"] == pytest.approx(mean)
    # the model's closed form: each link's heralded mixture (the link library's single-click states),
    # the waiting pair's Bob qubit (and its far end) dephasing for a wait that is exponential with the
    # other link's rate, truncated at the cut-off, then a Bell-diagonal swap
    nodes = t["profiles"]["nodes"]
    kappa = 1 / nodes["nv-13c-memory"]["t2_s"] + 1 / nodes["nv-electron"]["t2_s"]  # dephasing rates add
    cutoff = request["cutoff_ms"] / 1e3
    links, rates = [], []
    for profile in ("alice-bob", "bob-charlie"):
        p = t["profiles"]["links"][profile]
        eta = p["detection_efficiency"] * 10 ** (-0.2 * 0.015 / 10)  # 15 m to the midpoint at 0.2 dB/km
        physics = LinkPhysics("single_click", eta_arm=eta, bright_state_population=p["bright_state_population"],
                              visibility=p["visibility"])
        weights = physics.kind_probabilities()
        total = sum(weights)
        links.append([sum(w / total * physics.state(k)[i] for k, w in zip((1, 2, 3), weights)) for i in range(4)])
        rates.append(total / (p["cycle_ns"] * 1e-9))       # success probability per cycle
    expected, norm = 0.0, 0.0
    for waiting, other in ((0, 1), (1, 0)):
        lam = rates[other]
        share = rates[waiting] / sum(rates) * (1 - math.exp(-lam * cutoff))   # this link stored, other in time
        g = lam / (lam + kappa) * (1 - math.exp(-(lam + kappa) * cutoff)) / (1 - math.exp(-lam * cutoff))
        q = (1 - g) / 2                                    # a Z error with this probability
        decayed = _compose(links[waiting], [1 - q, 0.0, 0.0, q])
        expected += share * _compose(decayed, links[other])[0]
        norm += share
    expected /= norm
    assert abs(mean - expected) <= 3 * sigma
    # the secondary published value, with the tolerance the file states
    assert abs(mean - 0.551) <= 0.05
    # the links themselves are the secondary 0.8 the visibility was derived from
    assert all(l[0] == pytest.approx(0.8, abs=0.002) for l in links)


# -- 7. Imperial: quantum-dot photons stored in a hot-rubidium ORCA memory ---------------------------

def test_imperial_memory_efficiency_and_snr_match_the_published_ones(tmp_path, run_cli, tables, cases):
    """Internal efficiency and SNR of the storage measurement against the closed forms at the
    file's inputs (3 sigma of the counting statistics) and the published 12.9 +- 0.4 % and
    18.2 +- 0.6 (2 sigma of the published and simulated uncertainties combined, EXP-11's tolerance).

    Closed form, written out from the physics rather than taken from the storage module: the
    memory returns a photon with ``eta = eta_0 exp(-(t/tau)^2) B / (B + G)`` (Doppler-limited decay,
    share of a Lorentzian photon of FWHM G in a Lorentzian acceptance of FWHM B); per read-out
    window a retrieved photon clicks with ``b T eta e`` and darkness with ``d = 1 - exp(-R w)``, so
    the background-subtracted ratio estimates ``eta`` and the SNR is ``b T eta e / d``."""
    name = "imperial-qd-memory"
    summary, _, rows = run_cli(name, tmp_path)
    t = tables(name)
    qd, mem = t["profiles"]["nodes"]["quantum-dot"], t["profiles"]["nodes"]["orca-memory"]
    (request,) = t["storage_requests"]
    (link,) = t["topology"]["links"]
    report = summary["storage_requests"][request["id"]]
    assert report["complete"]
    eta = (mem["memory_efficiency"] * math.exp(-(request["storage_ns"] / mem["memory_lifetime_ns"]) ** 2)
           * mem["memory_bandwidth_ghz"] / (mem["memory_bandwidth_ghz"] + qd["photon_linewidth_ghz"]))
    transmissivity = 10 ** (-t["profiles"]["links"]["lab-fibre"]["attenuation_db_per_km"] * link["length_km"] / 10)
    dark = 1 - math.exp(-mem["dark_count_rate_hz"] * mem["detection_window_ns"] * 1e-9)
    signal = qd["photon_probability"] * transmissivity * eta * mem["detection_efficiency"]
    n = request["pulses"]
    # every phase's clicks against its click probability (binomial, 3 sigma)
    probability = {"input": 1 - (1 - signal / eta) * (1 - dark), "input_background": dark,
                   "retrieved": 1 - (1 - signal) * (1 - dark), "retrieved_background": dark}
    counts = {row["phase"]: int(row["clicks"]) for row in rows}
    assert {row["phase"]: int(row["windows"]) for row in rows} == dict.fromkeys(probability, n)
    for phase, p in probability.items():
        assert abs(counts[phase] - n * p) <= 3 * math.sqrt(n * p * (1 - p)), phase
    assert counts == report["counts"]
    # the headline figures against the closed forms ...
    eff, eff_sd = report["internal_efficiency"], report["internal_efficiency_sd"]
    snr, snr_sd = report["signal_to_noise"], report["signal_to_noise_sd"]
    assert abs(eff - eta) <= 3 * eff_sd and eff_sd < 0.002
    assert abs(snr - signal / dark) <= 3 * snr_sd
    # ... and against the published ones
    exp = cases["EXP-11"]["expected"]
    assert abs(eff - exp["internal_memory_efficiency"]) <= 2 * math.hypot(exp["eff_err"], eff_sd)   # 0.129 +- 0.004
    assert abs(snr - exp["SNR"]) <= 2 * math.hypot(exp["SNR_err"], snr_sd)                          # 18.2 +- 0.6
    # the memory alone, with laser pulses at zero delay, is the memory paper's 20.90 %
    assert mem["memory_efficiency"] == pytest.approx(exp["related_memory_arXiv2211.04415"]["total_efficiency"],
                                                     abs=5e-4)
    assert mem["memory_lifetime_ns"] == exp["related_memory_arXiv2211.04415"]["storage_time_ns"]
