"""Event order, timers, latency rules and error reporting of the shared kernel,
exercised through the local backend."""

import pytest

import qactors
from qactors.core import (US, Actor, ActorError, ConfigurationError, LatencyError, Message, Network,
                          NoRouteError, PayloadError, UnhandledMessageError, UnknownActorError, handler,
                          message)


@message
class Note(Message):
    text: str


@message
class Bad(Message):
    items: object


@message
class Stranger(Message):
    pass


class Recorder(Actor):
    """Sends what its script says at start and logs everything it receives."""

    def __init__(self, actor_id, script=()):
        super().__init__(actor_id)
        self.script = list(script)  # (to, text, delay_ps)
        self.log = []

    def on_start(self):
        for to, text, delay in self.script:
            if to == self.id:
                self.set_timer(Note(text), delay_ps=delay)
            else:
                self.send(to, Note(text), delay_ps=delay)

    @handler(Note)
    def on_note(self, msg, sender):
        self.log.append((self.now, sender, msg.text))


def build(*actors, links=()):
    net = Network()
    for a in actors:
        net.add_actor(a)
    for a, b, lat in links:
        net.connect(a, b, latency_ps=lat)
    return net


def run_local(net, until=10**9, seed=0):
    return qactors.run(net, until_ps=until, seed=seed)


def test_ties_are_broken_by_source_then_sequence():
    net = build(Recorder("sink"), Recorder("b", [("sink", "b1", 5), ("sink", "b2", 5)]),
                Recorder("a", [("sink", "a1", 5)]), links=[("a", "sink", 5), ("b", "sink", 5)])
    # actor indices follow insertion: sink=0, b=1, a=2, so b's messages come first
    log = run_local(net).states["sink"]["log"]
    assert log == [(5, "b", "b1"), (5, "b", "b2"), (5, "a", "a1")]


def test_timers_fire_in_time_order_and_zero_delay_is_allowed():
    net = build(Recorder("x", [("x", "late", 30), ("x", "now", 0), ("x", "soon", 10)]))
    assert run_local(net).states["x"]["log"] == [(0, "x", "now"), (10, "x", "soon"), (30, "x", "late")]


def test_until_is_exclusive():
    net = build(Recorder("x", [("x", "edge", 100), ("x", "before", 99)]))
    result = run_local(net, until=100)
    assert result.states["x"]["log"] == [(99, "x", "before")]
    assert result.events == 1


@message
class Cancel(Message):
    pass


class Canceller(Actor):
    def __init__(self, actor_id):
        super().__init__(actor_id)
        self.fired = []

    def on_start(self):
        self.keep = self.set_timer(Note("keep"), delay_ps=20)
        self.drop = self.set_timer(Note("drop"), delay_ps=20)
        self.set_timer(Cancel(), delay_ps=10)

    @handler(Cancel)
    def on_cancel(self, msg, sender):
        self.cancel_timer(self.drop)

    @handler(Note)
    def on_note(self, msg, sender):
        self.fired.append(msg.text)


def test_cancelled_timer_never_fires():
    result = run_local(build(Canceller("c")))
    assert result.states["c"]["fired"] == ["keep"]
    assert result.events == 2


def test_messages_to_non_neighbours_need_the_path_latency():
    chain = [("a", "b", 7), ("b", "c", 11)]
    ok = build(Recorder("a", [("c", "far", 18)]), Recorder("b"), Recorder("c"), links=chain)
    assert run_local(ok).states["c"]["log"] == [(18, "a", "far")]
    too_fast = build(Recorder("a", [("c", "far", 17)]), Recorder("b"), Recorder("c"), links=chain)
    with pytest.raises(LatencyError, match=r"actor 'a' sent Note to 'c' at t=0 ps with delay_ps=17; "
                                           r"allowed: an int >= 18 ps"):
        run_local(too_fast)


@pytest.mark.parametrize("delay", [4, 0, -1, 5.0, "5"])
def test_sending_faster_than_the_link_or_with_a_non_int_delay_fails(delay):
    net = build(Recorder("a", [("b", "x", delay)]), Recorder("b"), links=[("a", "b", 5)])
    with pytest.raises(LatencyError, match=r"delay_ps=.*allowed: an int >= 5 ps"):
        run_local(net)


def test_negative_timer_is_rejected():
    with pytest.raises(LatencyError, match="allowed: an int >= 0"):
        run_local(build(Recorder("a", [("a", "x", -3)])))


def test_unknown_destination_is_named():
    net = build(Recorder("a", [("ghost", "x", 5)]), Recorder("b"), links=[("a", "b", 5)])
    with pytest.raises(UnknownActorError, match="actor 'a' sent Note at t=0 ps to unknown actor 'ghost'"):
        run_local(net)


def test_unconnected_actors_cannot_talk():
    net = build(Recorder("a", [("b", "x", 10**6)]), Recorder("b"))
    with pytest.raises(NoRouteError, match="no chain of links joins them"):
        run_local(net)


class Sender(Actor):
    def __init__(self, actor_id, msg):
        super().__init__(actor_id)
        self.msg = msg

    def on_start(self):
        self.send("b", self.msg, delay_ps=5)


def test_unserialisable_payload_fails_at_send_on_the_local_backend_too():
    net = build(Sender("a", Bad([1, 2])), Recorder("b"), links=[("a", "b", 5)])
    with pytest.raises(PayloadError, match="field 'items' of message Bad holds a value of type builtins.list"):
        run_local(net)


def test_unhandled_message_names_actor_type_and_time():
    net = build(Sender("a", Stranger()), Recorder("b"), links=[("a", "b", 5)])
    with pytest.raises(UnhandledMessageError, match=r"actor 'b' \(Recorder\) has no handler for Stranger "
                                                    r"sent by 'a', delivered at t=5 ps; it handles: \['Note'\]"):
        run_local(net)


class Fragile(Actor):
    @handler(Note)
    def on_note(self, msg, sender):
        raise ZeroDivisionError("pair record was empty")


def test_handler_exception_names_actor_message_and_time():
    net = build(Recorder("a", [("b", "boom", 42)]), Fragile("b"), links=[("a", "b", 40)])
    with pytest.raises(ActorError) as err:
        run_local(net)
    e = err.value
    assert (e.actor, e.message_type, e.time_ps, e.sender, e.cause_type) == ("b", "Note", 42, "a", "ZeroDivisionError")
    assert "actor 'b' (Fragile) raised ZeroDivisionError: pair record was empty while handling Note from 'a' at t=42 ps" \
        in str(e)
    assert "pair record was empty" in e.remote_traceback


class BrokenStart(Actor):
    def on_start(self):
        raise RuntimeError("no memory")


def test_on_start_exception_is_reported():
    with pytest.raises(ActorError, match="raised RuntimeError: no memory while handling on_start at t=0 ps"):
        run_local(build(BrokenStart("z")))


@pytest.mark.parametrize("latency", [0, -5, 2.5, None])
def test_links_need_positive_integer_latency(latency):
    net = build(Recorder("a"), Recorder("b"))
    with pytest.raises(LatencyError, match=f"link 'a'-'b' has latency_ps={latency!r}; allowed: an int > 0"):
        net.connect("a", "b", latency_ps=latency)


def test_network_build_errors():
    net = build(Recorder("a"), Recorder("b"))
    with pytest.raises(ConfigurationError, match="already in the network"):
        net.add_actor(Recorder("a"))
    with pytest.raises(ConfigurationError, match="names actor 'c', which is not in the network"):
        net.connect("a", "c", latency_ps=5)
    with pytest.raises(ConfigurationError, match="joins an actor to itself"):
        net.connect("a", "a", latency_ps=5)
    net.connect("a", "b", latency_ps=5)
    net.connect("b", "a", latency_ps=5)  # the same link again is fine
    with pytest.raises(ConfigurationError, match="already exists with latency_ps=5"):
        net.connect("a", "b", latency_ps=6)
    with pytest.raises(ConfigurationError, match="add_actor takes an Actor"):
        net.add_actor("c")


@pytest.mark.parametrize("kwargs, needle", [
    ({"until_ps": 0}, "until_ps must be a positive int"),
    ({"until_ps": 1.5}, "until_ps must be a positive int"),
    ({"until_ps": 10, "seed": -1}, "seed must be an integer in"),
    ({"until_ps": 10, "backend": "gpu"}, "backend 'gpu' is not known"),
])
def test_run_settings_are_validated_before_anything_runs(kwargs, needle):
    with pytest.raises(ConfigurationError, match=needle):
        qactors.run(build(Recorder("a")), **kwargs)


def test_empty_network_is_rejected():
    with pytest.raises(ConfigurationError, match="no actors"):
        qactors.run(Network(), until_ps=10)


def test_a_network_can_be_run_twice_with_the_same_answer():
    net = build(Recorder("a", [("b", "x", 5)]), Recorder("b"), links=[("a", "b", 5)])
    first, second = run_local(net), run_local(net)
    assert first.digest == second.digest and first.states == second.states
    assert net.actors[1].log == []  # the network's own actors are never mutated


def test_a_network_run_in_place_gives_the_same_answer_once():
    """in_place runs the network's own actors (no copy): same digest and states as a copied run, the
    network then holds the final state and refuses a second run, naming the option."""
    make = lambda: build(Recorder("a", [("b", "x", 5), ("b", "y", 9)]), Recorder("b"), links=[("a", "b", 5)])  # noqa: E731
    copied = run_local(make())
    net = make()
    placed = qactors.run(net, until_ps=10 ** 9, seed=0, in_place=True)
    assert placed.digest == copied.digest and placed.states == copied.states
    assert net.actors[1].log == [(5, "a", "x"), (9, "a", "y")]
    with pytest.raises(ConfigurationError, match=r"already ran in place .*build the network again"):
        run_local(net)


class Counter(Actor):
    """Counts the Notes it gets; its final state does not say when they came."""

    def __init__(self, actor_id):
        super().__init__(actor_id)
        self.count = 0

    @handler(Note)
    def on_note(self, msg, sender):
        self.count += 1


def test_digest_sees_when_events_happened_not_only_the_final_state():
    """Two runs that end in equal states but deliver at different times (or from a different sender
    sequence) have different digests: the trace of (time, source, sequence, type) enters it."""
    def digest(delays, links=(("a", "c", 5), ("b", "c", 5))):
        net = build(Recorder("a", [("c", "x", d) for d in delays]), Recorder("b"), Counter("c"), links=links)
        result = run_local(net)
        assert result.states["c"]["count"] == len(delays)
        return result.digest
    assert digest([5, 9]) == digest([5, 9])
    assert digest([5, 9]) != digest([5, 10])
    assert digest([5, 9]) != digest([9, 5])  # same times, the sequence numbers swap


class Drawer(Actor):
    def on_start(self):
        self.own = self.rng.random()
        self.shared = self.shared_rng("pair", 1, "measure").random()


def test_random_streams_follow_seed_and_actor_id_not_position():
    one = run_local(build(Drawer("x"), Drawer("y")), seed=5).states
    other = run_local(build(Drawer("q"), Drawer("y"), Drawer("x")), seed=5).states
    assert one["x"]["own"] == other["x"]["own"] and one["y"]["own"] == other["y"]["own"]
    assert one["x"]["own"] != one["y"]["own"]
    assert one["x"]["shared"] == one["y"]["shared"] == other["q"]["shared"]
    assert run_local(build(Drawer("x")), seed=6).states["x"]["own"] != one["x"]["own"]


def test_digest_changes_with_seed_and_with_state():
    from qactors.demo import ping_ring
    net = ping_ring(5)
    a, b = run_local(net, until=2 * 10**9, seed=1), run_local(net, until=2 * 10**9, seed=2)
    assert a.digest != b.digest
    c = run_local(ping_ring(5, memory_loss=0.5), until=2 * 10**9, seed=1)
    assert c.digest != a.digest


def test_time_helpers():
    assert qactors.to_ps(4.9e-6) == 4_900_000 and 5 * US == 5_000_000
    assert qactors.format_ps(1_500_000) == "1.5 us" and qactors.format_ps(12) == "12 ps"


class BadCanceller(Actor):
    def on_start(self):
        self.cancel_timer(None)


def test_cancel_timer_rejects_foreign_handles():
    with pytest.raises(ActorError, match=r"cancel_timer takes a handle returned by set_timer \(an int in 1..0\), "
                                         r"got None"):
        run_local(build(BadCanceller("c")))


class Gadget(Actor):
    def on_start(self):
        self.callback = lambda: 0


def test_state_that_cannot_be_digested_is_named_at_start():
    with pytest.raises(PayloadError, match="state attribute 'callback' of actor 'g' \\(Gadget\\) cannot be digested"):
        run_local(build(Gadget("g")))
    # without a digest nothing needs encoding
    assert qactors.run(build(Gadget("g")), until_ps=10, record_digest=False, collect_states=False).events == 0


class LoudRecorder(Recorder):
    def on_note(self, msg, sender):  # overrides the decorated handler without decorating again
        self.log.append(("loud", msg.text))


def test_overriding_a_handler_method_takes_effect():
    net = build(Recorder("a", [("b", "hi", 5)]), LoudRecorder("b"), links=[("a", "b", 5)])
    assert run_local(net).states["b"]["log"] == [("loud", "hi")]


def test_payload_errors_name_the_sender_and_time():
    net = build(Sender("a", Bad((1, [2]))), Recorder("b"), links=[("a", "b", 5)])
    with pytest.raises(PayloadError, match=r"actor 'a' sent to 'b' at t=0 ps: field 'items' of message Bad holds "
                                           r"a value of type builtins.list \(use a tuple\): \[2\] inside a tuple"):
        run_local(net)


def test_path_latency_check_agrees_with_networkx_dijkstra():
    """The pair cache, the landmark bounds and the A* search together accept a delay exactly when
    it reaches the shortest-path latency networkx finds, below, at and above it, on a small-world
    graph with random latencies and a separate component (None: no chain of links)."""
    import random

    import networkx as nx

    from qactors.core.network import PathLatency
    rng = random.Random(7)
    g = nx.connected_watts_strogatz_graph(300, 4, 0.2, seed=7)
    for u, v in g.edges:
        g.edges[u, v]["lat"] = rng.randint(1, 1000)
    g.add_edge(300, 301, lat=5)  # a separate component
    adjacency = [{v: g.edges[u, v]["lat"] for v in g[u]} for u in range(302)]
    paths = PathLatency(adjacency)
    pairs = [(rng.randrange(300), rng.randrange(300)) for _ in range(400)]
    pairs += pairs[:100] + [(b, a) for a, b in pairs[:100]]  # asked again, both ways
    for a, b in pairs:
        if a == b:
            continue
        exact = nx.dijkstra_path_length(g, a, b, weight="lat")
        for delay in (exact - 1, exact, exact + 1, exact + rng.randint(0, 3000), 0):
            assert (delay >= paths.bound(a, b, delay)) == (delay >= exact), (a, b, delay, exact)
        assert paths(a, b) == exact
    assert paths(0, 300) is None and paths.bound(0, 301, 10 ** 9) is None
    assert paths(300, 301) == 5 and paths.bound(301, 300, 4) == 5


def test_path_latency_search_follows_the_path_not_the_network():
    """On a 60 x 60 lattice of actors with equal latencies the landmark bounds are exact, and the
    A* search settles no more actors than lie within the rectangle spanned by the two ends."""
    from qactors.core.network import PathLatency
    side = 60
    adjacency = [{} for _ in range(side * side)]
    for r in range(side):
        for c in range(side):
            u = r * side + c
            for v in ((u + 1) if c + 1 < side else None, (u + side) if r + 1 < side else None):
                if v is not None:
                    adjacency[u][v] = adjacency[v][u] = 10
    paths = PathLatency(adjacency)
    import random
    rng = random.Random(3)
    spanned = 0
    for _ in range(200):
        (r0, c0), (r1, c1) = [(rng.randrange(side), rng.randrange(side)) for _ in range(2)]
        exact = 10 * (abs(r0 - r1) + abs(c0 - c1))
        a, b = r0 * side + c0, r1 * side + c1
        if a == b:
            continue
        assert paths.bound(a, b, exact - 1) == exact and paths.bound(a, b, exact) <= exact
        spanned += (abs(r0 - r1) + 1) * (abs(c0 - c1) + 1)
    assert paths.settled <= spanned


def test_actor_streams_are_pcg64_seeded_by_the_documented_seed_sequence():
    """The private stream is PCG64 from SeedSequence([seed, *key words]), built here the plain numpy
    way, though the kernel seeds it without keeping the SeedSequence (memory); it survives pickling."""
    import pickle

    import numpy as np

    from qactors.core.rng import _key_words, actor_generator
    ours = actor_generator(11, "n3/memory:n3-n4")
    plain = np.random.Generator(np.random.PCG64(np.random.SeedSequence([11, *_key_words(("actor", "n3/memory:n3-n4"))])))
    assert ours.random(5).tolist() == plain.random(5).tolist()
    again = pickle.loads(pickle.dumps(ours))
    assert again.integers(0, 1 << 62, 4).tolist() == plain.integers(0, 1 << 62, 4).tolist()


class Forgetful(Actor):
    """Sets 6000 timers at start, cancels all but every tenth, and logs those that fire."""

    def __init__(self, actor_id):
        super().__init__(actor_id)
        self.fired = []

    def on_start(self):
        handles = [self.set_timer(Note(str(i)), delay_ps=1000 + i) for i in range(6000)]
        for i, h in enumerate(handles):
            if i % 10:
                self.cancel_timer(h)

    @handler(Note)
    def on_note(self, msg, sender):
        self.fired.append(int(msg.text))


def test_cancelled_timers_are_dropped_from_the_heap_without_changing_anything(monkeypatch):
    """Past 4096 cancelled timers the kernel drops them from its heap; the same run with the drop
    switched off fires the same timers and has the same digest (and the same at any stop time)."""
    import qactors.core.actor as actor_module
    from qactors.core.kernel import Kernel
    net = build(Forgetful("f"), Recorder("r"), links=[("f", "r", 5)])
    k = Kernel(net.names, net.adjacency, {0: Forgetful("f"), 1: Recorder("r")}, 0, True, sites=net.sites)
    k.start()
    assert len(k.heap) <= 6000 - 4096 and k.cancels <= 4096  # compacted once while cancelling
    kept = run_local(net, until=1000 + 3000)
    monkeypatch.setattr(actor_module, "_COMPACT_AT", 10 ** 9)
    plain = run_local(net, until=1000 + 3000)
    assert kept.states["f"]["fired"] == plain.states["f"]["fired"] == list(range(0, 3000, 10))
    assert kept.digest == plain.digest and kept.events == plain.events == 300


def test_kernel_shares_the_network_index_and_its_numbers():
    """Given the network's index, the kernel keeps that very table, and actor and site numbers are its
    own int objects (no second id table, no second int per actor); an index that does not number the
    actors 0 .. n-1 is refused."""
    from qactors.core.kernel import Kernel
    net = build(*(Recorder(f"a{i}") for i in range(300)), links=[(f"a{i}", f"a{i + 1}", 5) for i in range(299)])
    actors = dict(enumerate(net.actors))
    k = Kernel(net.names, net.adjacency, actors, 0, True, sites=net.sites, index=net.index)
    assert k.index is net.index
    assert all(a._idx is net.index[a.id] and k.site_of[a._idx] is a._idx for a in net.actors)
    with pytest.raises(ValueError):
        Kernel(net.names, net.adjacency, actors, 0, True, index={n: i + 1 for n, i in net.index.items()})
    with pytest.raises(ValueError):
        Kernel(net.names, net.adjacency, actors, 0, True, index={"a0": 0})
    assert qactors.run(net, until_ps=10, seed=0).events == 0


def test_equal_link_latencies_are_one_object():
    net = build(*(Recorder(f"a{i}") for i in range(4)),
                links=[(f"a{i}", f"a{i + 1}", 10 ** 9 + int("5")) for i in range(3)])
    assert len({id(lat) for nbrs in net.adjacency for lat in nbrs.values()}) == 1
    net.check()
    assert not net._latencies


def test_a_kernel_of_every_actor_keeps_their_list_and_a_byte_per_actor():
    """Given the list of every actor, the kernel keeps that list (no second one); which actors are its own
    and, without the digest, their traces take a byte each, and checkpoints still carry a trace per actor."""
    from qactors.core.kernel import Kernel
    net = build(Recorder("a", [("b", "x", 5)]), Recorder("b"), links=[("a", "b", 5)])
    k = Kernel(net.names, net.adjacency, net.actors, 0, False, sites=net.sites, index=net.index)
    assert k.actors is net.actors and list(k.local) == [1, 1] and k._trace == bytes(2)
    k.start()
    k.run_until(100)
    actors, heap, traces, events = k.snapshot()
    assert traces == {0: 0, 1: 0} and events == 1 and net.actors[1].log
    with pytest.raises(ValueError):
        Kernel(net.names, net.adjacency, net.actors[:1], 0, False)
