"""Physical models: channels (fibre, free space, satellite), quantum memories,
photon sources, detectors and Bell-state analysers.

Imported as ``qactors.hardware``.  May import ``qactors.core`` and
``qactors.quantum``; never ``protocols``, ``topologies`` or Ray.
"""

__all__: list[str] = []
