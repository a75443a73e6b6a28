"""The routing interface: a router decides a request's path when the request arrives at its source.

A router is a node-level part (like the reservation part): one record of
parameters, shared by every node of a network, with the decision as a method.
The source of a request calls :meth:`Router.route` with a
:class:`~qactors.protocols.routing.map.RouteView` (the static map, its own
links live, other links as their advertisements last told it) when the
request starts, and again for every retry after a rejection or a failure,
with the links that rejected or failed it in ``view.avoid``, if the router
reroutes (``reroute=False`` keeps the first path).  ``advert_ps`` > 0 makes every node advertise its links'
load (:class:`~qactors.protocols.routing.map.LinkState`) to the nodes that
route requests, at most once per ``advert_ps`` and only when it changed.

Writing a router takes a ``@message`` subclass with its parameters as fields
and a ``route`` method; docs/routing.md has a worked example.
"""

from __future__ import annotations

from typing import Any, ClassVar

from qactors.core import checks
from qactors.core.messages import message

from ..parts import Part

__all__ = ["Router", "ROUTERS", "register_router"]

ROUTERS: dict[str, type] = {}
"""Routers by the name scenario files give them (``routing = "rate-aware"``)."""


def register_router(name: str):
    """Class decorator: make a router selectable by ``name`` in scenario files."""
    def add(cls):
        ROUTERS[name] = cls
        cls.name = name
        return cls
    return add


@message
class Router(Part):
    """Base of routers.  ``advert_ps``: how often, at most, nodes advertise their links' load to the
    sources (0: never); ``reroute``: every retry is routed again, avoiding the links that rejected or
    failed the request (False: the first path chosen is kept for every retry, as with paths fixed
    in advance)."""

    key: ClassVar[str] = "routing"
    name: ClassVar[str] = ""
    advert_ps: int = 0
    reroute: bool = True

    def check(self) -> "Router":
        """This router, if its parameters are allowed (else ConfigurationError naming the field)."""
        what = type(self).__name__
        checks.integer(f"{what}.advert_ps", self.advert_ps, low=0, high=checks.MAX_PS, field="advert_ps")
        checks.flag(f"{what}.reroute", self.reroute)
        self.check_fields()
        return self

    def check_fields(self) -> None:
        """Check the subclass's own parameters."""

    def route(self, view: Any) -> tuple | None:
        """The path (node ids from ``view.request.source`` to ``view.request.dest``) to serve the request
        over, or None if there is none this router would use now."""
        raise NotImplementedError
