"""A multi-node Ray cluster on one machine (head plus two worker nodes), shards
pinned to different nodes, gives the local backend's digest.

The cluster runs in a subprocess because a process can be connected to only
one Ray instance and the rest of the suite shares one.
"""

import json
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
