"""Swap-asap repeater chains on actors: REP-1 by simulation, fidelity composition,
message orders at the end nodes, and determinism across backends."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qactors
from qactors.hardware import QuantumMemory
from qactors.protocols.link import (GOOD, Herald, LinkPhysics, LinkSide, MidpointSourcePhysics, Ready,
                                    SenderReceiverPhysics)
from qactors.protocols.swapping import ChainNode, EndTracker, Joined, SwapRecord, repeater_chain
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord, chain_record
from qactors.testing import ActorProbe


def physics_with_p(p: float, visibility: float = 1.0) -> LinkPhysics:
    return LinkPhysics("double_click", eta_arm=math.sqrt(2 * p), visibility=visibility)  # p = eta^2 / 2


def run_chain(nodes, physics, pairs, a=1.0, seed=2, backend="local", memory=None, model="geometric"):
    net = repeater_chain(nodes, 10, physics, model=model, swap_success_probability=a, max_pairs=pairs,
                         memory=memory)
    return qactors.run(net, until_ps=2**62, seed=seed, backend=backend)


@pytest.mark.parametrize("key", ["p=0.1,a=1.0", "p=0.1,a=0.5", "p=0.01,a=1.0", "p=0.01,a=0.5"])
def test_rep_1_two_segment_delivery_time_by_simulation(cases, key):
    exp = cases["REP-1"]["expected"][key]
    p, a = (float(kv.split("=")[1]) for kv in key.split(","))
    pairs = 2000
    result = run_chain(3, physics_with_p(p), pairs, a=a)
    deliveries = result.states["N0"]["deliveries"]
    assert len(deliveries) == pairs == len(result.states["N2"]["deliveries"])
    # the repeater reports the attempts spent since its previous successful swap: REP-1's T
    t = np.array([d[2][0] for d in deliveries])
    assert abs(t.mean() - exp["E_T"]) < 3 * exp["SD_T"] / math.sqrt(pairs)
    assert result.states["N1"]["failed_swaps"] == result.states["N0"]["discarded"] == result.states["N2"]["discarded"]
    if a < 1:
        assert abs(result.states["N1"]["failed_swaps"] / result.states["N1"]["swaps"] - (1 - a)) < \
            3 * math.sqrt(a * (1 - a) / result.states["N1"]["swaps"])


@pytest.mark.parametrize("nodes", [2, 3, 5])
def test_dephased_links_compose_along_the_chain(nodes):
    """Each link carries a Z error with probability (1-V)/2 (coherence V); swaps multiply
    coherences, so with perfect memories the end-to-end fidelity is (1 + V^n)/2 for n links."""
    v = 0.9
    result = run_chain(nodes, physics_with_p(0.2, visibility=v), pairs=50)
    expected = (1 + v ** (nodes - 1)) / 2
    for end in ("N0", f"N{nodes - 1}"):
        fids = [d[1] for d in result.states[end]["deliveries"]]
        assert len(fids) == 50 and max(abs(f - expected) for f in fids) < 1e-12


def test_memory_decoherence_lowers_end_to_end_fidelity_consistently():
    noisy = run_chain(4, physics_with_p(0.05), pairs=100, memory=QuantumMemory(2, t1_s=1e-3, t2_s=5e-4))
    ideal = run_chain(4, physics_with_p(0.05), pairs=100)
    f_noisy = [d[1] for d in noisy.states["N0"]["deliveries"]]
    assert all(d[1] == pytest.approx(1.0) for d in ideal.states["N0"]["deliveries"])
    assert len(f_noisy) == 100 and max(f_noisy) < 1.0 and min(f_noisy) >= 0.25 - 1e-12
    # both ends rebuilt the same pairs from the same swaps
    first, last = noisy.states["N0"]["deliveries"], noisy.states["N3"]["deliveries"]
    assert [d[2] for d in first] == [d[2] for d in last]


def test_end_nodes_forget_records_of_chains_that_died():
    result = run_chain(6, physics_with_p(0.3), pairs=100, a=0.5, seed=11)
    for end in ("N0", "N5"):
        state = result.states[end]
        assert len(state["deliveries"]) == 100 and state["discarded"] > 50
        # at most one pending record per repeater can still be useful
        tracker = state["tracker"]
        assert len(tracker.records) <= 4 and sum(map(len, tracker.arrivals.values())) <= 4


@pytest.mark.ray
def test_chain_runs_identically_on_two_ray_shards(ray_session):
    physics = LinkPhysics("single_click", eta_arm=0.4, bright_state_population=0.1, dark_count_probability=0.01)
    local = run_chain(4, physics, 40, a=0.5, model="attempts", seed=5)
    remote = run_chain(4, physics, 40, a=0.5, model="attempts", seed=5, backend="ray:2")
    assert remote.digest == local.digest and remote.states == local.states


# -- message orders at an end node ----------------------------------------------------

NOISE = MemoryNoise()
PHYS = LinkPhysics("double_click", eta_arm=1.0)


def pair(pid, a, b, t=0, coefficients=(1.0, 0.0, 0.0, 0.0)):
    return PairRecord(pid, coefficients, t, PairEnd(a, NOISE, t), PairEnd(b, NOISE, t))


def first_end():
    side = LinkSide("N0-N1", "N0-N1/station", PHYS, 100, NOISE)
    probe = ActorProbe(ChainNode("N0", [side], ("N0", "N3"), {"N0": 1, "N3": 600}),
                       peers=["N0-N1/station", "N1", "N2", "N3"])
    probe.start()
    return probe


def test_records_arriving_in_any_order_join_up_once_complete():
    end = first_end()
    p01, p12, p23 = pair("a", "N0", "N1"), pair("b", "N1", "N2", coefficients=(0.9, 0.0, 0.0, 0.1)), \
        pair("c", "N2", "N3")
    # the far repeater's record arrives first, before our own pair is even heralded
    assert end.deliver(SwapRecord("N2", 50, True, p12, p23, 3), "N2", 300) == []
    assert end.deliver(Herald("N0-N1", 0, 1, GOOD, p01), "N0-N1/station", 320) == []
    sent = end.deliver(SwapRecord("N1", 40, True, p01, p12, 5), "N1", 400)
    assert [type(x.msg) for x in sent] == [Ready]                       # used, slot offered again
    assert end.actor.deliveries == [(400, pytest.approx(0.9), (5, 3), pytest.approx((0.9, 0.0, 0.0, 0.1)))]
    assert end.actor.tracker.records == {}
    # the same record again changes nothing
    assert end.deliver(SwapRecord("N1", 40, True, p01, p12, 5), "N1", 410) == []
    assert len(end.actor.deliveries) == 1


def test_a_failed_swap_anywhere_discards_the_pair_and_the_rest_of_that_chain():
    end = first_end()
    p01, p12, p23 = pair("a", "N0", "N1"), pair("b", "N1", "N2"), pair("c", "N2", "N3")
    end.deliver(Herald("N0-N1", 0, 1, GOOD, p01), "N0-N1/station", 100)
    end.deliver(SwapRecord("N2", 50, True, p12, p23, 3), "N2", 200)
    sent = end.deliver(SwapRecord("N1", 60, False, p01, p12, 0), "N1", 300)
    assert [type(x.msg) for x in sent] == [Ready]
    assert end.actor.deliveries == [] and end.actor.discarded == 1 and end.actor.tracker.records == {}


def test_bad_chain_settings():
    with pytest.raises(qactors.ConfigurationError, match="repeater_chain needs nodes >= 2"):
        repeater_chain(1, 10, PHYS)
    with pytest.raises(qactors.ConfigurationError, match="swap_success_probability = 0 is not allowed"):
        repeater_chain(3, 10, PHYS, swap_success_probability=0)


def test_chains_of_midpoint_source_and_sender_receiver_links():
    """Perfect memories and swaps: the end-to-end coherence is the product of the links'."""
    for physics, coherence in ((MidpointSourcePhysics(eta_arm=0.5, visibility=0.9), 0.9),
                               (SenderReceiverPhysics(eta_link=0.3, visibility=0.8), 0.8)):
        result = qactors.run(repeater_chain(4, 10, physics, max_pairs=30), until_ps=10 ** 13, seed=1)
        deliveries = result.states["N0"]["deliveries"]
        assert len(deliveries) == 30 and len(result.states["N3"]["deliveries"]) == 30
        assert all(d[1] == pytest.approx((1 + coherence ** 3) / 2) for d in deliveries)


# -- joining, against a walk from scratch ----------------------------------------------------

class Rewalk(EndTracker):
    """The reference: every walk follows the records from the end's own pair afresh."""

    def walk(self, pair):
        links, times, attempts, walked = [pair], [], [], []
        current = pair
        while (current.b.node if self.first else current.a.node) != self.far:
            record = self.records.get(current.pair_id)
            if record is None:
                if current.pair_id not in self.dead:
                    return None
                self.dead.discard(current.pair_id)
                self._forget(walked, None)
                return Joined(True, None, 0, ())
            walked.append(current.pair_id)
            if not record.success:
                self._forget(walked, record)
                return Joined(True, None, record.time_ps, ())
            current = record.right if self.first else record.left
            links.append(current)
            times.append(record.time_ps)
            attempts.append(record.attempts)
        if not self.first:
            links, times, attempts = links[::-1], times[::-1], attempts[::-1]
        self._forget(walked, None)
        pair_id = links[0].pair_id if len(links) == 1 else f"{links[0].pair_id}..{links[-1].pair_id}"
        return Joined(False, chain_record(pair_id, links, times), max(times, default=pair.ref_ps), tuple(attempts))


def shuffled_swaps(rng, repeaters, per_link, p_fail, p_discard, p_bad):
    """Records and discard notices of a chain ``N0 .. N{repeaters + 1}``, every link with ``per_link``
    pairs: each repeater swaps random pairs of its two links (failing with ``p_fail``) or drops some
    (``p_discard``; both ends are told, the partner's notice maybe too); with ``p_bad`` a record names a
    right pair another record already used.  Returns the pairs of both end links and the events in a
    random order, some twice."""
    links = [[pair(f"L{i}.{k}", f"N{i}", f"N{i + 1}", t=k) for k in range(per_link)] for i in range(repeaters + 1)]
    events = []
    for j in range(1, repeaters + 1):
        lefts, rights = list(links[j - 1]), list(links[j])
        rng.shuffle(lefts)
        rng.shuffle(rights)
        used = []
        for left, right in zip(lefts, rights):
            if rng.random() < p_discard:
                for dropped in (left, right) if rng.random() < 0.5 else (left,):
                    events.append(("discard", dropped, f"N{j}"))
                    if rng.random() < 0.5:  # the partner held it still, and drops it too
                        partner = dropped.a.node if dropped.b.node == f"N{j}" else dropped.b.node
                        events.append(("discard", dropped, partner))
                continue
            if used and rng.random() < p_bad:
                right = used[int(rng.integers(len(used)))]
            used.append(right)
            time_ps = int(rng.integers(1000))
            events.append(("record", SwapRecord(f"N{j}", time_ps, bool(rng.random() >= p_fail), left, right,
                                                int(rng.integers(1, 9)))))
    events += [events[i] for i in rng.integers(len(events), size=len(events) // 8)]
    rng.shuffle(events)
    return links[0], links[-1], events


@pytest.mark.parametrize("in_order", [True, False])
@pytest.mark.parametrize("case", range(40))
def test_kept_walks_join_exactly_as_walks_from_scratch(case, in_order):
    """An end resumes each walk where its records stopped; in any order of records, discard notices and
    duplicates its verdicts and what it keeps and forgets are those of walking afresh every time."""
    rng = np.random.default_rng(case)
    repeaters = int(rng.integers(1, 7))
    per_link = int(rng.integers(1, 6))
    p_fail, p_discard, p_bad = rng.choice([0.0, 0.2, 0.5]), rng.choice([0.0, 0.1, 0.3]), rng.choice([0.0, 0.0, 0.2])
    first_pairs, last_pairs, events = shuffled_swaps(rng, repeaters, per_link, p_fail, p_discard, p_bad)
    far = f"N{repeaters + 1}"
    for first, own in ((True, first_pairs), (False, last_pairs)):
        me, other = ("N0", far) if first else (far, "N0")
        kept, fresh = EndTracker(me, other, first, in_order), Rewalk(me, other, first, in_order)
        held = list(own)
        verdicts = 0
        for event in events:
            if event[0] == "record":
                assert kept.add(event[1]) == fresh.add(event[1])
            else:
                kept.discarded(*event[1:])
                fresh.discarded(*event[1:])
            for p in list(held):
                got, want = kept.walk(p), fresh.walk(p)
                assert got == want, (case, first, p.pair_id)
                if want is not None:
                    held.remove(p)
                    verdicts += 1
            assert (kept.records, kept.arrivals, kept.dead, kept.gone) == \
                (fresh.records, fresh.arrivals, fresh.dead, fresh.gone)
            # what a kept walk passed is still there to pass
            assert all(key in kept.records for walk in kept.walks.values() for key in walk.walked)
        if p_fail == p_discard == p_bad == 0.0 and not in_order:
            assert verdicts == len(own)  # every chain completes (in order, records out of order may be lost)
