"""The reservation part: how a request's path reserves memory slots before it starts.

:class:`HopByHop`: at ``start_ps`` the source reserves ``channels`` slots on
its first link and sends :class:`~qactors.protocols.requests.Reserve` along
the path; every node checks that the slots offered on its incoming link are
free at its end too, reserves as many on its outgoing link and passes it on.
A node that cannot answers :class:`~qactors.protocols.requests.Reject`, which
travels back freeing what was held; the source retries after a random
back-off of ``min_backoff``-``max_backoff`` path round trips, up to the
request's ``retries``.  With ``backoff_ps`` > 0 the wait before retry ``k``
is at least ``backoff_ps x 2^(k-1) x u``, ``u`` uniform in [0.5, 1.5)
(binary exponential back-off, as Ethernet's and TCP's): under load a
request then waits for a memory to free up instead of spending its
retries within a millisecond.  The destination answers the source with
:class:`~qactors.protocols.requests.Confirm`, and the source starts the path in
step.  Two requests that reserve the same link from opposite ends at once
both fail and retry: simple, and never deadlocks.  On a link with shared
memories nothing is reserved: the request only joins the pool.

It is a node-level part (``QNode(..., reservation=...)``): the nodes of a
network agree on one reservation protocol, whatever their requests.
"""

from __future__ import annotations

from typing import Any, ClassVar

from qactors.core import checks
from qactors.core.actor import handler
from qactors.core.messages import message

from .parts import Part
from .requests import Confirm, Reject, Reserve, _Deadline, _fail, _Start


__all__ = ["HopByHop"]


def _refusal(node: Any, link: str, otherwise: str) -> str:
    """Why ``link`` cannot be reserved: it is down, or ``otherwise``."""
    return "link is down" if link in node.down_links else otherwise


@message
class HopByHop(Part):
    """Reserve hop by hop with rejection and random back-off (see the module docstring)."""

    key: ClassVar[str] = "reservation"
    min_backoff: int = 1  # path round trips
    max_backoff: int = 3
    backoff_ps: int = 0   # > 0: the least wait before the first retry, doubled at each retry

    def check(self) -> "HopByHop":
        if not (type(self.min_backoff) is int and type(self.max_backoff) is int
                and 1 <= self.min_backoff <= self.max_backoff):
            raise _fail("HopByHop back-off", (self.min_backoff, self.max_backoff),
                        "ints 1 <= min_backoff <= max_backoff (path round trips)", "reservation")
        checks.integer("HopByHop.backoff_ps", self.backoff_ps, low=0, high=checks.MAX_PS, field="backoff_ps")
        return self

    @handler(_Start)
    def on_start(self, node: Any, msg: _Start, sender: str) -> None:
        given = node.pending[msg.request_id]
        old = node.roles.get(msg.request_id)
        if old is not None and old.status != "reserving":
            return  # ended (its deadline passed while it waited to retry), or active
        if msg.attempt == 0 and given.deadline_ps:
            node.set_timer(_Deadline(given.request_id), delay_ps=max(0, given.deadline_ps - node.now))
        request, why = node._routed(given, msg.busy)
        role = node._new_role(request, 0) if request is not None else node._unrouted_role(given)
        node._table("roles")[given.request_id] = role
        role.attempt = msg.attempt
        if request is None:
            self._rejected(node, role, node.id, why)
            return
        node._count(role)
        link = node._port_to(request.path[1]).link
        channels = node._free_channels(request.path[1], request.channels)
        if len(channels) < request.channels:
            self._rejected(node, role, node.id, _refusal(node, link, "no free memory on the first link"), link)
            return
        node._reserve(role, channels)
        role.right = tuple(channels)
        node._to(role, 1, Reserve(request, 1, tuple(channels), msg.attempt))

    @handler(Reserve)
    def on_reserve(self, node: Any, msg: Reserve, sender: str) -> None:
        request = msg.request
        role = node.roles.get(request.request_id)
        if role is not None and role.status != "reserving":
            node.ignored += 1
            return
        role = role or node._new_role(request, msg.hop)
        role.attempt = msg.attempt
        incoming = node._port_to(request.path[msg.hop - 1]).link
        busy = [c for c in msg.channels if c in node.owner and node.owner[c] != request.request_id]
        if busy or incoming in node.down_links:
            why = _refusal(node, incoming, f"memory {busy[0]} is in use" if busy else "")
            node._to(role, msg.hop - 1, Reject(request.request_id, msg.hop - 1, msg.attempt, node.id, why, incoming))
            return
        out: list[str] = []
        if msg.hop < len(request.path) - 1:
            out = node._free_channels(request.path[msg.hop + 1], request.channels)
            if len(out) < request.channels:
                link = node._port_to(request.path[msg.hop + 1]).link
                why = _refusal(node, link, "no free memory on the next link")
                node._to(role, msg.hop - 1, Reject(request.request_id, msg.hop - 1, msg.attempt, node.id, why, link))
                return
        node._table("roles")[request.request_id] = role
        node._reserve(role, (*msg.channels, *out))
        role.left, role.right = tuple(msg.channels), tuple(out)
        if out:
            node._to(role, msg.hop + 1, Reserve(request, msg.hop + 1, tuple(out), msg.attempt))
        else:
            node._to(role, 0, Confirm(request.request_id, msg.attempt, ()))

    @handler(Reject)
    def on_reject(self, node: Any, msg: Reject, sender: str) -> None:
        role = node.roles.get(msg.request_id)
        if role is None or role.status != "reserving" or role.attempt != msg.attempt:
            node.ignored += 1
            return
        node._unreserve(role)
        if role.index > 0:
            del node.roles[msg.request_id]
            node._to(role, role.index - 1, Reject(msg.request_id, role.index - 1, msg.attempt, msg.at_node,
                                                  msg.reason, msg.link))
            return
        self._rejected(node, role, msg.at_node, msg.reason, msg.link)

    def _rejected(self, node: Any, role: Any, at_node: str, reason: str, link: str = "") -> None:
        """Source: this attempt failed; retry after a back-off (routing again, avoiding ``link`` if the
        router reroutes), up to the request's ``retries``."""
        request = role.request
        node._uncount(role)
        if role.attempt < request.retries:
            round_trips = int(node.rng.integers(self.min_backoff, self.max_backoff + 1))
            backoff = round_trips * node._round_trip_ps(request)
            if self.backoff_ps:
                floor = self.backoff_ps * 2.0 ** min(role.attempt, 60) * float(node.rng.uniform(0.5, 1.5))
                backoff = max(backoff, round(min(floor, checks.MAX_PS - node.now)))
            if not request.deadline_ps or node.now + backoff < request.deadline_ps:
                busy = (link,) if link else ()
                node.set_timer(_Start(request.request_id, role.attempt + 1, busy), delay_ps=backoff)
                return
        role.status = "done"
        role.outcome = f"rejected at {at_node}: {reason}"

    @handler(Confirm)
    def on_confirm(self, node: Any, msg: Confirm, sender: str) -> None:
        role = node.roles.get(msg.request_id)
        if role is None or role.status != "reserving" or role.attempt != msg.attempt or role.index != 0:
            node.ignored += 1
            return
        node._start_in_step(role, -1, 0, role.n)
