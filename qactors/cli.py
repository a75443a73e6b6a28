"""The ``qactors`` command-line tool.

Subcommands:
  run    run a scenario file and write its results (see docs/scenario-format.md)
  resume go on from the newest checkpoint of a run (qactors run --checkpoint-every) to its end
  fork   go on from a checkpoint with another routing policy, into another folder
  check  validate a scenario file without running it
  stress compare routing policies on a scenario under increasing load (replicas, saturation load)
  demo   run a built-in demo network (a repeater chain, or a ping ring) and print a summary
  info   print versions and which backends are available

Exit codes: 0 success, 2 invalid input (a bad option, an invalid scenario, results that
would be overwritten); an invalid scenario prints every problem found, one per line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

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


_UNITS = {"ps": 1, "ns": 1_000, "us": 1_000_000, "ms": MS, "s": 1_000 * MS}


def _duration(text: str) -> int:
    """A simulated duration such as ``100ms``, ``2 s`` or ``500us``, in picoseconds."""
    t = text.strip().lower()
    for unit in sorted(_UNITS, key=len, reverse=True):
        if t.endswith(unit):
            try:
                value = float(t[:-len(unit)])
            except ValueError:
                break
            ps = round(value * _UNITS[unit])
            if value > 0 and ps >= 1:
                return ps
            break
    raise argparse.ArgumentTypeError(f"expected a positive duration with a unit ({', '.join(_UNITS)}), "
                                     f"e.g. 100ms, got {text!r}")


def _ray_address_option(q) -> None:
    q.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="run the Ray backends on this Ray cluster ('auto': the cluster this machine belongs to, as "
                        "under ray job submit; or host:port, ray://host:10001). Without it a Ray backend starts a "
                        "private instance on this machine and ignores RAY_ADDRESS")


def _on_cluster(args):
    """The Ray connection ``--ray-address`` asks for, kept for the whole command (or nothing)."""
    import contextlib
    if getattr(args, "ray_address", None) is None:
        return contextlib.nullcontext()
    from .backends.ray_backend import ray_instance
    return ray_instance(address=args.ray_address)


def _checkpoint_options(q, default: str = "none") -> None:
    q.add_argument("--checkpoint-every", type=_duration, default=None, metavar="DUR",
                   help="write the run's whole state every DUR of simulated time (e.g. 100ms) into "
                        "<output folder>/checkpoints, so that qactors resume can go on from it, and stream the "
                        f"deliveries so far into <output folder>/stream (default: {default})")
    q.add_argument("--checkpoint-keep", type=_positive_int, default=2, metavar="N",
                   help="checkpoints to keep, the newest (default 2)")


def _set_option(q) -> None:
    q.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="change one value of the file for this run, e.g. --set run.duration_ms=20 "
                        "--set traffic.rate_hz=500 (a TOML value; a bare word is a string); repeatable, "
                        "checked like the file; recorded in run.json and checkpoints")


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
    r = sub.add_parser("run", help="run a scenario file and write its results",
                       description="Validate SCENARIO (a TOML file, see docs/scenario-format.md), run it with a "
                                   "progress bar in simulated time, print a summary per request and write "
                                   "summary.json, deliveries.csv and run.json to the output folder "
                                   "(--out, relative to the current folder; else outputs.dir, relative to the "
                                   "scenario file; default results/<scenario name> in the current folder). "
                                   "Results already there are never replaced unless --overwrite is given.")
    r.add_argument("scenario", metavar="SCENARIO", help="the scenario file (.toml)")
    r.add_argument("--out", metavar="DIR", default=None, help="output folder (overrides outputs.dir)")
    r.add_argument("--seed", type=int, default=None, metavar="N", help="random seed (overrides run.seed)")
    _set_option(r)
    r.add_argument("--backend", default=None, metavar="B",
                   help="local, ray, ray:K or ray-per-actor (overrides run.backend)")
    r.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    r.add_argument("--overwrite", action="store_true",
                   help="replace the whole result set of an earlier run in the output folder")
    _checkpoint_options(r)
    _ray_address_option(r)
    rs = sub.add_parser("resume", help="go on from the newest checkpoint of a run to its end",
                        description="Read the newest checkpoint in DIR (a run's output folder, its checkpoints/ "
                                    "folder, or a checkpoint file), check that the scenario file it names is "
                                    "unchanged, run on to the end and write the results as qactors run would "
                                    "have (the same results and digest as an uninterrupted run).")
    fk = sub.add_parser("fork", help="go on from a checkpoint with another routing policy",
                        description="Like resume, but every node routes new requests and retries with --routing "
                                    "from the checkpoint on, and the results go to --out: two policies compared "
                                    "from the same network state.")
    for q in (rs, fk):
        q.add_argument("where", metavar="DIR", help="a run's output folder, its checkpoints/ folder or a checkpoint")
        q.add_argument("--backend", default=None, metavar="B", help="local, ray, ray:K (default: the run's)")
        q.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
        _checkpoint_options(q, "the run's own interval")
        _ray_address_option(q)
    fk.add_argument("--routing", required=True, metavar="POLICY",
                    help="the routing policy from the checkpoint on (shortest, fewest-hops, rate-aware, "
                         "fidelity-aware, k-shortest, congestion-aware, greedy-geographic, q-cast)")
    fk.add_argument("--out", required=True, metavar="NEW", help="output folder of the fork (must hold no results)")
    st = sub.add_parser("stress", help="compare routing policies on a scenario under increasing load",
                        description="Run SCENARIO (an entanglement scenario, usually with [traffic]) with each "
                                    "routing policy at each load level, REPLICAS seeds each (run.seed + 0, 1, ...; "
                                    "as parallel Ray tasks, or one after another with --workers local), print a "
                                    "table with 95 % confidence intervals over replicas and each policy's "
                                    "saturation load, and write stress.csv, stress.json, requests.csv, "
                                    "requests.parquet and plots to the output folder (--out; default "
                                    "results/<scenario name>-stress). Options override the file's [stress] "
                                    "table. See docs/stress.md.")
    st.add_argument("scenario", metavar="SCENARIO", help="the scenario file (.toml)")
    st.add_argument("--policies", metavar="A,B,C", default=None,
                    help="routers to compare (default [stress].policies, else shortest,k-shortest,congestion-aware)")
    st.add_argument("--load", metavar="LO:HI:N", default=None,
                    help="load levels: N values from LO to HI, or a list V1,V2,... (default [stress].loads)")
    st.add_argument("--load-key", metavar="KEY", default=None,
                    help="the scenario key the load sets (default [stress].load_key, else traffic.rate_hz)")
    st.add_argument("--replicas", type=_positive_int, default=None, metavar="R",
                    help="seeds per (policy, load) (default [stress].replicas, else 3)")
    st.add_argument("--threshold", type=float, default=None, metavar="F",
                    help="saturation: the load where the served fraction falls below F (default 0.9)")
    st.add_argument("--seed", type=int, default=None, metavar="N", help="first replica's seed (default run.seed)")
    st.add_argument("--workers", choices=("auto", "ray", "local"), default="auto",
                    help="ray: each run a Ray task; local: one after another here; auto (default): ray")
    st.add_argument("--num-cpus", type=_positive_int, default=None, metavar="K",
                    help="CPUs for the Ray instance started here (default all; ignored when Ray is running)")
    st.add_argument("--out", metavar="DIR", default=None, help="output folder (default results/<name>-stress)")
    st.add_argument("--overwrite", action="store_true", help="replace the results of an earlier stress run there")
    st.add_argument("--no-plots", action="store_true", help="do not draw throughput.png and latency-cdf.png")
    st.add_argument("--no-progress", action="store_true", help="do not report each finished run")
    c = sub.add_parser("check", help="validate a scenario file without running it")
    c.add_argument("scenario", metavar="SCENARIO", help="the scenario file (.toml)")
    _set_option(c)
    for q in (r, c, st, rs, fk):
        q.add_argument("--allow-outside-paths", action="store_true",
                       help="let topology.file and outputs.dir in the scenario file be absolute or lead outside "
                            "its folder (refused by default, so that a file cannot read or write elsewhere)")
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


def _run_scenario(args) -> int:
    from .scenario import Scenario, format_summary, prepare_output_dir, run_scenario, write_outputs
    scenario = Scenario.from_toml(args.scenario, allow_outside=args.allow_outside_paths, output_dir=args.out,
                                  settings=tuple(args.settings))
    scenario = scenario.with_overrides(seed=args.seed, backend=args.backend,
                                       progress=False if args.no_progress else None)
    prepare_output_dir(scenario, overwrite=args.overwrite)  # refuse before running, not after
    print(f"{scenario.file}: {scenario.describe()}")
    run = run_scenario(scenario, progress=ProgressBar() if scenario.progress else None, in_place=True,
                       checkpoint_every_ps=args.checkpoint_every, checkpoint_keep=args.checkpoint_keep)
    print(format_summary(run))  # first, so that the results are on screen whatever happens to the files
    written = write_outputs(run, overwrite=args.overwrite)
    print(f"wrote {', '.join(p.name for p in written)} to {scenario.output_dir}" if written else
          "wrote nothing (outputs.files is empty)")
    return 0


def _resume(args, fork: bool) -> int:
    from .scenario import format_summary, write_outputs
    from .scenario.run import resume_scenario
    change = None
    if fork:
        from .protocols.network import rerouted
        from .protocols.routing import router_named
        change = rerouted(router_named(args.routing))
    run = resume_scenario(args.where, backend=args.backend, change=change, output_dir=args.out if fork else None,
                          progress=None if args.no_progress else ProgressBar(),
                          checkpoint_every_ps=args.checkpoint_every, checkpoint_keep=args.checkpoint_keep,
                          allow_outside=args.allow_outside_paths)
    what = f"forked with routing {args.routing!r}" if fork else "resumed"
    print(f"{run.scenario.file}: {what} from t={format_ps(run.result.stats['resumed_from_ps'])}")
    print(format_summary(run))
    written = write_outputs(run, overwrite=True)  # the run's own folder (or the fork's, checked empty above)
    print(f"wrote {', '.join(p.name for p in written)} to {run.scenario.output_dir}" if written else
          "wrote nothing (outputs.files is empty)")
    return 0


def _stress(args) -> int:
    from pathlib import Path

    from .stress import format_stress, plan, prepare_stress_dir, stress, write_stress
    from .stress.report import default_dir
    policies = [x.strip() for x in args.policies.split(",") if x.strip()] if args.policies is not None else None
    p = plan(args.scenario, policies=policies, loads=args.load, load_key=args.load_key, replicas=args.replicas,
             threshold=args.threshold, seed=args.seed, allow_outside=args.allow_outside_paths)
    out = Path(args.out) if args.out is not None else default_dir(p.name)
    prepare_stress_dir(out, overwrite=args.overwrite)  # refuse before running, not after
    print(f"{args.scenario}: stress test of {p.name!r}: {p.describe()}")
    t0 = time.perf_counter()

    def progress(done: int, total: int, point: tuple) -> None:
        policy, load, replica = point
        end = "\n" if done == total or not sys.stderr.isatty() else ""
        sys.stderr.write(f"\rstress: {done}/{total} runs ({policy}, {p.load_key} = {load:g}, replica {replica}) "
                         f"{time.perf_counter() - t0:.0f} s{end}")
        sys.stderr.flush()
    result = stress(p, workers=args.workers, num_cpus=args.num_cpus,
                    progress=None if args.no_progress else progress)
    print(format_stress(result))
    written, notes = write_stress(result, out, overwrite=args.overwrite, plots=not args.no_plots)
    print(f"wrote {', '.join(w.name for w in written)} to {out} ({result.workers} workers, "
          f"{time.perf_counter() - t0:.1f} s)")
    for note in notes:
        print(f"  note: {note}")
    return 0


def _check_scenario(args) -> int:
    from .scenario import Scenario
    scenario = Scenario.from_toml(args.scenario, allow_outside=args.allow_outside_paths,
                                  settings=tuple(args.settings))
    print(f"{scenario.file}: valid; {scenario.describe()}")
    for note in scenario.notes:
        print(f"  note: {note}")
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
        if args.command == "run":
            with _on_cluster(args):  # connected first: the scenario's ray:K is checked against that cluster
                return _run_scenario(args)
        if args.command == "check":
            return _check_scenario(args)
        if args.command == "stress":
            return _stress(args)
        if args.command in ("resume", "fork"):
            with _on_cluster(args):
                return _resume(args, args.command == "fork")
        if args.command == "demo":
            return _demo(args)
        return _info()
    except QactorsError as e:
        if getattr(e, "problems", None):  # a ScenarioError: its message lists every problem, one per line
            print(f"qactors {args.command}: {e}", file=sys.stderr)
            return 2
        print(f"qactors {args.command}: {type(e).__name__}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
