"""Network builders and loaders (line, ring, grid, real networks), repeater
insertion and the shipped scenario library.

Imported as ``qactors.topologies``.  May import everything below it, never Ray.
"""

__all__: list[str] = []
