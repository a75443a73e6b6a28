"""Shared helpers of the protocol tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qactors.protocols.link import BAD, DARK, GOOD, MidpointSourcePhysics


def _fidelity_sd(physics) -> float:
    """Standard deviation of a heralded pair's fidelity as stored, from every kind of herald's probability
    per attempt (for 3-sigma bounds on a mean fidelity)."""
    if isinstance(physics, MidpointSourcePhysics):  # several pairs: a fidelity per pair number
        heralds = [(pn * physics.stored_probability(n) ** 2, physics.pair_state(n)[0])
                   for n, pn in enumerate(physics.pair_number_probabilities()) if n]
        heralds.append((physics.kind_probabilities()[2], 0.25))
    else:
        heralds = [(q, physics.state(kind)[0]) for kind, q in zip((GOOD, BAD, DARK), physics.kind_probabilities())]
    weight, fidelity = np.array(heralds).T
    weight /= weight.sum()
    mean = (weight * fidelity).sum()
    assert mean == pytest.approx(physics.reference_fidelity(), rel=1e-9)
    return math.sqrt((weight * (fidelity - mean) ** 2).sum())


@pytest.fixture
def fidelity_sd():
    """``fidelity_sd(physics)``: the spread of a link's heralded fidelity (see ``_fidelity_sd``)."""
    return _fidelity_sd
