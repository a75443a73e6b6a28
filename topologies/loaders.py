"""Real networks: GML, GraphML and node-link JSON files, and the topohub package.

Every loader returns an annotated undirected :class:`networkx.Graph` like the
builders' (see :mod:`qactors.topologies.builders`): string node ids, a
``profile`` on every node and edge, ``length_km`` (> 0) on every edge, and
coordinates normalised to ``lat`` / ``lon`` (degrees) or ``pos_km`` (km).

Formats, all read through networkx:

* GML (``.gml``), e.g. the Internet Topology Zoo (S. Knight, H. X. Nguyen,
  N. Falkner, R. Bowden, M. Roughan, "The Internet Topology Zoo", IEEE J. Sel.
  Areas Commun. 29(9), 1765-1775, 2011).  Nodes are named by their ``label``
  when every node has one and no two are equal, otherwise by their GML ``id``.
* GraphML (``.graphml``, ``.xml``); nodes keep their GraphML ids.
* node-link JSON (``.json``), as written by :func:`networkx.node_link_data`
  (the edge list may be called ``edges`` or ``links``).
* topohub (P. Jurkiewicz, https://github.com/piotrjurkiewicz/topohub, MIT
  licence): the Internet Topology Zoo, SNDlib (S. Orlowski,
  R. Wessaely, M. Pioro, A. Tomaszewski, "SNDlib 1.0 -- Survivable Network
  Design Library", Networks 55(3), 276-286, 2010), CAIDA, synthetic Gabriel
  graphs and continental backbones, with link lengths in km.  Optional:
  ``pip install topohub``.

Coordinates are recognised under these node attribute names (case-insensitive):

* latitude: ``lat``, ``latitude`` (``Latitude`` in Topology Zoo files);
  longitude: ``lon``, ``lng``, ``long``, ``longitude``; degrees, north and east positive;
* ``pos_km``: a pair ``(x, y)`` in km on a plane;
* ``x`` and ``y``: ambiguous between files, so only used when the caller says
  what they are: ``xy="lonlat"`` (x = longitude, y = latitude, degrees, as in
  SNDlib) or ``xy="km"`` (a plane, km).

An edge without a length gets one from its ends' coordinates: the great-circle
distance (:func:`~qactors.topologies.geo.great_circle_km`) when both ends have
``lat`` / ``lon``, else the straight line when both have ``pos_km``.  Nothing
is computed silently: such an edge gets ``length_source = "great-circle"`` or
``"planar"`` (``"given"`` otherwise), the graph attribute ``computed_lengths``
lists the edges ``(u, v)`` and the module logs how many there were.  Other
graph attributes say what else the loader changed: ``source`` (the file or
topohub key), ``raised_lengths`` (edges shorter than ``min_length_km`` that were
raised to it), ``removed_self_loops`` and ``merged_parallel_edges`` (parallel
links are merged into the shortest of them; directed files become undirected).
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
import xml.etree.ElementTree as ElementTree
from numbers import Real
from pathlib import Path

import networkx as nx

from qactors.core.errors import ConfigurationError

from qactors.core import checks as _checks
from .geo import great_circle_km

__all__ = ["from_networkx", "load_graph", "load_gml", "load_graphml", "load_node_link_json", "load_topohub",
           "topohub_keys", "SUFFIXES"]

log = logging.getLogger(__name__)

_LAT_NAMES = ("lat", "latitude")
_LON_NAMES = ("lon", "lng", "long", "longitude")
_XY = (None, "lonlat", "km")

SUFFIXES = {".gml": "gml", ".graphml": "graphml", ".xml": "graphml", ".json": "node-link JSON"}
"""File suffixes :func:`load_graph` understands and the format each one means."""


def _error(source: str, where: str, value: object, allowed: str, field: str) -> ConfigurationError:
    return ConfigurationError(f"{source}: {where} = {value!r} is not allowed; allowed: {allowed}",
                              field=field, value=value, file=source)


def _number(value: object) -> float | None:
    """``value`` as a float if it is a real number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _find(data: dict, names: tuple[str, ...]) -> tuple[str, object] | None:
    for key, value in data.items():
        if isinstance(key, str) and key.lower() in names:
            return key, value
    return None


def _coordinates(source: str, node: str, data: dict, xy: str | None) -> None:
    """Normalise ``data``'s coordinates in place to ``lat``/``lon`` and/or ``pos_km``."""
    lat, lon = _find(data, _LAT_NAMES), _find(data, _LON_NAMES)
    if xy == "lonlat" and lat is None and lon is None:
        x, y = _find(data, ("x",)), _find(data, ("y",))
        if x is not None and y is not None:
            lon, lat = x, y
    if (lat is None) != (lon is None):
        have = lat or lon
        raise _error(source, f"node {node!r} {have[0]}", have[1],
                     "latitude and longitude together (lat/lon, Latitude/Longitude, or x/y with xy='lonlat')",
                     have[0])
    if lat is not None:
        values = []
        for (key, raw), bound in ((lat, 90.0), (lon, 180.0)):
            value = _number(raw)
            if value is None or not math.isfinite(value) or abs(value) > bound:
                raise _error(source, f"node {node!r} {key}", raw, f"a number in [-{bound:g}, {bound:g}] (degrees)",
                             key)
            values.append(value)
        data["lat"], data["lon"] = values
    if "pos_km" in data:
        pos = data["pos_km"]
        pair = [_number(p) for p in pos] if isinstance(pos, (list, tuple)) else []
        if len(pair) != 2 or not all(p is not None and math.isfinite(p) for p in pair):
            raise _error(source, f"node {node!r} pos_km", pos, "a pair (x, y) of finite numbers (km)", "pos_km")
        data["pos_km"] = (pair[0], pair[1])
    elif xy == "km":
        x, y = _find(data, ("x",)), _find(data, ("y",))
        if x is not None and y is not None:
            pair = [_number(x[1]), _number(y[1])]
            if not all(p is not None and math.isfinite(p) for p in pair):
                raise _error(source, f"node {node!r} (x, y)", (x[1], y[1]), "two finite numbers (km)", "x")
            data["pos_km"] = (pair[0], pair[1])


def _compute_length(g: nx.Graph, u: str, v: str) -> tuple[float, str] | None:
    a, b = g.nodes[u], g.nodes[v]
    if "lat" in a and "lat" in b:
        return great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]), "great-circle"
    if "pos_km" in a and "pos_km" in b:
        return math.dist(a["pos_km"], b["pos_km"]), "planar"
    return None


def _missing_coordinates(g: nx.Graph, u: str, v: str, xy: str | None) -> str:
    ends = [n for n in (u, v) if not ("lat" in g.nodes[n] or "pos_km" in g.nodes[n])]
    hint = ""
    if xy is None and any(_find(g.nodes[n], ("x",)) for n in (u, v)):
        hint = "; the nodes have x/y: pass xy='lonlat' or xy='km' to use them"
    return f"node(s) {', '.join(repr(n) for n in ends) or 'of different kinds'} without usable coordinates{hint}"


def from_networkx(graph: nx.Graph, *, source: str = "<graph>", length_attr: str = "length_km",
                  length_unit_km: float = 1.0, xy: str | None = None, min_length_km: float | None = None,
                  node_profile: str = "node", link_profile: str = "fibre") -> nx.Graph:
    """An annotated copy of any networkx graph (the loaders all end here).

    Args:
        graph: any networkx graph; directed graphs become undirected, parallel
            edges are merged into the shortest, self-loops are dropped, node ids
            become strings.
        source: name used in error messages and stored as graph attribute ``source``.
        length_attr: edge attribute holding the length (``"length_km"``; topohub uses ``"dist"``).
        length_unit_km: km per unit of ``length_attr`` (1 for km, 0.001 for m,
            1.609344 for statute miles), > 0.
        xy: what node attributes ``x``/``y`` mean: ``None`` (ignored),
            ``"lonlat"`` (degrees) or ``"km"`` (a plane).
        min_length_km: if given (> 0), lengths below it -- co-located nodes,
            rounded distances -- are raised to it and listed in graph attribute
            ``raised_lengths``; if None such a length is an error.
        node_profile, link_profile: profiles for nodes and edges without a
            ``profile`` attribute.

    Raises:
        ConfigurationError: naming ``source``, the node or edge, the value and
            what is allowed: a bad length or coordinate, an edge with neither a
            length nor coordinates at both ends, two node ids equal as strings,
            a bad option.
    """
    if not isinstance(graph, nx.Graph):
        raise _error(source, "graph", type(graph).__name__, "a networkx graph", "graph")
    if not isinstance(length_attr, str) or not length_attr:
        raise _error(source, "length_attr", length_attr, "a non-empty string", "length_attr")
    unit = _checks.real("length_unit_km", length_unit_km, low=0.0, low_open=True)
    if xy not in _XY:
        raise _error(source, "xy", xy, f"one of {_XY}", "xy")
    floor = None if min_length_km is None else _checks.positive_km("min_length_km", min_length_km)
    node_profile = _checks.profile("node_profile", node_profile)
    link_profile = _checks.profile("link_profile", link_profile)

    names: dict[object, str] = {}
    owner: dict[str, object] = {}
    for node in graph.nodes:
        name = str(node)
        if name in owner:
            raise _error(source, "node id", node, f"ids that differ as strings ({owner[name]!r} is also {name!r})",
                         "id")
        names[node], owner[name] = name, node

    out = nx.Graph()
    out.graph.update(graph.graph)
    for node, data in graph.nodes(data=True):
        attrs = dict(data)
        _coordinates(source, names[node], attrs, xy)
        if "profile" in attrs:
            _profile(source, f"node {names[node]!r} profile", attrs["profile"])
        else:
            attrs["profile"] = node_profile
        out.add_node(names[node], **attrs)

    computed: list[tuple[str, str]] = []
    raised: list[tuple[str, str]] = []
    loops: list[str] = []
    merged = 0
    for u, v, data in graph.edges(data=True):
        a, b = sorted((names[u], names[v]))
        if a == b:
            loops.append(a)
            continue
        attrs = dict(data)
        raw = attrs.get(length_attr)
        if raw is not None:
            value = _number(raw)
            if value is None or not math.isfinite(value) or value < 0:
                raise _error(source, f"edge ({a!r}, {b!r}) {length_attr}", raw,
                             f"a finite number >= 0 ({'km' if unit == 1.0 else f'{unit:g} km per unit'})",
                             length_attr)
            length, how = value * unit, "given"
        else:
            found = _compute_length(out, a, b)
            if found is None:
                raise ConfigurationError(
                    f"{source}: edge ({a!r}, {b!r}) has no {length_attr} and its length cannot be computed: "
                    f"{_missing_coordinates(out, a, b, xy)}; allowed: a {length_attr} attribute on the edge, or "
                    f"coordinates on both ends (lat/lon, Latitude/Longitude, pos_km, or x/y with xy=...)",
                    field=length_attr, value=None, file=source, edge=(a, b))
            length, how = found
            computed.append((a, b))
        if not length > 0.0 or (floor is not None and length < floor):
            if floor is None:
                raise _error(source, f"edge ({a!r}, {b!r}) length_km", length,
                             "a number > 0 (pass min_length_km=... to give co-located nodes a short link)",
                             "length_km")
            raised.append((a, b))
            length = floor
        attrs["length_km"] = length
        attrs["length_source"] = how
        if "profile" in attrs:
            _profile(source, f"edge ({a!r}, {b!r}) profile", attrs["profile"])
        else:
            attrs["profile"] = link_profile
        if out.has_edge(a, b):
            merged += 1
            if out.edges[a, b]["length_km"] <= length:
                continue
            out.remove_edge(a, b)
        out.add_edge(a, b, **attrs)

    # parallel links were merged: list each kept edge once, and only if its length was computed
    computed = [e for e in dict.fromkeys(computed) if out.edges[e]["length_source"] != "given"]
    raised = list(dict.fromkeys(raised))
    out.graph.update(source=source, computed_lengths=computed, raised_lengths=raised, removed_self_loops=loops,
                     merged_parallel_edges=merged)
    if computed:
        log.info("%s: computed %d of %d link lengths from node coordinates", source, len(computed),
                 out.number_of_edges())
    return out


def _profile(source: str, where: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise _error(source, where, value, "a non-empty string naming a hardware profile", "profile")


# -- files -------------------------------------------------------------------------------------

def _path(path: str | os.PathLike) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigurationError(f"path = {path!r} is not allowed; allowed: a file path (str or os.PathLike)",
                                 field="path", value=path)
    p = Path(path)
    if not p.is_file():
        raise ConfigurationError(f"{p}: no such file; allowed: the path of an existing file", field="path",
                                 value=str(p), file=str(p))
    return p


def _unreadable(p: Path, kind: str, err: Exception) -> ConfigurationError:
    return ConfigurationError(f"{p}: not a readable {kind} file ({type(err).__name__}: {err}); allowed: a valid "
                              f"{kind} file", field="path", value=str(p), file=str(p))


def load_gml(path: str | os.PathLike, **options) -> nx.Graph:
    """An annotated graph from a GML file (e.g. the Internet Topology Zoo).

    Nodes are named by their ``label`` when all have distinct labels, else by
    their GML ``id``.  ``options`` are those of :func:`from_networkx`.

    Raises:
        ConfigurationError: no such file, malformed GML, or anything
            :func:`from_networkx` refuses; the message names the file.
    """
    p = _path(path)
    try:
        graph = nx.read_gml(p, label=None)
    except (nx.NetworkXError, ValueError, UnicodeDecodeError) as err:
        raise _unreadable(p, "GML", err) from err
    labels = [data.get("label") for _, data in graph.nodes(data=True)]
    if all(isinstance(x, str) and x for x in labels) and len(set(labels)) == len(labels):
        graph = nx.relabel_nodes(graph, dict(zip(graph.nodes, labels)))
    return from_networkx(graph, source=str(p), **options)


def load_graphml(path: str | os.PathLike, **options) -> nx.Graph:
    """An annotated graph from a GraphML file; ``options`` as :func:`from_networkx`.

    Raises:
        ConfigurationError: no such file, malformed GraphML, or anything
            :func:`from_networkx` refuses; the message names the file.
    """
    p = _path(path)
    try:
        graph = nx.read_graphml(p)
    except (nx.NetworkXError, ElementTree.ParseError, ValueError, KeyError) as err:
        raise _unreadable(p, "GraphML", err) from err
    return from_networkx(graph, source=str(p), **options)


def _node_link_graph(data: dict) -> nx.Graph:
    key = "edges" if "edges" in data else "links"
    try:
        return nx.node_link_graph(data, edges=key)
    except TypeError:  # networkx < 3.4 names the argument ``link``
        return nx.node_link_graph(data, link=key)


def load_node_link_json(path: str | os.PathLike, **options) -> nx.Graph:
    """An annotated graph from node-link JSON (:func:`networkx.node_link_data`);
    ``options`` as :func:`from_networkx`.

    Raises:
        ConfigurationError: no such file, malformed JSON or not node-link data,
            or anything :func:`from_networkx` refuses; the message names the file.
    """
    p = _path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise ValueError("no 'nodes' list at the top level")
        graph = _node_link_graph(data)
    except (ValueError, KeyError, TypeError, nx.NetworkXError, UnicodeDecodeError) as err:
        raise _unreadable(p, "node-link JSON", err) from err
    return from_networkx(graph, source=str(p), **options)


def load_graph(path: str | os.PathLike, **options) -> nx.Graph:
    """An annotated graph from a file, the format chosen by its suffix
    (see :data:`SUFFIXES`); ``options`` as :func:`from_networkx`.

    Raises:
        ConfigurationError: an unknown suffix, or what the format's loader raises.
    """
    p = _path(path)
    kind = SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise ConfigurationError(f"{p}: suffix {p.suffix!r} is not allowed; allowed: one of {sorted(SUFFIXES)}",
                                 field="path", value=str(p), file=str(p))
    loader = {"gml": load_gml, "graphml": load_graphml, "node-link JSON": load_node_link_json}[kind]
    return loader(p, **options)


# -- topohub -----------------------------------------------------------------------------------

def _topohub():
    try:
        import topohub
    except ImportError as err:
        raise ImportError("load_topohub needs the optional package 'topohub', which is not installed: "
                          "pip install topohub") from err
    return topohub


def topohub_keys(group: str | None = None) -> list[str]:
    """The keys of the topologies shipped with the installed topohub package,
    sorted (e.g. ``"backbone/europe"``, ``"sndlib/polska"``, ``"topozoo/Abilene"``),
    only those under ``group`` (e.g. ``"backbone"``) if given.

    topohub has no listing function; this reads the data files it ships.

    Raises:
        ImportError: topohub is not installed (``pip install topohub``).
    """
    topohub = _topohub()
    import importlib.resources

    keys = []
    try:
        root = importlib.resources.files(topohub) / "data"
        stack = [(root, "")]
        while stack:
            folder, prefix = stack.pop()
            for entry in folder.iterdir():
                if entry.is_dir():
                    stack.append((entry, f"{prefix}{entry.name}/"))
                elif entry.name.endswith(".json"):
                    keys.append(prefix + entry.name[: -len(".json")])
    except (OSError, TypeError, ValueError, AttributeError):  # a topohub without data files on disk
        return []
    if group is not None:
        keys = [k for k in keys if k.startswith(group.rstrip("/") + "/")]
    return sorted(keys)


def load_topohub(key: str, *, use_names: bool = False, min_length_km: float | None = 0.005,
                 node_profile: str = "node", link_profile: str = "fibre") -> nx.Graph:
    """An annotated graph of a topohub topology (``pip install topohub``).

    topohub stores node-link data with node ``pos`` = ``(longitude, latitude)``
    in degrees -- except the synthetic ``gabriel/...`` graphs, whose ``pos`` is
    a plane position in km -- and each link's length in km as ``dist`` (rounded
    to 0.01 km).  Here ``pos`` becomes ``lat`` / ``lon`` (or ``pos_km``) and
    ``dist`` becomes ``length_km``; other attributes (node ``name`` and
    ``type``, edge ``type``, graph ``demands`` and ``stats``) are kept, with node
    ids as strings in ``demands`` too.

    Args:
        key: topology key ``"group/name"``, e.g. ``"backbone/europe"``,
            ``"topozoo/Abilene"``, ``"sndlib/polska"``, ``"gabriel/25/0"``
            (see :func:`topohub_keys`).
        use_names: name nodes by their ``name`` instead of their number (topohub
            refuses this for topologies with unnamed or repeated names, e.g.
            the backbones).
        min_length_km: links shorter than this are raised to it; the default
            5 m covers the Topology Zoo links between nodes in the same city,
            which topohub records as 0 km.  None makes such a link an error.
        node_profile, link_profile: hardware profile names.

    Raises:
        ImportError: topohub is not installed (the message says ``pip install topohub``).
        ConfigurationError: an unknown key (the message lists close matches),
            a topology whose positions are drawing coordinates rather than
            longitude/latitude (some synthetic SNDlib instances such as
            ``sndlib/atlanta``: topohub's ``dist`` for them is not a length),
            ``use_names`` refused, or a bad option.
    """
    topohub = _topohub()
    source = f"topohub:{key}"
    if not isinstance(key, str) or not key:
        raise ConfigurationError(f"topohub key = {key!r} is not allowed; allowed: a string 'group/name' such as "
                                 f"'backbone/europe'", field="key", value=key)
    if not isinstance(use_names, bool):
        raise ConfigurationError(f"use_names = {use_names!r} is not allowed; allowed: True or False",
                                 field="use_names", value=use_names)
    try:
        data = topohub.get(key, use_names=use_names)
    except KeyError as err:
        close = difflib.get_close_matches(key, topohub_keys(), n=5, cutoff=0.5)
        hint = f"close matches: {close}" if close else "see topohub_keys(), e.g. 'backbone/europe', 'sndlib/polska'"
        raise ConfigurationError(f"topohub key = {key!r} is not known; allowed: a key of the installed topohub "
                                 f"({hint})", field="key", value=key) from err
    except RuntimeError as err:
        raise ConfigurationError(f"{source}: use_names = True is not allowed for this topology ({err}); allowed: "
                                 f"use_names=False", field="use_names", value=use_names) from err
    planar = key.startswith("gabriel/")
    for node in data.get("nodes", []):
        pos = node.get("pos")
        if isinstance(pos, (list, tuple)) and len(pos) == 2:
            if planar:
                node["pos_km"] = tuple(pos)
                continue
            lon, lat = (_number(p) for p in pos)
            if lon is None or lat is None or not (abs(lat) <= 90.0 and abs(lon) <= 180.0):
                raise ConfigurationError(
                    f"{source}: node {node.get('id')!r} pos = {pos!r} is not (longitude, latitude) in degrees: this "
                    f"topology has drawing coordinates, so topohub's dist values for it are not lengths in km; "
                    f"allowed: a topology with geographic positions (e.g. 'sndlib/polska', 'backbone/europe') or "
                    f"a synthetic 'gabriel/...' graph", field="key", value=key, file=source)
            node["lon"], node["lat"] = lon, lat
    demands = data.get("graph", {}).get("demands")
    if isinstance(demands, dict):
        data["graph"]["demands"] = {str(s): {str(t): d for t, d in row.items()} for s, row in demands.items()}
    graph = _node_link_graph(data)
    out = from_networkx(graph, source=source, length_attr="dist", min_length_km=min_length_km,
                        node_profile=node_profile, link_profile=link_profile)
    out.graph["topohub_key"] = key
    return out
