#!/usr/bin/env python3
"""Run the ping-ring demo on a Ray cluster and report its digest and speed.

Typical use, from the head node of a running cluster (or via
``ray submit cluster/ray-cluster.yaml cluster/example_run.py -- --check``)::

    python example_run.py                      # K = the cluster's CPU count
    python example_run.py --shards 8 --check   # also run the local backend, compare digests

On one machine, without any cluster, ``--address local`` starts a private,
throw-away Ray instance and shuts it down at the end::

    python example_run.py --address local --shards 2 --until-ms 2 --check

The script uses only the public qactors API; Ray itself is imported just to
count the cluster's CPUs and nodes before the run.  Exit status: 0 when the
run finished (and, with ``--check``, the digests agree), 1 when they differ.
"""

from __future__ import annotations

import argparse
import sys

import ray

import qactors
import qactors.demo


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--address", default="auto",
                   help='Ray address: "auto" (default) joins the cluster this machine belongs to, '
                        '"host:port" a given head node, "local" starts a private one-machine Ray')
    p.add_argument("--shards", type=_positive_int, default=None,
                   help="number of shards K (default: the cluster's CPU count)")
    p.add_argument("--until-ms", type=_positive_float, default=10.0,
                   help="simulated time to run, in milliseconds (default: 10)")
    p.add_argument("--seed", type=int, default=1, help="root seed of the run (default: 1)")
    p.add_argument("--nodes", type=int, default=64, help="nodes on the demo ring (default: 64)")
    p.add_argument("--check", action="store_true",
                   help="also run the local backend and require the same digest")
    return p.parse_args(argv)


def describe(label: str, result) -> str:
    per_window = result.events / max(1, result.windows) / max(1, result.shards)
    return (f"{label:<6} digest={result.digest}  events={result.events}  wall={result.wall_s:.2f} s  "
            f"events/s={result.events_per_s:,.0f}  shards={result.shards}  windows={result.windows}  "
            f"events/window/shard={per_window:,.1f}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    until_ps = round(args.until_ms * qactors.MS)
    net = qactors.demo.ping_ring(args.nodes)

    # Connect (or, for "local", start a private instance) first, so the default K can be
    # read from the cluster.  RayBackend sees Ray already running and leaves it to us.
    if args.address == "local":
        ray.init(address="local", include_dashboard=False)
    else:
        ray.init(address=args.address)
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        alive = sum(1 for n in ray.nodes() if n.get("Alive"))
        shards = args.shards or max(1, cpus)
        print(f"cluster: {cpus} CPUs on {alive} node(s); ping_ring({args.nodes}) for {args.until_ms:g} ms "
              f"of simulated time, seed {args.seed}, {shards} shard(s)", flush=True)
        backend = qactors.RayBackend(shards=shards, address=args.address)
        ray_result = qactors.run(net, until_ps=until_ps, seed=args.seed, backend=backend)
    finally:
        ray.shutdown()  # disconnects from a cluster; stops a "local" instance

    print(describe("ray", ray_result))
    used = set(ray_result.stats.get("node_ids") or [])
    if used:
        print(f"       shards ran on {len(used)} node(s); lookahead {ray_result.lookahead_ps} ps; "
              f"{ray_result.stats.get('cross_shard_messages', 0)} cross-shard messages")
    print("summary:", qactors.demo.summarise_ping_ring(ray_result.states))

    if not args.check:
        return 0
    local_result = qactors.run(net, until_ps=until_ps, seed=args.seed, backend="local")
    print(describe("local", local_result))
    if local_result.digest == ray_result.digest:
        print("digests match: the Ray run is bit-identical to the local run")
        return 0
    print("DIGESTS DIFFER: the Ray run does not reproduce the local run", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
