"""A multi-node Ray cluster on one machine (head plus two worker nodes), shards
pinned to different nodes, gives the local backend's digest.

The cluster runs in a subprocess because a process can be connected to only
one Ray instance and the rest of the suite shares one.
"""

import json
from pathlib import Path
import subprocess
import sys
import textwrap

import pytest

import qactors
from qactors.core import MS
from qactors.demo import ping_ring

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent("""
    import json, ray
    from ray.cluster_utils import Cluster
    import qactors
    from qactors.core import MS
    from qactors.demo import ping_ring

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=1, resources={f"worker{i}": 1}) for i in range(2)]
    cluster.wait_for_nodes()
    try:
        ray.init(address=cluster.address)
        node_ids = [w.node_id for w in workers]
        alive = sorted(n["NodeID"] for n in ray.nodes() if n["Alive"])
        result = qactors.run(ping_ring(8), until_ps=5 * MS, seed=21,
                             backend=qactors.RayBackend(shards=2, nodes=node_ids))
        print(json.dumps({"digest": result.digest, "events": result.events, "alive": alive,
                          "requested": node_ids, "placed": result.stats["node_ids"],
                          "cross": result.stats["cross_shard_messages"]}))
    finally:
        ray.shutdown()
        cluster.shutdown()
""")


def test_shards_on_two_worker_nodes_match_the_local_digest():
    local = qactors.run(ping_ring(8), until_ps=5 * MS, seed=21)
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(report["alive"]) == 3  # head and two workers
    assert report["placed"] == report["requested"] and len(set(report["placed"])) == 2
    assert report["cross"] > 0
    assert report["events"] == local.events
    assert report["digest"] == local.digest


KILL_SCRIPT = textwrap.dedent("""
    import json, sys, time, ray
    from ray.cluster_utils import Cluster
    import qactors
    from qactors import CheckpointPlan
    from qactors.core import MS
    from qactors.demo import ping_ring

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    killed = []

    def progress(now_ps, until_ps, events):  # the driver loses a worker node mid-run, once
        if now_ps >= 2 * MS and not killed:
            killed.append(now_ps)
            cluster.remove_node(workers[0], allow_graceful=False)
            time.sleep(3)  # the node's processes notice their raylet is gone and exit

    try:
        ray.init(address=cluster.address, log_to_driver=False)
        backend = qactors.RayBackend(shards=2, nodes=[w.node_id for w in workers], num_cpus_per_shard=0.5,
                                     max_restarts=2)
        result = qactors.run(ping_ring(8), until_ps=5 * MS, seed=21, backend=backend, progress=progress,
                             checkpoints=CheckpointPlan(sys.argv[1], every_ps=MS))
        print(json.dumps({"digest": result.digest, "events": result.events, "killed_at": killed,
                          "restarts": result.stats["restarts"], "lost": result.stats["shards_lost"],
                          "placed": result.stats["node_ids"], "survivor": workers[1].node_id}))
    finally:
        ray.shutdown()
        cluster.shutdown()
""")


def test_losing_a_worker_node_mid_run_restarts_from_the_checkpoint_with_the_local_result(tmp_path):
    local = qactors.run(ping_ring(8), until_ps=5 * MS, seed=21)
    out = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads([line for line in out.stdout.splitlines() if line.startswith('{"digest"')][-1])
    # Ray may still list the lost node as alive for a moment: a shard placed there again dies again
    assert report["killed_at"] and report["restarts"] in (1, 2) and len(report["lost"]) == report["restarts"], report
    assert all("restarted from t=" in lost and "restarted from t=0 ps" not in lost for lost in report["lost"])
    assert set(report["placed"]) == {report["survivor"]}  # both shards moved to the node left
    assert report["events"] == local.events and report["digest"] == local.digest


ADDRESS_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from ray.cluster_utils import Cluster
    from qactors.cli import main

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 3, "include_dashboard": False})
    os.environ["RAY_ADDRESS"] = cluster.address  # as under ray job submit: not followed without --ray-address
    try:
        scenario, out = sys.argv[1], sys.argv[2]
        common = ["run", scenario, "--backend", "ray:3", "--no-progress"]
        refused = main(common + ["--out", out + "/private"])  # a private instance: this machine's cores
        joined = main(common + ["--out", out + "/cluster", "--ray-address", cluster.address])
        print(json.dumps({"refused": refused, "joined": joined}))
    finally:
        cluster.shutdown()
""")


def test_qactors_run_uses_a_cluster_only_when_ray_address_names_it(tmp_path):
    """The named 3-CPU cluster takes ray:3; without --ray-address the same command checks ray:3 against
    this machine's cores (and RAY_ADDRESS, set to the cluster here, is not followed)."""
    import os
    if (os.cpu_count() or 1) >= 3:
        pytest.skip("needs a machine with fewer than 3 cores to tell the two apart")
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "metro-30.toml"
    out = subprocess.run([sys.executable, "-c", ADDRESS_SCRIPT, str(scenario), str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads([line for line in out.stdout.splitlines() if line.startswith('{"refused"')][-1])
    assert report == {"refused": 2, "joined": 0}
    assert (tmp_path / "cluster" / "run.json").exists() and not (tmp_path / "private").exists()
