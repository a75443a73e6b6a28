"""The core guarantee: same network and seed give bit-identical results on every
backend and shard count (DESIGN section 2)."""

import pytest

import qactors
from qactors import RayBackend
from qactors.core import MS, US, Network
from qactors.demo import Relay, ping_ring, summarise_ping_ring

pytestmark = pytest.mark.ray

UNTIL = 10 * MS


@pytest.fixture(scope="module")
def network():
    return ping_ring(10, far_peers=2)


@pytest.fixture(scope="module")
def reference(network):
    return qactors.run(network, until_ps=UNTIL, seed=11)


def test_reference_run_is_nontrivial(reference):
    s = summarise_ping_ring(reference.states)
    assert reference.events > 1000
    assert s["pongs_received"] > 100 and s["memory_write_timeouts"] > 0
    # both ends drew every shared coin identically, without talking
    assert s["shared_coins_agreeing"] == s["shared_coins_compared"] == s["pongs_received"]


@pytest.mark.parametrize("backend", ["ray:1", "ray:2", RayBackend(shards=4, num_cpus_per_shard=0.5),
                                     RayBackend(shards=3, num_cpus_per_shard=0.6, sync="links")])
def test_partitioned_ray_matches_local(ray_session, network, reference, backend):
    result = qactors.run(network, until_ps=UNTIL, seed=11, backend=backend)
    assert result.digest == reference.digest
    assert result.states == reference.states
    assert result.events == reference.events
    if result.shards > 1:
        assert result.stats["cross_shard_messages"] > 0 and result.windows > 10


def test_compiled_graph_transport_matches_local_too(ray_session, network, reference):
    result = qactors.run(network, until_ps=UNTIL, seed=11, backend=RayBackend(shards=3, compiled=True, num_cpus_per_shard=0.6))
    assert result.digest == reference.digest and result.states == reference.states


def test_idle_shards_sit_windows_out_with_ordinary_calls(ray_session):
    net = Network()  # one token on a ring of 8: only the shard holding it has work
    for i in range(8):
        net.add_actor(Relay(f"r{i}", f"r{(i + 1) % 8}", 10 * US, tokens=1 if i == 0 else 0))
    for i in range(8):
        net.connect(f"r{i}", f"r{(i + 1) % 8}", latency_ps=10 * US)
    local = qactors.run(net, until_ps=1 * MS, seed=0)
    for compiled in (False, True):
        result = qactors.run(net, until_ps=1 * MS, seed=0, backend=RayBackend(shards=2, compiled=compiled, sync="driver"))
        assert result.digest == local.digest and result.events == 99
        calls_per_window = result.stats["shard_calls"] / result.windows
        assert calls_per_window == (2 if compiled else 1)  # the compiled graph always calls every shard


def test_per_actor_ray_matches_local(ray_session):
    net = ping_ring(3, far_peers=1)  # 6 logical actors, 6 Ray actors
    local = qactors.run(net, until_ps=1 * MS, seed=4)
    per_actor = qactors.run(net, until_ps=1 * MS, seed=4, backend="ray-per-actor")
    assert per_actor.shards == 6
    assert per_actor.lookahead_ps == 500_000  # the memory access time, the shortest link
    assert per_actor.digest == local.digest and per_actor.states == local.states


def test_different_seed_gives_a_different_digest_on_ray_too(ray_session, network, reference):
    other = qactors.run(network, until_ps=UNTIL, seed=12, backend="ray:2")
    assert other.digest != reference.digest
