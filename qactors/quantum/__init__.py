"""Quantum-state formalisms, held locally by the actors that own the qubits.

* :mod:`qactors.quantum.bell` - Bell-diagonal pair records (the default):
  four coefficients per pair, exact for Pauli noise and Clifford protocols.
* :mod:`qactors.quantum.density` - density matrices of small entangled groups
  (up to about ten qubits), for arbitrary states, non-Pauli noise and
  measurements at arbitrary angles.
* :mod:`qactors.quantum.information` - figures of merit computed from states:
  binary entropy, QKD key fractions, CHSH values, teleportation fidelity.

May import :mod:`qactors.core` only.
"""
