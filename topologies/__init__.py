"""Network builders and loaders (line, ring, grid, Waxman, metro, real networks)
and repeater insertion.

Imported as ``qactors.topologies``.  May import everything below it, never Ray.
Every function returns an annotated, undirected :class:`networkx.Graph` with
string node ids; nodes carry ``profile`` and ``pos_km`` (km) or ``lat``/``lon``
(degrees), edges carry ``length_km`` (> 0) and ``profile``.  Such a graph goes
straight into :func:`qactors.protocols.network.quantum_network`.  See
``docs/topologies.md``.

>>> from qactors.topologies import grid, insert_repeaters
>>> g, added = insert_repeaters(grid(2, 2, length_km=60.0), 25.0)
>>> added, g.number_of_nodes()
(8, 12)
"""

from .builders import dumbbell, grid, line, random_geometric, random_graph, ring, star, waxman
from .geo import MEAN_EARTH_RADIUS_KM, great_circle_km, interpolate_great_circle
from .loaders import (SUFFIXES, from_networkx, load_gml, load_graph, load_graphml, load_node_link_json,
                      load_topohub, topohub_keys)
from .city import metro
from .repeaters import RepeaterInsertion, insert_repeaters

__all__ = [
    # builders
    "line", "ring", "star", "grid", "dumbbell", "random_graph", "waxman", "random_geometric", "metro",
    # loaders
    "load_graph", "load_gml", "load_graphml", "load_node_link_json", "load_topohub", "topohub_keys",
    "from_networkx", "SUFFIXES",
    # repeaters
    "insert_repeaters", "RepeaterInsertion",
    # geography
    "great_circle_km", "interpolate_great_circle", "MEAN_EARTH_RADIUS_KM",
]
