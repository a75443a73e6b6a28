"""Behaviour: link-layer entanglement generation, swapping, purification,
teleportation, QKD, routing and request handling, as actors.

Imported as ``qactors.protocols``.  May import ``qactors.hardware`` and the
core; never Ray or ``topologies``.
"""

__all__: list[str] = []
