"""The ``qactors`` command-line tool.

Subcommands:
  demo   run a built-in demo network (a repeater chain, or a ping ring) and print a summary
  info   print versions and which backends are available
"""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .backends import BACKEND_NAMES, make_backend
from .core.errors import QactorsError
from .core.time import MS, format_ps
from .progress import ProgressBar

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qactors", description="Quantum-internet simulator on actors.")
    p.add_argument("--version", action="version", version=f"qactors {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run a built-in demo network (a repeater chain by default)")
    d.add_argument("--network", choices=("chain", "ping"), default="chain",
                   help="chain: repeater chain delivering entangled pairs (default); ping: nodes pinging on a ring")
    d.add_argument("--nodes", type=_positive_int, default=None,
                   help="chain nodes including the two ends (>= 2, default 5) or ring nodes (>= 3, default 32)")
    d.add_argument("--link-km", type=_positive_float, default=25.0, help="chain link length in km (default 25)")
    d.add_argument("--model", choices=("geometric", "attempts"), default="geometric",
                   help="link model of the chain (default geometric)")
    d.add_argument("--until-ms", type=_positive_float, default=None,
                   help="simulated time in ms (default 10000 for the chain, 50 for the ring)")
    d.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    d.add_argument("--backend", default="local",
                   help=f"one of {', '.join(BACKEND_NAMES)} (default local)")
    d.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    d.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    sub.add_parser("info", help="print versions and available backends")
    return p


def _demo(args) -> int:
    from .demo import chain_demo, ping_ring, summarise_chain, summarise_ping_ring
    chain = args.network == "chain"
    nodes = args.nodes if args.nodes is not None else (5 if chain else 32)
    if nodes < (2 if chain else 3):
        print(f"qactors demo: --nodes must be >= {2 if chain else 3} for the {args.network} network, got {nodes}",
              file=sys.stderr)
        return 2
    until_ms = args.until_ms if args.until_ms is not None else (10_000.0 if chain else 50.0)
    until = round(until_ms * MS)
    if until <= 0:
        print(f"qactors demo: --until-ms {until_ms} is below one picosecond", file=sys.stderr)
        return 2
    backend = make_backend(args.backend)
    net = chain_demo(nodes, args.link_km, model=args.model) if chain else ping_ring(nodes)
    progress = None if args.no_progress or args.json else ProgressBar()
    result = backend.run(net, until_ps=until, seed=args.seed, progress=progress)
    details = summarise_chain(result.states, until) if chain else summarise_ping_ring(result.states)
    summary = {"network": args.network, "nodes": nodes, "backend": result.backend, "shards": result.shards,
               "simulated": format_ps(until), "events": result.events, "wall_s": round(result.wall_s, 3),
               "events_per_s": round(result.events_per_s), **details, "digest": result.digest}
    if args.json:
        print(json.dumps(summary))
        return 0
    what = (f"repeater chain: {nodes} nodes, {args.link_km:g} km links ({args.link_km * (nodes - 1):g} km end to "
            f"end), {args.model} link model" if chain else f"ping ring: {nodes} nodes, each with a memory")
    print(f"\n{what}; {format_ps(until)} simulated on the {result.backend} backend "
          f"({result.shards} shard{'s' if result.shards > 1 else ''})")
    width = max(len(k) for k in summary)
    for k, v in summary.items():
        if isinstance(v, float):
            v = f"{v:.4g}"
        print(f"  {k:<{width}}  {v}")
    return 0


def _info() -> int:
    from importlib import metadata

    import msgpack
    import networkx
    import numpy
    print(f"qactors {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}, networkx {networkx.__version__}, "
          f"msgpack {'.'.join(map(str, msgpack.version))}")
    try:
        print(f"ray {metadata.version('ray')}: backends {', '.join(BACKEND_NAMES)}")
    except metadata.PackageNotFoundError:
        print("ray is not installed: only the local backend is available")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        return _info()
    except QactorsError as e:
        print(f"qactors {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
