import pytest

from qactors.backends import partition, per_actor_partition
from qactors.core import Actor, ConfigurationError, Network
from qactors.demo import ping_ring, token_ring


def chain(latencies, sites=None):
    net = Network()
    for i in range(len(latencies) + 1):
        net.add_actor(Actor(f"a{i}"), site=(sites[i] if sites else None))
    for i, lat in enumerate(latencies):
        net.connect(f"a{i}", f"a{i + 1}", latency_ps=lat)
    return net


def test_the_cut_follows_the_longest_link_that_keeps_balance():
    # 8 actors; the link in the middle is the long one
    net = chain([10, 10, 10, 1000, 10, 10, 10])
    p = partition(net, 2)
    assert {p.shard_of[:4], p.shard_of[4:]} == {(0,) * 4, (1,) * 4}
    assert p.lookahead_ps == 1000 and p.cut_links == 1


def test_lookahead_is_the_shortest_cut_link():
    net = chain([5, 300, 7, 8, 9, 200, 6])
    p = partition(net, 2)
    cut = [lat for i, j, lat in net.links() if p.shard_of[i] != p.shard_of[j]]
    assert p.lookahead_ps == min(cut) >= 200


def test_sites_are_never_split():
    net = ping_ring(12)
    for k in (2, 3, 4, 5):
        p = partition(net, k)
        for i, j, _ in net.links():
            if net.sites[i] == net.sites[j]:
                assert p.shard_of[i] == p.shard_of[j]


@pytest.mark.parametrize("n, k", [(100, 2), (101, 4), (1000, 4), (64, 8)])
def test_shards_are_balanced_and_cuts_are_few_on_a_ring(n, k):
    p = partition(token_ring(n), k)
    sizes = [p.shard_of.count(s) for s in range(k)]
    assert max(sizes) - min(sizes) <= max(2, n // (4 * k)), sizes
    assert p.cut_links <= k + 1  # a ring cut into k arcs needs k cuts (the sweep may add one)


def test_single_shard_and_per_actor():
    net = chain([3, 4, 5])
    one = partition(net, 1)
    assert set(one.shard_of) == {0} and one.lookahead_ps is None
    each = per_actor_partition(net)
    assert each.shard_of == (0, 1, 2, 3) and each.lookahead_ps == 3 and each.cut_links == 3


def test_disconnected_components_go_to_different_shards_with_unbounded_windows():
    net = Network()
    for i in range(4):
        net.add_actor(Actor(f"x{i}"))
    net.connect("x0", "x1", latency_ps=5)
    net.connect("x2", "x3", latency_ps=5)
    p = partition(net, 2)
    assert p.shard_of in ((0, 0, 1, 1), (1, 1, 0, 0)) and p.lookahead_ps is None


@pytest.mark.parametrize("bad", [0, -1, 2.0, "2"])
def test_bad_shard_count(bad):
    with pytest.raises(ConfigurationError, match="shards must be an int >= 1"):
        partition(chain([1]), bad)


def test_weights_balance_the_work_not_the_actor_counts():
    """A chain of 100 actors where the first 20 do nine tenths of the work: balanced by counts the
    first shard gets almost all of it; balanced by weights each shard gets about half (within the
    partitioner's slack), still cutting one link."""
    net = chain([10] * 99)
    weights = [45.0] * 20 + [1.25] * 80  # 900 + 100
    by_count = partition(net, 2)
    by_work = partition(net, 2, weights=weights)
    work = lambda plan, s: sum(w for w, x in zip(weights, plan.shard_of) if x == s)  # noqa: E731
    assert work(by_count, by_count.shard_of[0]) > 900
    assert max(work(by_work, 0), work(by_work, 1)) <= 0.5 * 1000 * 1.1 + 45 and by_work.cut_links == 1
    with pytest.raises(ConfigurationError, match="weights must give a number >= 0 for each of the 100 actors"):
        partition(net, 2, weights=[1.0] * 99)


@pytest.mark.ray
def test_a_ray_run_balancing_events_has_the_local_digest(ray_session):
    import qactors
    from qactors.backends.ray_backend import RayBackend
    net = ping_ring(12)
    local = qactors.run(net, until_ps=3 * 10 ** 9, seed=5)
    remote = qactors.run(net, until_ps=3 * 10 ** 9, seed=5, backend=RayBackend(shards=2, balance="events"))
    assert remote.digest == local.digest and remote.stats["balance"] == "events"
    with pytest.raises(ConfigurationError, match="balance must be 'actors' or 'events'"):
        RayBackend(balance="work")


def test_channel_lookahead_is_the_shortest_path_between_shards_even_through_a_third():
    from qactors.backends.partition import finish_partition, shard_lookahead
    # a0 (shard 0) - a1 (shard 1) by 100 ps; a0 - a2 (shard 2) by 10; a2 - a1 by 20:
    # from shard 0 to shard 1 the detour through shard 2 (30 ps) beats the direct cut link
    net = Network()
    for i in range(3):
        net.add_actor(Actor(f"a{i}"))
    net.connect("a0", "a1", latency_ps=100)
    net.connect("a0", "a2", latency_ps=10)
    net.connect("a2", "a1", latency_ps=20)
    la = shard_lookahead(net, finish_partition(net, 3, [0, 1, 2]))
    assert la == [{1: 30, 2: 10}, {0: 30, 2: 20}, {0: 10, 1: 20}]
    # two shards that no link joins have no channel
    apart = Network()
    apart.add_actor(Actor("x"))
    apart.add_actor(Actor("y"))
    assert shard_lookahead(apart, finish_partition(apart, 2, [0, 1])) == [{}, {}]
