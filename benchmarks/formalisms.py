"""Cost of state updates in each formalism, in microseconds per operation.

Bell-diagonal (the default): a swap, a DEJMPS and a BBPSSW round, a memory
noise update (``PairRecord.at``, which builds the channel for both ends and
applies it), and a Pauli channel applied to fixed coefficients.  Density
matrix: a full teleportation of one qubit over a Werner resource (3 qubits)
and a 4-qubit entanglement swap.  The target is a few microseconds for the
Bell-diagonal operations, so that a repeater simulation's cost is set by its
events, not its state updates (a kernel event costs 1.5-3 us, see
``benchmarks/kernel.py``).

Prints one JSON line: the median over ``--repeats`` timing runs of each
operation, each run timing many calls.

    python benchmarks/formalisms.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import timeit

import qactors
from qactors.quantum import bell


def per_call_us(fn, repeats: int) -> float:
    """Median over ``repeats`` runs of the time per call, each run long enough (>= 0.2 s) to time."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    runs = timer.repeat(repeat=repeats, number=number)
    return round(1e6 * statistics.median(runs) / number, 3)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    w1, w2 = bell.werner(0.93), bell.werner(0.88)
    noise = bell.MemoryNoise(t1_s=1.0, t2_s=0.5, depolarising_s=5.0)
    record = bell.PairRecord("pair-1", w1, 0, bell.PairEnd("A", noise, 0), bell.PairEnd("B", noise, 10**6))
    channel = noise.channel(1e-3)
    ops = {
        "bell_swap": lambda: bell.swap(w1, w2),
        "bell_dejmps_round": lambda: bell.dejmps(w1, w2),
        "bell_bbpssw_round": lambda: bell.bbpssw(w1, w2),
        "bell_pair_record_at": lambda: record.at(5 * 10**8),
        "bell_apply_channel": lambda: bell.apply_channel(w1, channel),
        "bell_memory_noise_channel": lambda: noise.channel(1e-3),
    }
    try:
        from qactors.quantum import density
    except ImportError:
        density = None
    if density is not None:
        import numpy as np
        resource = density.werner_state(0.9)
        psi = np.array([np.cos(0.3), np.exp(0.7j) * np.sin(0.3)])
        rho_in = density.pure(psi)
        ops["density_teleport_1_qubit"] = lambda: density.teleport(rho_in, resource)
        ops["density_average_teleportation_fidelity"] = lambda: density.average_teleportation_fidelity(resource)
    results = {name: per_call_us(fn, args.repeats) for name, fn in ops.items()}
    print(json.dumps({
        "benchmark": "formalisms", "unit": "us_per_call_median", "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "qactors": qactors.__version__, "results": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
