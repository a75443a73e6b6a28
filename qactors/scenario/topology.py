"""The ``[topology]`` section: which network, its nodes' and links' profiles, and repeater insertion.

:class:`TopologyReader` checks the section (a builder of :mod:`qactors.topologies`
with its parameters, a graph file, a TopoHub name, or explicit ``[[topology.links]]``),
builds the graph and names, for each problem with a profile, the key that gave
it.  A graph file's path is relative to the scenario file and may not leave its
folder unless the caller allows it (``qactors run --allow-outside-paths``).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

import networkx as nx

from ..core import checks
from ..core.errors import ConfigurationError
from ..topologies import (dumbbell, grid, insert_repeaters, line, load_graph, load_topohub, metro, random_geometric,
                          random_graph, ring, star, waxman)
from .schema import REQUIRED, Checker, Key, closest, good, num, show

__all__ = ["BUILDERS", "NODE_ID", "TopologyReader", "contained_path"]

BUILDERS: dict[str, Callable[..., nx.Graph]] = {
    "line": line, "ring": ring, "star": star, "grid": grid, "dumbbell": dumbbell, "random": random_graph,
    "waxman": waxman, "random_geometric": random_geometric, "metro": metro}
"""``topology.builder`` name -> builder function of :mod:`qactors.topologies`."""

_FILE_OPTIONS = ("length_attr", "length_unit_km", "xy", "min_length_km")
_TOPOHUB_OPTIONS = ("use_names", "min_length_km")
_PROFILE_PARAMS = ("node_profile", "link_profile")  # set by topology.default_*_profile, not in params
_TOPOLOGY = {"builder": Key("str", choices=tuple(BUILDERS)), "file": Key("str"), "topohub": Key("str"),
             "nodes": Key("tables"), "links": Key("tables"), "params": Key("table"),
             "max_segment_km": num(low=0, low_open=True, high=checks.MAX_LENGTH_KM),
             "default_node_profile": Key("str", "node", text="a profile name (a string)"),
             "default_link_profile": Key("str", "fibre", text="a profile name (a string)"),
             "repeater_profile": Key("str", text="a profile name (a string)")}
_KINDS = ("builder", "file", "topohub", "links")  # exactly one (nodes go with links)
NODE_ID = "a node id (a non-empty string)"
_NODE = {"id": Key("id", REQUIRED, text=NODE_ID), "profile": Key("str", text="a profile name (a string)")}
_LINK = {"a": Key("id", REQUIRED, text=NODE_ID), "b": Key("id", REQUIRED, text=NODE_ID),
         "length_km": num(REQUIRED, low=0, low_open=True, high=checks.MAX_LENGTH_KM), "profile": Key("str")}


class TopologyReader:
    """Checks a ``[topology]`` table and builds its graph, adding problems to ``ck`` and notes to ``notes``."""

    def __init__(self, ck: Checker, base_dir: Path, notes: list[str], allow_outside: bool = False):
        self.ck = ck
        self.base_dir = base_dir
        self.notes = notes
        self.allow_outside = allow_outside

    def read(self, data: dict) -> dict | None:
        return self._topology(data)

    # -- topology ------------------------------------------------------------------------------------
    def _topology(self, data: dict) -> dict | None:
        ck = self.ck
        t = ck.table("topology", data, _TOPOLOGY)
        given = [k for k in _KINDS if data.get(k) is not None]
        if "nodes" in data and "links" not in data:
            ck.add("topology.links", None, "is missing; required with topology.nodes: an array of tables "
                   "[[topology.links]] with a, b, length_km")
            return None
        if not given:
            ck.add("topology", None, "has no network; required: exactly one of topology.builder, topology.file, "
                   "topology.topohub, or [[topology.links]] (with optional [[topology.nodes]])")
            return None
        if len(given) > 1:
            for k in given[1:]:
                ck.add(f"topology.{k}", data[k], f"{show(data[k])} cannot be combined with topology.{given[0]}; "
                       f"allowed: exactly one of builder, file, topohub, links")
            return None
        kind = given[0]
        if kind == "links" and "params" in data:
            ck.bad("topology.params", data["params"], "params only with topology.builder, topology.file or "
                   "topology.topohub", "is not used by an explicit [[topology.links]] network")
        if not good(*t.values()):
            return None
        t["kind"] = kind
        if t["repeater_profile"] is None:
            t["repeater_profile"] = t["default_node_profile"]
        params = dict(t["params"] or {})
        if kind == "builder":
            fn = BUILDERS[t["builder"]]
            sig = inspect.signature(fn).parameters
            allowed = [p for p in sig if p not in _PROFILE_PARAMS]
            required = [p for p, s in sig.items() if s.default is inspect.Parameter.empty]
            self._params(params, allowed, required, f"builder {t['builder']!r} ({fn.__name__})")
        elif kind in ("file", "topohub"):
            options = _FILE_OPTIONS if kind == "file" else _TOPOHUB_OPTIONS
            self._params(params, options, (), "the file loader" if kind == "file" else "load_topohub")
        resolved = {k: v for k, v in data.items() if k not in ("nodes", "links")}
        resolved.update({k: t[k] for k in ("default_node_profile", "default_link_profile", "repeater_profile")})
        if kind == "links":
            t["node_list"] = self._explicit_nodes(data.get("nodes"))
            t["link_list"] = self._explicit_links(data["links"], t["node_list"], t["default_link_profile"])
            if t["node_list"] is None or t["link_list"] is None:
                return None
            resolved["nodes"] = [{"id": n, "profile": p or t["default_node_profile"]}
                                 for n, p in t["node_list"].items()]
            resolved["links"] = [dict(zip(("a", "b", "length_km", "profile"), link)) for link in t["link_list"]]
        t["params"] = params
        t["resolved"] = resolved
        return None if any(p.key.startswith("topology") for p in ck.problems) else t

    def _params(self, params: dict, allowed, required, what: str) -> None:
        for key, value in params.items():
            if key in _PROFILE_PARAMS:
                self.ck.add(f"topology.params.{key}", value, f"{show(value)} is not allowed here: profiles are "
                            f"set by topology.default_{key}; allowed keys for {what}: {', '.join(allowed)}")
            elif key not in allowed:
                self.ck.add(f"topology.params.{key}", value, f"unknown key, set to {show(value)}"
                            f"{closest(key, allowed)}; allowed keys for {what}: {', '.join(allowed)}")
        for key in required:
            if key not in params:
                self.ck.add(f"topology.params.{key}", None, f"is missing; required by {what}")

    def _explicit_nodes(self, nodes: list | None) -> dict | None:
        if nodes is None:
            return {}
        out: dict[str, str] = {}
        for i, data in enumerate(nodes):
            n = self.ck.table(f"topology.nodes[{i}]", data, _NODE)
            if not good(n["id"], n["profile"]):
                continue
            if n["id"] in out:
                self.ck.bad(f"topology.nodes[{i}].id", n["id"], "an id no other node has", "is already the id of "
                            "another node")
                continue
            out[n["id"]] = n["profile"]  # None: the default, applied when the graph is built
        return out

    def _explicit_links(self, links: list, nodes: dict | None, default: str) -> list | None:
        if nodes is None:
            return None
        declared = bool(nodes)
        out, seen = [], {}
        for i, data in enumerate(links):
            link = self.ck.table(f"topology.links[{i}]", data, _LINK)
            if not good(*link.values()):
                continue
            a, b = link["a"], link["b"]
            bad = False
            for end in ("a", "b"):
                if declared and link[end] not in nodes:
                    self.ck.bad(f"topology.links[{i}].{end}", link[end], "a node declared in [[topology.nodes]]"
                                + closest(link[end], nodes), "is not a node")
                    bad = True
            if a == b:
                self.ck.bad(f"topology.links[{i}].b", b, "a node other than a", "is the same node as a")
                bad = True
            pair = frozenset((a, b))
            if pair in seen:
                self.ck.bad(f"topology.links[{i}]", f"{a} - {b}", f"one link per pair of nodes (topology.links"
                            f"[{seen[pair]}] already joins them)", "is a second link")
                bad = True
            seen.setdefault(pair, i)
            if not bad:
                out.append((a, b, link["length_km"], link["profile"] or default, link["profile"] is not None))
        if not declared:
            for a, b, *_ in out:
                nodes.setdefault(a, None)
                nodes.setdefault(b, None)
        return out

    def graph(self, t: dict) -> nx.Graph | None:
        ck = self.ck
        node_p, link_p = t["default_node_profile"], t["default_link_profile"]
        kind = t["kind"]
        try:
            if kind == "builder":
                g = BUILDERS[t["builder"]](**t["params"], node_profile=node_p, link_profile=link_p)
            elif kind == "file":
                path = contained_path(ck, "topology.file", t["file"], self.base_dir, self.allow_outside)
                if path is None:
                    return None
                if not path.is_file():
                    ck.bad("topology.file", t["file"], f"the path of a graph file, relative to the scenario file's "
                           f"folder ({path} does not exist)", "is not a file")
                    return None
                g = load_graph(path, **t["params"], node_profile=node_p, link_profile=link_p)
            elif kind == "topohub":
                g = load_topohub(t["topohub"], **t["params"], node_profile=node_p, link_profile=link_p)
            else:
                g = nx.Graph(name=f"{ck.file} [[topology.links]]")
                for node, profile in t["node_list"].items():
                    g.add_node(node, profile=profile or node_p)
                for a, b, length, profile, _ in t["link_list"]:
                    g.add_edge(a, b, length_km=length, profile=profile)
        except ImportError as err:
            ck.bad(f"topology.{kind}", t[kind], "a topology the installed packages can load", f"cannot be loaded "
                   f"({err})")
            return None
        except (ConfigurationError, TypeError) as err:
            field = getattr(err, "field", None)
            key = f"topology.params.{field}" if field in t["params"] else f"topology.{kind}"
            ck.add(key, getattr(err, "value", None), f"{kind} {t[kind]!r} refused it: {err}")
            return None
        except RecursionError:
            ck.bad(f"topology.{kind}", t[kind], "a graph file without deeply nested lists", "nests too deeply to read")
            return None
        except (KeyError, ValueError, OSError) as err:
            ck.bad(f"topology.{kind}", t[kind], "a topology the loader can read", f"cannot be loaded ({err!r})")
            return None
        if t["max_segment_km"] is not None:
            try:
                g, added = insert_repeaters(g, t["max_segment_km"], profile=t["repeater_profile"])
            except ConfigurationError as err:
                ck.add("topology.max_segment_km", t["max_segment_km"], f"repeater insertion refused it: {err}")
                return None
            self.notes.append(f"{added} repeater{'s' if added != 1 else ''} inserted (max_segment_km = "
                              f"{t['max_segment_km']:g})")
        if kind in ("file", "topohub"):
            for attr, instead in (("channels", "memories_per_link in the node profiles"),
                                  ("physics", "the link profiles")):
                edges = [(u, v) for u, v, d in g.edges(data=True) if attr in d]
                if edges:
                    ck.add(f"topology.{kind}", t[kind], f"{show(t[kind])} sets {attr!r} on {len(edges)} "
                           f"link{'s' * (len(edges) > 1)} (e.g. ({edges[0][0]}, {edges[0][1]})), which a scenario "
                           f"does not read; allowed: a graph without it: set {instead} instead")
                    return None
        for attr in ("computed_lengths", "raised_lengths"):
            if g.graph.get(attr):
                self.notes.append(f"{len(g.graph[attr])} link lengths {attr.split('_')[0]} by the loader")
        return g

    def check_profiles(self, g: nx.Graph, t: dict, profiles: dict) -> bool:
        """Every node's and link's profile is defined (each undefined one named where it was set)."""
        ck = self.ck
        missing = False
        for kind, items, defined in (("nodes", list(g.nodes(data=True)), profiles["nodes"]),
                                     ("links", [((u, v), d) for u, v, d in g.edges(data=True)], profiles["links"])):
            users: dict[str, list] = {}
            for item, data in items:
                users.setdefault(data.get("profile"), []).append(item)
            for name, members in users.items():
                if name in defined:
                    continue
                missing = True
                example = ", ".join(m if isinstance(m, str) else f"({m[0]}, {m[1]})" for m in members[:3]) + (
                    " ..." if len(members) > 3 else "")
                ck.add(self.profile_source(kind, name, t), name, f"{show(name)} is not defined (used by "
                       f"{len(members)} {kind[:-1]}{'s' if len(members) > 1 else ''}: {example}); allowed: one of "
                       f"the [profiles.{kind}.NAME] tables {sorted(defined)}{closest(str(name), defined)}")
        return not missing

    def endpoints(self, g: nx.Graph, path: str, source: str, dest: str) -> bool:
        """Both ends of a request are nodes of ``g`` and connected."""
        ok = True
        for field, node in (("source", source), ("dest", dest)):
            if node not in g:
                self.ck.bad(f"{path}.{field}", node, f"a node of the topology{closest(node, g.nodes)}",
                            "is not a node of the topology")
                ok = False
        if ok and not nx.has_path(g, source, dest):
            self.ck.bad(f"{path}.dest", dest, f"a node connected to the source {source!r} (they are in different "
                        f"components of the topology)", "is not connected to the source")
            ok = False
        return ok

    @staticmethod
    def profile_source(kind: str, name: str, t: dict) -> str:
        """The key that gave nodes or links the profile ``name``."""
        if kind == "links":
            if t["kind"] == "links":
                return next((f"topology.links[{i}].profile" for i, link in enumerate(t["link_list"])
                             if link[3] == name and link[4]), "topology.default_link_profile")
            return "topology.default_link_profile" if name == t["default_link_profile"] else f"topology.{t['kind']}"
        if t["kind"] == "links":
            ids = list(t["node_list"])
            for i, node in enumerate(ids):
                if t["node_list"][node] == name:
                    return f"topology.nodes[{i}].profile"
        if t["params"].get("hub_profile") == name:
            return "topology.params.hub_profile"
        if t["max_segment_km"] is not None and name == t["repeater_profile"] != t["default_node_profile"]:
            return "topology.repeater_profile"
        if name == t["default_node_profile"] or t["kind"] in ("builder", "links"):
            return "topology.default_node_profile"
        return f"topology.{t['kind']}"



def contained_path(ck: Checker, key: str, given: str, base_dir: Path, allow_outside: bool) -> Path | None:
    """``given`` (a path from the scenario file) relative to ``base_dir``; refused (None) if it is absolute or
    leaves that folder, unless ``allow_outside``."""
    path = Path(given)
    if allow_outside:
        return path if path.is_absolute() else base_dir / path
    if path.is_absolute():
        ck.bad(key, given, "a path relative to the scenario file's folder, inside it (to allow absolute paths "
               "and paths outside it, pass --allow-outside-paths to qactors, or allow_outside=True)",
               "is an absolute path")
        return None
    resolved = (base_dir / path).resolve()
    if not resolved.is_relative_to(base_dir.resolve()):
        ck.bad(key, given, f"a path inside the scenario file's folder {str(base_dir)!r} (to allow paths outside "
               f"it, pass --allow-outside-paths to qactors, or allow_outside=True)", "leaves the scenario's folder")
        return None
    return base_dir / path
