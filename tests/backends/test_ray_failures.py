"""What happens when something goes wrong inside a Ray shard: the run stops with
the same specific error as on the local backend, the shard actors are gone,
and nothing hangs."""

import subprocess
import sys
import textwrap
import time

import pytest

import qactors
from qactors.backends.ray_backend import RayBackend
from qactors.core import (US, Actor, ActorError, LatencyError, Message, Network, PayloadError,
                          UnknownActorError, handler, message)

pytestmark = pytest.mark.ray


@message
class Hop(Message):
    n: int
    blob: object = None


class Hopper(Actor):
    """Passes a counter round a ring; misbehaves when the counter reaches ``fail_at``."""

    def __init__(self, actor_id, nxt, fail_at=-1, how="raise"):
        super().__init__(actor_id)
        self.nxt, self.fail_at, self.how = nxt, fail_at, how

    def on_start(self):
        if self.id == "h0":
            self.send(self.nxt, Hop(0), delay_ps=10 * US)

    @handler(Hop)
    def on_hop(self, msg, sender):
        if msg.n == self.fail_at:
            if self.how == "raise":
                raise ValueError(f"memory slot {msg.n} already released")
            if self.how == "unknown":
                self.send("nowhere", Hop(msg.n + 1), delay_ps=10 * US)
            if self.how == "fast":
                self.send(self.nxt, Hop(msg.n + 1), delay_ps=1 * US)
            if self.how == "payload":
                self.send(self.nxt, Hop(msg.n + 1, blob=[1, 2]), delay_ps=10 * US)
        self.send(self.nxt, Hop(msg.n + 1), delay_ps=10 * US)


def ring(n=6, fail_at=-1, how="raise"):
    net = Network()
    for i in range(n):
        net.add_actor(Hopper(f"h{i}", f"h{(i + 1) % n}", fail_at=fail_at, how=how))
    for i in range(n):
        net.connect(f"h{i}", f"h{(i + 1) % n}", latency_ps=10 * US)
    return net


def wait_for_cpus_back(ray, total, timeout_s=30.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if ray.available_resources().get("CPU", 0) >= total - 1e-9:
            return True
        time.sleep(0.2)
    return False


def test_handler_error_in_a_shard_names_actor_type_and_time(ray_session):
    net = ring(fail_at=9)  # hop n reaches h[(n + 1) % 6] at (n + 1) * 10 us: h4, at 100 us
    with pytest.raises(ActorError) as local:
        qactors.run(net, until_ps=10**9, seed=1)
    with pytest.raises(ActorError) as remote:
        qactors.run(net, until_ps=10**9, seed=1, backend="ray:2")
    e = remote.value
    assert (e.actor, e.message_type, e.time_ps, e.sender) == ("h4", "Hop", 100 * US, "h3")
    assert str(e) == str(local.value)
    assert "memory slot 9 already released" in e.remote_traceback
    total = ray_session.cluster_resources()["CPU"]
    assert wait_for_cpus_back(ray_session, total), "shard actors were not released after the failure"
    # the shared Ray instance is still usable afterwards
    assert qactors.run(ring(), until_ps=200 * US, seed=1, backend="ray:2").events == 19


@pytest.mark.parametrize("how, error, needle", [
    ("unknown", UnknownActorError, "to unknown actor 'nowhere'"),
    ("fast", LatencyError, "delay_ps=1000000; allowed: an int >= 10000000 ps"),
    ("payload", PayloadError, "field 'blob' of message Hop holds a value of type builtins.list"),
])
def test_send_errors_in_a_shard_are_the_local_ones(ray_session, how, error, needle):
    net = ring(fail_at=4, how=how)
    with pytest.raises(error, match=needle) as local:
        qactors.run(net, until_ps=10**9, seed=1)
    with pytest.raises(error, match=needle) as remote:
        qactors.run(net, until_ps=10**9, seed=1, backend="ray:2")
    assert str(remote.value) == str(local.value)


@pytest.mark.slow
def test_a_backend_that_started_ray_shuts_it_down_after_a_failure(tmp_path):
    script = textwrap.dedent("""
        import sys, ray, qactors
        sys.path.insert(0, %r)
        from test_ray_failures import ring
        try:
            qactors.run(ring(fail_at=3), until_ps=10**9, seed=1, backend="ray:2")
        except qactors.ActorError as e:
            print("error", e.actor, e.message_type, e.time_ps)
        print("ray still initialised:", ray.is_initialized())
    """) % str(__import__("pathlib").Path(__file__).parent)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "error h4 Hop 40000000" in out.stdout
    assert "ray still initialised: False" in out.stdout


def test_bad_backend_settings():
    with pytest.raises(qactors.ConfigurationError, match="shards = 0 is not allowed; allowed: an int >= 1"):
        RayBackend(shards=0)
    with pytest.raises(qactors.ConfigurationError, match=r"num_cpus_per_shard = -1 is not allowed; allowed: a finite "
                       r"number >= 0"):
        RayBackend(num_cpus_per_shard=-1)


@message
class Alarm(Message):
    pass


class TimeBomb(Actor):
    """Raises when its alarm goes off at ``at_ps`` (never if ``at_ps`` is None)."""

    def __init__(self, actor_id, at_ps=None):
        super().__init__(actor_id)
        self.at_ps = at_ps

    def on_start(self):
        if self.at_ps is not None:
            self.set_timer(Alarm(), delay_ps=self.at_ps)

    @handler(Alarm)
    def on_alarm(self, msg, sender):
        raise RuntimeError(f"{self.id} went off")


def two_islands():
    """b0..b3 | b4..b7 joined by one long link; b1 fails at 950 ps, b6 earlier at 900 ps."""
    net = Network()
    for i in range(8):
        net.add_actor(TimeBomb(f"b{i}", {1: 950, 6: 900}.get(i)))
    for i in range(7):
        net.connect(f"b{i}", f"b{i + 1}", latency_ps=10_000 if i == 3 else 10)
    return net


@pytest.mark.parametrize("compiled", [False, True])
def test_when_two_shards_fail_in_one_window_the_earlier_event_is_reported(ray_session, compiled):
    net = two_islands()
    with pytest.raises(ActorError) as local:
        qactors.run(net, until_ps=10**6, seed=0)
    with pytest.raises(ActorError) as remote:
        qactors.run(net, until_ps=10**6, seed=0, backend=RayBackend(shards=2, compiled=compiled))
    assert (remote.value.actor, remote.value.time_ps) == (local.value.actor, local.value.time_ps) == ("b6", 900)


def test_more_shards_than_the_cluster_can_place_is_refused_not_hung(ray_session):
    with pytest.raises(qactors.ConfigurationError, match=r"4 shards x num_cpus_per_shard=1 need 4 CPUs but the Ray "
                                                         r"cluster has 2; lower"):
        qactors.run(ring(), until_ps=10**6, backend=RayBackend(shards=4, num_cpus_per_shard=1))


def test_ray_k_beyond_the_cluster_cpus_is_refused_with_the_way_to_share(ray_session):
    with pytest.raises(qactors.ConfigurationError, match=r"3 shards \(ray:3\) need 3 CPUs, but the Ray cluster has 2: "
                                                         r".*allowed: ray:1 to ray:2, or RayBackend\(shards=3, "
                                                         r"num_cpus_per_shard=0.6666\) to share CPUs on purpose"):
        qactors.run(ring(), until_ps=10**6, backend="ray:3")
    shared = qactors.run(ring(), until_ps=200 * US, seed=1, backend=RayBackend(shards=3, num_cpus_per_shard=0.6666))
    assert shared.shards == 3 and shared.events == 19


def test_unknown_nodes_are_refused(ray_session):
    with pytest.raises(qactors.ConfigurationError, match=r"nodes \['no-such-node'\] are not alive nodes"):
        qactors.run(ring(), until_ps=10**6, backend=RayBackend(shards=2, nodes=["no-such-node"]))


def test_a_partitioner_cannot_claim_a_longer_window_than_its_cut(ray_session):
    from qactors.backends import Partition

    def greedy(network, shards):
        return Partition(2, tuple(i % 2 for i in range(len(network))), lookahead_ps=10**9, cut_links=0)

    def broken(network, shards):
        return Partition(2, (0, 1), lookahead_ps=None, cut_links=0)

    backend = RayBackend(shards=2, partitioner=greedy)
    assert backend.plan(ring()).lookahead_ps == 10 * US
    net = ring(fail_at=-1)
    assert qactors.run(net, until_ps=10**6, backend=backend).digest == qactors.run(net, until_ps=10**6).digest
    with pytest.raises(qactors.ConfigurationError, match="returned an invalid placement"):
        RayBackend(shards=2, partitioner=broken).plan(ring())


class Crasher(Hopper):
    """Kills its own process (as the OOM killer or a lost node would) when it handles hop ``crash_at``;
    with a flag file, only the first time, even after the run starts again."""

    def __init__(self, actor_id, nxt, crash_at, flag):
        super().__init__(actor_id, nxt)
        self.crash_at, self.flag = crash_at, flag

    @handler(Hop)
    def on_hop(self, msg, sender):
        import os
        if msg.n == self.crash_at and not (self.flag and os.path.exists(self.flag)):
            if self.flag:
                open(self.flag, "w").close()
            os._exit(1)
        super().on_hop(msg, sender)


def crash_ring(flag, crash_at=38):  # hop n reaches h[(n + 1) % 6]: h3 gets hop 38 at 390 us
    net = Network()
    for i in range(6):
        cls = Crasher if i == 3 else Hopper
        args = (crash_at, str(flag) if flag else "") if i == 3 else ()
        net.add_actor(cls(f"h{i}", f"h{(i + 1) % 6}", *args))
    for i in range(6):
        net.connect(f"h{i}", f"h{(i + 1) % 6}", latency_ps=10 * US)
    return net


def test_a_dead_shard_is_restarted_from_the_newest_checkpoint_with_the_uninterrupted_result(ray_session, tmp_path):
    """h3's process dies at hop 38 (t = 390 us); the run starts again from its checkpoint at 300 us
    and ends with the local run's digest, states and event count."""
    from qactors import CheckpointPlan
    local = qactors.run(ring(), until_ps=1000 * US, seed=4)
    flag = tmp_path / "crashed"
    result = qactors.run(crash_ring(flag), until_ps=1000 * US, seed=4, backend=RayBackend(shards=2, max_restarts=2),
                         checkpoints=CheckpointPlan(tmp_path / "ckpt", every_ps=300 * US))
    assert flag.exists() and result.stats["restarts"] == 1
    assert "restarted from t=30" in result.stats["shards_lost"][0]
    assert result.events == local.events and result.digest != local.digest  # Crasher's state has two fields more
    again = qactors.run(crash_ring(flag), until_ps=1000 * US, seed=4)  # the flag is set: no crash
    assert result.digest == again.digest and result.states == again.states
    assert wait_for_cpus_back(ray_session, 2)


def test_a_shard_that_keeps_dying_ends_the_run_with_shard_lost(ray_session):
    with pytest.raises(qactors.ShardLostError, match=r"died 2 time\(s\), more than max_restarts=1 allows: "
                                                     r"ActorDiedError.*the newest checkpoint is at t=0 ps"):
        qactors.run(crash_ring(None), until_ps=1000 * US, seed=4, backend=RayBackend(shards=2, max_restarts=1))
    assert wait_for_cpus_back(ray_session, 2)
