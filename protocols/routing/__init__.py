"""Routing: which path a request takes, decided when it arrives at its source.

* :mod:`.map`: what a node knows (the static :class:`NetworkMap`, the
  :class:`LinkState` advertisements of other nodes, a :class:`RouteView` of both);
* :mod:`.base`: the :class:`Router` interface and the registry of names;
* :mod:`.policies`: the built-in routers;
* :mod:`.qcast`: Q-CAST (``"q-cast"``), the path of highest expected throughput (EXT) of
  Shi & Qian, SIGCOMM 2020.

``quantum_network(..., router=RateAware())`` makes every node route with it;
``routing = "rate-aware"`` does the same in a scenario file.
"""

from .base import ROUTERS, Router, register_router
from .map import LinkState, MapLink, MapNode, NetworkMap, RouteView
from .policies import (CongestionAware, FewestHops, FidelityAware, GreedyGeographic, KShortest, RateAware,
                       ShortestPath, estimated_fidelity)
from .qcast import QCast, estimated_ext, free_width, path_ext, width_distribution

__all__ = ["Router", "ROUTERS", "register_router", "NetworkMap", "MapLink", "MapNode", "LinkState", "RouteView",
           "ShortestPath", "FewestHops", "RateAware", "FidelityAware", "KShortest", "CongestionAware",
           "GreedyGeographic", "estimated_fidelity", "QCast", "estimated_ext", "path_ext", "width_distribution",
           "free_width", "router_named"]


def router_named(name: str, **params) -> Router:
    """The built-in (or registered) router called ``name``, with ``params`` as its fields, checked.

    Raises:
        ConfigurationError: an unknown name, an unknown parameter, or a value out of range.
    """
    from qactors.core import checks

    cls = ROUTERS.get(name)
    if cls is None:
        raise checks.fail("routing", name, f"one of {sorted(ROUTERS)}", field="routing")
    fields = set(cls._qactors_fields)
    unknown = sorted(set(params) - fields)
    if unknown:
        raise checks.fail(f"routing {name!r} parameter", unknown[0], f"one of {sorted(fields)}", field=unknown[0])
    return cls(**params).check()
