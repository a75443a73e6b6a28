"""Protocol parts: the pieces a node's handling of one request is made of.

A :class:`~qactors.protocols.network.QNode` does what every request needs
(reservation, activation, its memories, delivery and release).  What differs
from request to request is a *part*, chosen by the request
(:class:`~qactors.protocols.requests.Request`):

* a **swapper** (``policy``): when to swap and how the ends learn of it
  (:mod:`qactors.protocols.swappers`);
* a **cut-off** (``cutoff``): when a stored pair is too old to use
  (:mod:`qactors.protocols.cutoffs`);
* a **purifier** (``purification``): which pairs to purify, and when a pair is
  good enough (:mod:`qactors.protocols.purification`).

A part is a parameter record (a ``@message``: frozen, so it travels inside the
request to every node of the path and crosses process boundaries) with the
behaviour as methods.  What it remembers about a request at a node lives in
the state object its :meth:`Part.new_state` makes, kept in the node's role
for the request (``role.state[part.key]``), plain data like every actor state.
Its messages are dispatched to it by type through the same ``@handler``
registry actors use: a method marked ``@handler(SomeMessage)`` is called as
``method(part, node, role, msg, sender)`` for every message of that type that
names the request (messages carry ``request_id``).

A part never touches another actor; it acts through the node it is given
(``node.send``, ``node.set_timer``, the node's memory helpers), so its decision
logic can be tested by feeding messages to a node in a
:class:`~qactors.testing.ActorProbe`.  docs/protocols.md has a worked example.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

from qactors.core.actor import PlainData
from qactors.core.messages import Message

__all__ = ["Part", "PartState", "part_handlers"]

_HANDLERS: dict[type, dict[type, Callable]] = {}


class PartState(PlainData):
    """Base of parts' per-request state (plain data, as all actor state)."""


class Part(Message):
    """Base of protocol parts (see the module docstring).

    Subclasses are ``@message``-decorated records.  ``key`` names the part's
    slot in a role (``"swapper"``, ``"cutoff"`` or ``"purifier"``): a request has
    at most one part per key.
    """

    key: ClassVar[str] = ""

    def new_state(self, node: Any, role: Any) -> Any:
        """The part's state for one request at one node (plain data), made when the node takes the role."""
        return None

    def on_drop(self, node: Any, role: Any, pair_id: str) -> None:
        """The node has dropped (used, discarded or lost) the pair ``pair_id`` of this request."""


def part_handlers(part: Part) -> dict[type, Callable]:
    """``{message type: method}`` of ``part``'s class, from its (and its bases') ``@handler`` marks."""
    cls = type(part)
    table = _HANDLERS.get(cls)
    if table is None:
        names: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for name, fn in vars(klass).items():
                for mt in getattr(fn, "_qactors_handles", ()):
                    names[mt] = name
        table = _HANDLERS[cls] = {mt: getattr(cls, name) for mt, name in names.items()}
    return table
