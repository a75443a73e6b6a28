"""A Ray instance the backend starts for itself is private: its processes listen on the loopback
interface only, it joins neither the cluster ``RAY_ADDRESS`` names nor a Ray session already
running, and Ray's authentication token file is readable by its owner only.  Each check runs in a
fresh interpreter, so that no Ray instance of the test session is already up."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.ray, pytest.mark.slow]

SCRIPT = textwrap.dedent("""
    import ipaddress, json, os, ray
    import qactors
    from qactors.demo import ping_ring
    from qactors.backends.ray_backend import ray_instance

    def descendants(root):
        parent = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parent[int(pid)] = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
        found, frontier = set(), {root}
        while frontier:
            frontier = {p for p, pp in parent.items() if pp in frontier} - found
            found |= frontier
        return found

    def listening(pids):
        inodes = set()
        for pid in pids:
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            except OSError:
                pass
        out = set()
        for table, size in (("tcp", 4), ("tcp6", 16)):
            for line in open(f"/proc/net/{table}").read().splitlines()[1:]:
                f = line.split()
                if f[3] == "0A" and f[9] in inodes:  # LISTEN
                    raw = bytes.fromhex(f[1].split(":")[0])
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))
                    a = ipaddress.ip_address(words)
                    out.add(str(getattr(a, "ipv4_mapped", None) or a))
        return sorted(out)

    with ray_instance(num_cpus=1):
        result = qactors.run(ping_ring(3), until_ps=2 * 10 ** 9, seed=1, backend="ray:1")
        listening = listening(descendants(os.getpid()) | {os.getpid()})
        nodes = [n["NodeManagerAddress"] for n in ray.nodes()]
    token = os.path.expanduser("~/.ray/auth_token")
    mode = oct(os.stat(token).st_mode & 0o777) if os.path.exists(token) else None
    print(json.dumps({"events": result.events, "listening": listening, "nodes": nodes, "token_mode": mode}))
""")


def test_a_private_instance_listens_on_loopback_only_and_ignores_ray_address(tmp_path):
    env = {**os.environ, "RAY_ADDRESS": "192.0.2.254:6379"}  # TEST-NET: nothing answers there
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, env=env,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["events"] > 0 and report["nodes"] == ["127.0.0.1"]
    assert report["listening"] and set(report["listening"]) <= {"127.0.0.1", "::1"}, report
    assert report["token_mode"] in (None, "0o600")
