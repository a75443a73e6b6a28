"""Network layer: end-to-end requests over any topology.

A request asks for ``pairs`` entangled pairs between ``source`` and ``dest``,
each with fidelity at least ``min_fidelity``, before ``deadline_ps``.  Its
life, every step a message with the latency of the fibre it crosses:

1. **Routing.**  The path is chosen when the request is added to the network
   (:func:`shortest_path` by fibre length unless another routing function is
   given) and travels with the request.
2. **Reservation.**  At ``start_ps`` the source reserves ``channels`` memory
   slots on its first link and sends :class:`Reserve` along the path; every
   node checks the slots offered on its incoming link are free, reserves as
   many on its outgoing link and passes it on.  A node that cannot sends
   :class:`Reject` back (each node on the way frees what it held); the
   source retries after a random back-off, up to ``retries`` times.  The
   destination answers the source with :class:`Confirm`.
3. **Activation.**  The source sends :class:`Activate` to every node of the
   path, naming a start time late enough for all of them to hear it, so the
   whole path starts generating links in step.
4. **Generation and swapping** by the request's protocol parts
   (:mod:`qactors.protocols.parts`): its swapper (``policy``), cut-off and
   purifier.  The built-in swappers (:mod:`qactors.protocols.swappers`):

   * ``"asap"`` (swap as soon as possible): a repeater swaps as soon as it
     holds a usable pair on each side, chosen by ``selection`` among its
     ``channels`` slots per link (multiplexing), and tells both path ends;
     the ends rebuild the end-to-end pair from the records
     (:class:`~qactors.protocols.swapping.EndTracker`).  Repeaters never wait
     for news: a failed swap or a discarded pair is sorted out at the ends.
     Optional ``cutoff_ps``: a repeater discards a pair held longer than that
     and tells its link partner and the ends.  Optional purification
     (:class:`Purification`) of link pairs before swapping or of end-to-end
     pairs before delivery.
   * ``"nested"`` (doubling) and ``"sequential"``: a binary tree of swaps over
     the path's segments (:func:`swap_tree`).  The node that joins spans
     ``[l, m]`` and ``[m, r]`` swaps only once it knows both exist (a link it
     heralded itself, or a :class:`SpanDone` from the child's swapper) and
     reports the joined span to its own parent.  A failed swap restarts its
     whole subtree, in step, at a time announced to every node in it
     (:class:`Activate`); so does every delivery, for the whole path.  With
     ``cutoff_ps`` the swapper discards a child span older than that when it
     would swap and restarts that child only (the cut-off of Brand, Coopmans,
     Elkouss, IEEE JSAC 38, 619 (2020)).  Several ``channels`` run as
     independent lanes.  These are the protocols analysed in Shchukin,
     Schmidt, van Loock, PRA 100, 032322 (2019) and Brand et al. (2020); the
     tests compare them with :mod:`qactors.protocols.analysis`.

5. **Delivery.**  Both ends record every pair they deliver: time, fidelity on
   arrival, path.  A pair whose fidelity (as both ends compute it from the
   records, at the latest time either could learn of it) is below
   ``min_fidelity`` is discarded instead.  When the source has delivered
   ``pairs`` pairs or the deadline passes it sends :class:`Release` to every
   node of the path, which frees the slots for other requests.

Purification: :mod:`qactors.protocols.purification`.  Memories: each node's
bank on each link is an actor of its own (:mod:`qactors.protocols.memory`),
reserved per request or shared by all requests crossing the link.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import networkx as nx

from qactors.core import checks
from qactors.core.actor import Actor, PlainData, handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message, replace
from qactors.core.network import Network
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import PairRecord

from .applications import APPLICATIONS, Application, Receiver, SiftBits, TeleportBits
from .cutoffs import Cutoff, DiscardAfter, RestartOlderChild
from .faults import DetectorDrop, LinkCut, LinkFailed, LinkRestored, MemoryDegradation, NodeFailure, _Fault, link_name, \
    strikes
from .link import AttemptPhysics, Want, link_components, plan_link
from .memory import ALLOCATIONS, FreeSlots, MemoryBank, Stored, memory_id
from .parts import Part, part_handlers
from .purification import Purification
from .reservation import HopByHop
from .requests import (Activate, Confirm, Discard, PathFailed, Purify, PurifyReply, Reject, Release, Request, Reserve,
                       Settled, SpanDone, _Cutoff, _Deadline, _fail, _Offer, _Start)
from .routing import LinkState, MapLink, MapNode, NetworkMap, Router, RouteView, ShortestPath
from .swappers import SELECTIONS, AsapSwapper, Swapper, TreeSwapper, swap_tree
from .swapping import SwapRecord

__all__ = ["Purification", "Request", "Reserve", "Reject", "Confirm", "Activate", "Release", "SpanDone",
           "Discard", "Purify", "PurifyReply", "Settled", "QNode", "LinkPort", "quantum_network", "network_actors",
           "shortest_path", "swap_tree", "request_report", "POLICIES", "SELECTIONS", "AsapSwapper", "TreeSwapper",
           "DiscardAfter", "RestartOlderChild", "HopByHop", "with_parts", "check_request", "rerouted"]

POLICIES = ("asap", "nested", "sequential")
"""Names of the built-in swappers (:mod:`qactors.protocols.swappers`) a request's ``policy`` may give."""


def _swapper_of(request: Request) -> Swapper:
    """The request's swapper part: the one given, or the built-in one its policy name stands for."""
    policy = request.policy
    if isinstance(policy, Swapper):
        return policy
    return AsapSwapper(request.selection) if policy == "asap" else TreeSwapper(policy)


def with_parts(request: Request) -> Request:
    """``request`` with its protocol parts in place of their names: ``policy`` a swapper part (a name
    becomes :class:`AsapSwapper` with the request's ``selection``, or :class:`TreeSwapper`), ``cutoff``
    the swapper's own rule for ``cutoff_ps`` if no cut-off part is given.  Unchecked (the network
    builder checks requests first); :func:`quantum_network` applies it to every request."""
    policy = _swapper_of(request)
    cutoff = request.cutoff
    if cutoff is None and request.cutoff_ps:
        cutoff = policy.default_cutoff(request.cutoff_ps)
    application = request.application
    if not isinstance(application, Application):
        application = Application(application, request.bsm_visibility)
    return replace(request, policy=policy, cutoff=cutoff, application=application)


def _oriented(pair: PairRecord, left: str) -> PairRecord:
    """``pair`` with end ``a`` at node ``left`` (Bell-diagonal states are symmetric under exchange)."""
    if pair.a.node == left:
        return pair
    return PairRecord(pair.pair_id, pair.coefficients, pair.ref_ps, pair.b, pair.a)


_NONE: frozenset = frozenset()  # the empty value of a node's frozensets, one for all (see QNode.__init__)


class _Empty(dict):
    """The one empty table that nodes share until they write to it (see QNode._table): it reads, encodes,
    compares and pickles as an empty dict (unpickled, it is the shared one again), and refuses to take an
    entry; what removes entries does what it does on an empty dict (nothing, or KeyError)."""

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("a node's shared empty table is read-only: write through QNode._table(name)")

    __setitem__ = __ior__ = setdefault = update = _refuse

    def __reduce__(self):
        return "_EMPTY"


_EMPTY: dict = _Empty()
_HOP_BY_HOP = HopByHop()  # the default reservation, one (frozen) part for every node


def _without(items: frozenset, gone) -> frozenset:
    """``items`` less ``gone``: ``items`` itself when it holds none of them, :data:`_NONE` when nothing is left."""
    if items.isdisjoint(gone):
        return items
    return items.difference(gone) or _NONE


class _Role(PlainData):
    """One request at one node: plain data in the node's state.  ``state`` holds each protocol part's
    own state (``state[part.key]``); the rest is what every request needs."""

    def __init__(self, request: Request, index: int):
        self.request = request
        self.index = index
        self.status = "reserving"
        self.attempt = 0
        self.active_from = -1                 # when the path started generating (ps)
        self.left: tuple = ()                 # my channels towards the source
        self.right: tuple = ()                # my channels towards the destination
        self.settled: set[str] = set()        # pair ids usable (purification done, or none asked)
        self.state: dict[str, object] = {}    # part key -> that part's state for this request here
        self.delivered: list[tuple] = []      # (time ps, fidelity on arrival, pair id)
        self.below_min = 0
        self.swaps = 0
        self.failed_swaps = 0
        self.cutoffs = 0
        self.purifications = 0
        self.failed_purifications = 0
        self.wants = False                    # shared link towards the destination: its channel was asked for pairs
        self.outcome = ""
        self.counted = False                  # source: the path's links are in the node's count of routed requests


    @property
    def n(self) -> int:
        return len(self.request.path) - 1

    @property
    def is_end(self) -> bool:
        return self.index in (0, self.n)

    @property
    def swapper(self) -> Swapper:
        return self.request.policy

    @property
    def cutoff(self) -> Cutoff | None:
        return self.request.cutoff

    @property
    def purifier(self) -> Purification | None:
        return self.request.purification

    @property
    def application(self) -> Application:
        return self.request.application

    @property
    def parts(self) -> tuple[Part, ...]:
        request = self.request
        return tuple(p for p in (request.policy, request.cutoff, request.purification, request.application)
                     if p is not None)

    @property
    def receiver(self) -> Receiver:
        """What the application measured (the destination's statistics)."""
        return self.state["application"].receiver

    @property
    def holding(self) -> dict[str, str]:
        """Destination: pair id -> slot kept until the sender's bits come."""
        return self.state["application"].holding


@message
class _Advertise(Message):
    """Node timer: advertise its links if they changed."""


class _WhileDown(dict):
    """A failed node's handler table: every message but its recovery is ignored."""

    def get(self, key, default=None):
        return dict.get(self, key, QNode._while_down)


class LinkPort(NamedTuple):
    """What a node knows of one of its links: the link's name, the node at the other end, the slot
    ids of its memory bank there, the bank's actor id and access time, the link's channel actor and
    the latency to it, and whether the bank's slots are shared between requests."""

    link: str
    neighbour: str
    slots: tuple
    memory: str
    access_ps: int
    channel: str
    channel_ps: int
    shared: bool = False


class QNode(Actor):
    """A quantum network node: the classical controller of its memory banks (one
    :class:`~qactors.protocols.memory.MemoryBank` actor per link, reached by messages that take
    the memory's access time; ``ports`` describe them), a Bell-state analyser for swaps (success
    probability ``swap_success_probability``), and the request roles it plays.

    Reservation is a node-level part (``reservation``, default
    :class:`~qactors.protocols.reservation.HopByHop`); swapping, cut-offs and purification are
    each request's own parts (:mod:`qactors.protocols.parts`).

    The node keeps its own view of what its memories hold (``held``: slot -> pair record, as the
    memories reported it with :class:`~qactors.protocols.memory.Stored`; ``serving``: slot -> the
    request the pair serves) and of the reserved slots (``owner``).

    Results (in :meth:`state`): ``roles[request id]`` with deliveries, swaps, cut-offs,
    purifications and the request's ``outcome`` at the source."""

    kind = "node"
    __slots__ = ("_map", "_part_dispatch", "_odd_slots", "_odd_neighbours")  # configuration and a saved table:
    # not state, and out of the instance dict, which then stays within the 30 keys CPython shares between instances

    def __init__(self, actor_id: str, ports: Sequence[LinkPort], requests: Sequence[Request] = (),
                 swap_success_probability: float = 1.0, reservation: HopByHop | None = None, *,
                 nmap: NetworkMap | None = None, router: Router | None = None, listeners: Sequence[str] = (),
                 faults: Sequence = ()):
        super().__init__(actor_id)
        if not (isinstance(swap_success_probability, (int, float)) and 0.0 < swap_success_probability <= 1.0):
            raise _fail("swap_success_probability", swap_success_probability, "a number in (0, 1]",
                        "swap_success_probability")
        self.ports = {p.link: p for p in ports}
        # which port holds a slot and which leads to a neighbour follow from the names quantum_network gives
        # ("<link>:<i>" for a link's slots, "<a>-<b>" for the link of nodes a < b): only the answers those
        # names do not give are kept (_port_of, _port_to), not two tables per node
        of_slot = {slot: p.link for p in ports for slot in p.slots}    # slot id -> link name
        to_node = {p.neighbour: p.link for p in ports}                 # neighbour -> link name
        self._odd_slots = {k: v for k, v in of_slot.items() if self._named_slot(k) != v} or _EMPTY
        self._odd_neighbours = {k: v for k, v in to_node.items() if self._named_link(k) != v} or _EMPTY
        # the node's sets are frozensets, replaced when they change: most nodes of a large network never
        # hold anything in most of them, and an empty set costs 216 bytes; an empty one is always _NONE,
        # shared (CPython builds a new empty frozenset at every frozenset() or difference)
        # so are its tables, which most nodes never fill or fill late: they start as the shared read-only _EMPTY,
        # and a node adds to one only through _table(), which gives it a dict of its own first (64 bytes each)
        self.owner: dict[str, str] = _EMPTY   # reserved slot id -> request id holding it
        self.using: frozenset[str] = _NONE    # requests that hold slots (reserved or shared) here
        self.held: dict[str, PairRecord] = _EMPTY  # slot id -> pair in memory (oriented along its request's path)
        self.serving: dict[str, str] = _EMPTY      # slot id -> request id the held pair serves
        self.offered: frozenset[str] = _NONE  # slots asked to generate, not heard from since
        # the requests this node is the source of, as given (legs added later)
        self.pending = {r.request_id: r for r in requests if r.source == actor_id} or _EMPTY
        self.roles: dict[str, _Role] = _EMPTY
        self.swap_success_probability = swap_success_probability
        self.reservation = (reservation or _HOP_BY_HOP).check()
        self.ignored = 0
        self._map = nmap  # the static map every node is given (routing.NetworkMap): configuration, not state
        self.router = (router or ShortestPath()).check()
        self.listeners = tuple(sorted(set(listeners) - {actor_id})) if self.router.advert_ps else ()
        self.known: dict[str, tuple] = _EMPTY  # link -> (load, up, as of ps), from other nodes' advertisements
        self.heard: dict[str, int] = _EMPTY    # node -> seq of its latest advertisement here
        self.routed: dict[str, int] = _EMPTY   # link -> running requests this node routed over it
        self.avoid: dict[str, set] = _EMPTY    # original request id -> links that failed it
        self.legs: dict[str, int] = _EMPTY     # original request id -> paths started after failures
        self.paths: dict[str, tuple] = _EMPTY  # original request id -> the first path its router chose
        self.down_links: frozenset[str] = _NONE  # this node's links known to be cut
        self.faults = tuple(faults)          # NodeFailure records for this node
        self.down = False
        self.advert_seq = 0
        self.advertised: tuple | None = None  # what this node last advertised
        self.advert_at = -1                   # when (ps); -1: never
        self.advert_due = False               # an advertisement timer is set
        self._part_dispatch = None            # while down: the handler table to restore

    def on_start(self) -> None:
        for request in self.pending.values():
            self.set_timer(_Start(request.request_id, 0), delay_ps=request.start_ps)
        for fault in self.faults:
            self.set_timer(_Fault(fault, False), delay_ps=fault.at_ps)
            if fault.recover_ps:
                self.set_timer(_Fault(fault, True), delay_ps=fault.recover_ps)

    # -- roles and their parts ----------------------------------------------------------
    def _new_role(self, request: Request, index: int) -> _Role:
        """This node's role in ``request``, with each of the request's parts' state; messages of types only
        a part handles are dispatched to the parts from now on."""
        role = _Role(request, index)
        for part in role.parts:
            state = part.new_state(self, role)
            if state is not None:
                role.state[part.key] = state
            missing = [mt for mt in part_handlers(part) if mt not in self._dispatch]
            if missing:  # a part of the user's with messages of its own
                self._dispatch = {**self._dispatch, **{mt: QNode._to_parts for mt in missing}}
        return role

    @handler(SwapRecord, Discard, SpanDone, Purify, PurifyReply, Settled, _Cutoff)
    def _to_parts(self, msg: Message, sender: str) -> None:
        """A message about one request, for whichever of its parts handles the message's type."""
        role = self.roles.get(msg.request_id)
        if role is None or role.status == "done":
            if sender != self.id:  # a part's own timer may outlive its request
                self.ignored += 1
            return
        for part in role.parts:
            fn = part_handlers(part).get(type(msg))
            if fn is not None:
                fn(part, self, role, msg, sender)
                return
        self.ignored += 1  # no part of this request takes such messages

    # -- helpers --------------------------------------------------------------------
    def _named_slot(self, slot) -> str | None:
        """The link of this node that holds ``slot`` by its name ``"<link>:<i>"``, or None."""
        if type(slot) is not str:
            return None
        link = slot.rpartition(":")[0]
        port = self.ports.get(link)
        return link if port is not None and slot in port.slots else None

    def _named_link(self, neighbour) -> str | None:
        """This node's link to ``neighbour`` by its name ``"<a>-<b>"`` (a < b), or None."""
        if type(neighbour) is not str:
            return None
        link = f"{self.id}-{neighbour}" if self.id < neighbour else f"{neighbour}-{self.id}"
        port = self.ports.get(link)
        return link if port is not None and port.neighbour == neighbour else None

    def _port_of(self, slot: str, missing=KeyError) -> LinkPort:
        """The port of the link whose memory holds ``slot``; ``missing`` if none of this node's does (default:
        raise KeyError)."""
        link = self._odd_slots.get(slot)
        if link is None:
            link = self._named_slot(slot)
        if link is None:
            if missing is KeyError:
                raise KeyError(slot)
            return missing
        return self.ports[link]

    def _port_to(self, neighbour: str) -> LinkPort:
        """The port of the link to ``neighbour`` (KeyError: no link to it)."""
        link = self._odd_neighbours.get(neighbour)
        if link is None:
            link = self._named_link(neighbour)
        if link is None:
            raise KeyError(neighbour)
        return self.ports[link]

    def _table(self, name: str) -> dict:
        """This node's own table ``name`` (owner, pending, known, ...), to write to: the shared empty one it
        starts with is replaced by a dict of its own first."""
        table = getattr(self, name)
        if table is _EMPTY:
            table = {}
            setattr(self, name, table)
        return table

    def _role(self, request_id: str) -> _Role | None:
        role = self.roles.get(request_id)
        if role is None or role.status == "done":
            self.ignored += 1  # a message for a request this node does not (or no longer) serve
            return None
        return role

    def _to(self, role: _Role, index: int, msg: Message) -> None:
        self.send(role.request.path[index], msg, delay_ps=max(1, role.request.latency(role.index, index)))

    def _free_channels(self, link_to: str, count: int) -> list[str]:
        port = self._port_to(link_to)
        if port.link in self.down_links:
            return []
        if port.shared:  # a shared bank lends every slot to every request: nothing to reserve
            return list(port.slots)
        return sorted(c for c in port.slots if c not in self.owner)[:count]

    def _shared(self, channel: str) -> bool:
        return self._port_of(channel).shared

    def _offer(self, channel: str) -> None:
        """Ask a reserved slot's memory to generate (a shared memory always does)."""
        if channel not in self.offered and channel not in self.held and not self._shared(channel):
            self._reset(channel, True)

    def _reset(self, channel: str, generate: bool) -> None:
        """Tell the slot's memory its qubit is free, and whether to generate the next pair (a shared memory
        always does, unasked)."""
        port = self._port_of(channel)
        generate = generate and not port.shared
        if generate:
            self.offered |= {channel}
        self.send(port.memory, FreeSlots((channel,), generate), delay_ps=port.access_ps)

    def _want(self, role: _Role, on: bool) -> None:
        """Tell the channel of the link towards the destination, if shared, whether this request wants its pairs
        (the path-upstream end of each link speaks for it)."""
        request = role.request
        if role.index >= role.n or not request.shared or not request.shared[role.index] or role.wants == on:
            return
        role.wants = on
        port = self._port_to(request.path[role.index + 1])
        self.send(port.channel, Want(port.link, request.request_id, on), delay_ps=port.channel_ps)

    def _drop(self, channel: str, offer: bool, tell: bool = True) -> None:
        """Forget the pair in ``channel``, tell its memory, and, if ``offer``, start generating the next one.

        ``tell=False`` (a reserved slot that is sure to be offered again, or freed with its request): the
        memory resets the qubit when it is next told of the slot, which saves a message per restart."""
        pair = self.held.pop(channel, None)
        role = self.roles.get(self.serving.pop(channel, ""))
        if pair is not None and role is not None:
            role.settled.discard(pair.pair_id)
            for part in role.parts:
                part.on_drop(self, role, pair.pair_id)
        if pair is None or not (tell or offer):
            if offer:
                self._offer(channel)
            return
        self._reset(channel, offer)

    def _channel_of(self, role: _Role, pair_id: str) -> str | None:
        for channel in (*role.left, *role.right):
            pair = self.held.get(channel)
            if pair is not None and pair.pair_id == pair_id:
                return channel
        return None

    # -- reservation (the part does the protocol; the node keeps the slots) ----------------
    @handler(_Start, Reserve, Reject, Confirm)
    def _to_reservation(self, msg: Message, sender: str) -> None:
        part = self.reservation
        part_handlers(part)[type(msg)](part, self, msg, sender)

    def _reserve(self, role: _Role, channels) -> None:
        """Mark the reserved (not shared) slots among ``channels`` as the request's."""
        for c in channels:
            if not self._shared(c):
                self._table("owner")[c] = role.request.request_id
        self.using |= {role.request.request_id}
        self._touched()

    def _unreserve(self, role: _Role) -> None:
        waiting = set(role.holding.values())  # qubits a teleportation still needs are freed when its bits come
        rid = role.request.request_id
        freed: dict[str, list[str]] = {}  # link -> the request's reserved slots there: reset in one message each
        for c in (*role.left, *role.right):
            if c in waiting:
                continue
            if self.owner.get(c) == rid:
                del self.owner[c]
                freed.setdefault(self._port_of(c).link, []).append(c)
            if c in self.held and self.serving.get(c) == rid:
                self._drop(c, offer=False, tell=self._shared(c))
        for link in sorted(freed):
            port = self.ports[link]
            self.send(port.memory, FreeSlots(tuple(freed[link]), False), delay_ps=port.access_ps)
        role.left = role.right = ()
        self.using = _without(self.using, (rid,))
        self._touched()

    def _start_in_step(self, role: _Role, lane: int, l: int, r: int) -> None:
        """(Re)start ``lane`` (-1: all) on path span ``[l, r]``: tell every node in it a start
        time late enough for the farthest to hear it."""
        at = self.now + max(role.request.latency(role.index, i) for i in range(l, r + 1))
        for i in range(l, r + 1):
            msg = Activate(role.request.request_id, lane, l, r, at)
            if i == role.index:
                self.on_activate(msg, self.id)
            else:
                self._to(role, i, msg)

    # -- activation, restart, release ------------------------------------------------------
    @handler(Activate)
    def on_activate(self, msg: Activate, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        first = role.status == "reserving"
        if first:
            role.status = "active"
            role.active_from = msg.at_ps
        role.swapper.activate(self, role, msg, first)
        self.set_timer(_Offer(msg.request_id, msg.lane, msg.l, msg.r), delay_ps=msg.at_ps - self.now)

    def _span_channels(self, role: _Role, lane: int, l: int, r: int) -> list[str]:
        out = []
        if role.index - 1 >= l and role.index <= r:
            out += role.left if lane < 0 else [role.left[lane]]
        if role.index + 1 <= r and role.index >= l:
            out += role.right if lane < 0 else [role.right[lane]]
        return list(out)

    def _offer_later(self, role: _Role, lane: int) -> None:
        """Offer ``lane`` of a one-link path again at once (no swapper announces its restart)."""
        self.set_timer(_Offer(role.request.request_id, lane, 0, 1), delay_ps=0)

    @handler(_Offer)
    def on_offer(self, msg: _Offer, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status != "active":
            return
        for channel in self._span_channels(role, msg.lane, msg.l, msg.r):
            self._offer(channel)
        self._want(role, True)

    @handler(Release)
    def on_release(self, msg: Release, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is not None:
            self._finish(role, msg.reason)

    def _finish(self, role: _Role, reason: str) -> None:
        self._want(role, False)
        role.status = "done"
        if not role.outcome:
            role.outcome = reason
        self._uncount(role)
        self._unreserve(role)

    @handler(_Deadline)
    def on_deadline(self, msg: _Deadline, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status == "done":
            return
        self._close(role, f"deadline: {len(role.delivered)} of {role.request.pairs} pairs")

    def _close(self, role: _Role, reason: str) -> None:
        """Source: end the request on every node of the path (also while it is still
        reserving: a Reserve already on its way has reserved memories)."""
        if role.status != "done":
            for i in range(1, len(role.request.path)):
                self._to(role, i, Release(role.request.request_id, reason))
        self._finish(role, reason)

    # -- memories -----------------------------------------------------------------------
    @handler(Stored)
    def on_stored(self, msg: Stored, sender: str) -> None:
        channel = msg.slot
        port = self._port_of(channel, None)
        if port is None or sender != port.memory:
            self.ignored += 1  # not one of this node's memories
            return
        self.offered = _without(self.offered, (channel,))
        rid = msg.purpose if port.shared else self.owner.get(channel, "")
        role = self.roles.get(rid)
        pair = msg.pair
        if role is None or role.status != "active" or pair.ref_ps < role.active_from:
            # a round that outlived an earlier request, or a pool pair for a request not (or no longer) served
            # here: not this request's pair.  Both ends agree: a pair emitted after the start reaches each end
            # after its Activate did.
            self._reset(channel, role is not None and role.status == "active")
            return
        left = role.request.path[role.index - 1] if channel in role.left else self.id
        pair = _oriented(pair, left)
        self._table("held")[channel] = pair
        self._table("serving")[channel] = rid
        role.swapper.link_pair(self, role, channel, pair)

    # -- routing ---------------------------------------------------------------------------
    def _routed(self, request: Request, busy: tuple = ()) -> tuple[Request | None, str]:
        """``request`` with the path the router chooses now (a path given with the request is kept), or None
        and why not.  ``busy``: links that rejected the previous attempt, avoided if the router reroutes and
        some other path exists."""
        if request.path:
            return request, ""
        origin = request.leg_of or request.request_id
        if not self.router.reroute and origin in self.paths:  # a router that does not reroute keeps its first path
            return self._route_on(request, self.paths[origin])
        failed = frozenset(self.avoid.get(origin, ()))
        known = self._known_now()
        tries = [failed | set(busy), failed] if busy and self.router.reroute else [failed]
        path = None
        for avoid in tries:
            path = self.router.route(RouteView(self.id, self.now, request, self._map, known, avoid, self.routed))
            if path is not None:
                break
        if path is None:
            return None, "no usable path"
        self._table("paths").setdefault(origin, tuple(path))
        return self._route_on(request, path)

    def _route_on(self, request: Request, path) -> tuple[Request | None, str]:
        """:func:`route_on`, with a path the request cannot use as a reason instead of an error (a router's
        invalid path is still an error: the router is at fault)."""
        try:
            return route_on(self._map, request, path, type(self.router).__name__), ""
        except ConfigurationError as err:
            if getattr(err, "field", None) == "routing":
                raise
            return None, f"path {'-'.join(map(str, path))} cannot be used: {err}"

    def _unrouted_role(self, request: Request) -> _Role:
        """A role for a request no path was found for: no swapper or other parts, nothing reserved."""
        role = _Role(request, 0)
        role.state["application"] = request.application.new_state(self, role)
        return role

    def _known_now(self) -> dict:
        """Link -> (load, up, as of ps): this node's own links live, the others from advertisements."""
        known = {}
        for link, ends in self.known.items():
            known[link] = (max(e[0] for e in ends.values()), all(e[1] for e in ends.values()),
                           min(e[2] for e in ends.values()))
        for link, load, up in self._link_loads():
            known[link] = (load, up, self.now)
        return known

    def _count(self, role: _Role) -> None:
        self._tally(role.request.path, 1)
        role.counted = True

    def _uncount(self, role: _Role) -> None:
        if role.counted:
            role.counted = False
            self._tally(role.request.path, -1)

    def _tally(self, path: tuple, step: int) -> None:
        """Add ``step`` to the count of running requests routed over each link of ``path``."""
        for a, b in zip(path, path[1:]):  # link names, not the map: a node may run without one (pinned paths)
            link = link_name(a, b)
            n = self.routed.get(link, 0) + step
            if n:
                self._table("routed")[link] = n
            else:
                del self.routed[link]

    def _round_trip_ps(self, request: Request) -> int:
        """A classical round trip between the request's ends (its path's, or the fastest fibre's)."""
        if request.offsets_ps:
            return max(1, 2 * request.offsets_ps[-1])
        return max(1, 2 * self._map.latency_ps(request.source, request.dest)) if self._map is not None else 1

    # -- advertisements ------------------------------------------------------------------------
    def _link_loads(self) -> tuple:
        """``(link, load, up)`` of each of this node's links (see routing.LinkState)."""
        users: dict[str, set] = {}
        for rid in self.using:
            role = self.roles.get(rid)
            if role is not None:
                for c in (*role.left, *role.right):
                    users.setdefault(self._port_of(c).link, set()).add(rid)
        out = []
        for link in sorted(self.ports):
            port = self.ports[link]
            if port.shared:
                load = len(users.get(link, ())) / len(port.slots)
            else:
                load = sum(1 for c in port.slots if c in self.owner) / len(port.slots)
            out.append((link, load, link not in self.down_links))
        return tuple(out)

    def _touched(self) -> None:
        """Something this node advertises may have changed: advertise it as soon as the hold-down allows."""
        if not self.listeners or self.advert_due:
            return
        self.advert_due = True
        wait = 0 if self.advert_at < 0 else max(0, self.advert_at + self.router.advert_ps - self.now)
        self.set_timer(_Advertise(), delay_ps=wait)

    @handler(_Advertise)
    def on_advertise(self, msg: _Advertise, sender: str) -> None:
        self.advert_due = False
        links = self._link_loads()
        if links == self.advertised or self.down:
            return
        self.advertised, self.advert_at = links, self.now
        self.advert_seq += 1
        state = LinkState(self.id, self.advert_seq, self.now, links)
        for node in self.listeners:
            self.send(node, state, delay_ps=max(1, self._map.latency_ps(self.id, node)))

    @handler(LinkState)
    def on_link_state(self, msg: LinkState, sender: str) -> None:
        if msg.seq <= self.heard.get(msg.node, 0):
            self.ignored += 1  # older than what this node already heard from there
            return
        self._table("heard")[msg.node] = msg.seq
        for link, load, up in msg.links:
            self._table("known").setdefault(link, {})[msg.node] = (load, up, msg.at_ps)

    # -- faults ----------------------------------------------------------------------------------
    def _path_links(self, role: _Role) -> list[str]:
        """The links of ``role``'s path at this node."""
        path, i = role.request.path, role.index
        return [self._port_to(path[j]).link for j in (i - 1, i + 1) if 0 <= j < len(path)]

    def _port_reporting(self, link: str, sender: str) -> LinkPort | None:
        """The port of ``link`` if ``sender`` is its memory (else the report is counted as ignored)."""
        port = self.ports.get(link)
        if port is None or sender != port.memory:
            self.ignored += 1
            return None
        return port

    @handler(LinkFailed)
    def on_link_failed(self, msg: LinkFailed, sender: str) -> None:
        port = self._port_reporting(msg.link, sender)
        if port is None:
            return
        self.down_links |= {msg.link}
        self.offered = _without(self.offered, port.slots)
        for slot in port.slots:
            pair = self.held.get(slot)
            if pair is None:
                continue
            role = self.roles.get(self.serving.get(slot, ""))
            if role is not None and role.status != "done":
                self._notify_drop(role, pair)
            self._drop(slot, offer=False, tell=False)  # the memory lost it already
        for rid in sorted(self.roles):
            role = self.roles[rid]
            if role.status == "done" or msg.link not in self._path_links(role):
                continue
            if role.index == 0:
                self._failover(role, msg.link, self.id)
            else:
                self._to(role, 0, PathFailed(rid, msg.link, self.id))
        self._touched()

    @handler(LinkRestored)
    def on_link_restored(self, msg: LinkRestored, sender: str) -> None:
        if self._port_reporting(msg.link, sender) is None:
            return
        self.down_links = _without(self.down_links, (msg.link,))
        self._touched()

    @handler(PathFailed)
    def on_path_failed(self, msg: PathFailed, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status == "done" or role.index != 0:
            self.ignored += 1  # the path was ended already (both ends of a cut link report it)
            return
        self._failover(role, msg.link, msg.at_node)

    def _failover(self, role: _Role, link: str, at_node: str) -> None:
        """Source: ``link`` of the request's path failed.  End the path and, if the router may route again
        and the retry budget allows, serve the rest of the request as a new leg over another path."""
        request = role.request
        origin = request.leg_of or request.request_id
        self._close(role, f"failed: link {link} down (told by {at_node})")
        given = self.pending[origin]
        left = request.retries - role.attempt - 1
        if given.path or left < 0 or (request.deadline_ps and request.deadline_ps <= self.now):
            return
        if self.router.reroute:
            self._table("avoid").setdefault(origin, set()).add(link)
        k = self._table("legs")[origin] = self.legs.get(origin, 0) + 1
        leg = replace(request, request_id=f"{origin}~{k}", leg_of=origin, pairs=request.pairs - len(role.delivered),
                      retries=left, start_ps=self.now, path=(), offsets_ps=(), shared=())
        self._table("pending")[leg.request_id] = leg
        self.set_timer(_Start(leg.request_id, 0), delay_ps=0)

    @handler(_Fault)
    def on_fault(self, msg: _Fault, sender: str) -> None:
        if msg.end:  # recovered: empty, as after a restart
            self.down = False
            self._dispatch = self._part_dispatch
            self._touched()
            return
        self.down = True
        for rid in sorted(self.roles):
            role = self.roles[rid]
            if role.status != "done":
                role.status = "done"
                role.outcome = role.outcome or f"failed: node {self.id} down"
                role.counted = False
        self.routed = _EMPTY
        self.using = _NONE
        self.owner = _EMPTY
        self.held.clear()
        self.serving.clear()
        self.offered = _NONE
        self._part_dispatch = self._dispatch
        self._dispatch = _WhileDown({_Fault: QNode.on_fault})

    def _while_down(self, msg: Message, sender: str) -> None:
        self.ignored += 1

    # -- what parts use ----------------------------------------------------------------------
    def _discard(self, role: _Role, channel: str, partner_too: bool = True) -> None:
        """Drop a link pair and tell both path ends (and the partner, if it may still hold it)."""
        partner = role.request.path.index(self._port_of(channel).neighbour)
        self._notify_drop(role, self.held[channel], (partner,) if partner_too else ())
        self._drop(channel, offer=True)

    def _notify_drop(self, role: _Role, pair: PairRecord, also: tuple = ()) -> None:
        notice = Discard(role.request.request_id, pair, self.id)
        for i in sorted({0, role.n, *also} - {role.index}):
            self._to(role, i, notice)

    def _deliver(self, role: _Role, channel: str | None, pair: PairRecord, estimate: float) -> None:
        request = role.request
        if estimate < request.min_fidelity:
            role.below_min += 1
        else:
            role.delivered.append((self.now, pair.fidelity_at(self.now), pair.pair_id))
            if not role.application.use(self, role, pair) and channel is not None:
                role.holding[pair.pair_id] = channel  # the receiver's qubit waits for the sender's bits
                channel = None
        if channel is not None:
            self._drop(channel, offer=role.status == "active")
        self._served(role)

    @handler(TeleportBits, SiftBits)
    def _to_application(self, msg: Message, sender: str) -> None:
        """The sender's bits, for the application part, whether or not the request is still running here."""
        role = self.roles.get(msg.request_id)
        if role is None:
            self.ignored += 1
            return
        part = role.application
        part_handlers(part)[type(msg)](part, self, role, msg, sender)

    def _served(self, role: _Role) -> None:
        if len(role.delivered) < role.request.pairs:
            return
        if role.index == 0:
            self._close(role, f"served: {len(role.delivered)} pairs")
        else:  # the destination stops too (keeping qubits that wait for bits); the source's Release frees the path
            self._finish(role, f"served: {len(role.delivered)} pairs")


def request_report(states: dict, request_id: str) -> dict:
    """A request's results from a run's ``states`` (``qactors.run(..., collect_states=True).states``).

    Returns ``outcome``, ``path``, ``pairs`` delivered (at the destination), ``rate_hz`` (pairs
    per second of simulated time since the path started), ``mean_fidelity`` (on arrival at the
    destination), ``below_min`` (pairs dropped for ``min_fidelity``), and by application:
    ``teleport_fidelity`` (mean over inputs), ``key`` (a :class:`~qactors.protocols.qkd.KeyRate`
    for BBM92 or E91).  Raises :class:`ConfigurationError` for an unknown request id."""
    from .qkd import KeyRate  # QKD accounting sits above the network layer

    roles = {node: st["roles"][request_id] for node, st in states.items()
             if isinstance(st, dict) and request_id in st.get("roles", {})}
    if not roles:
        known = sorted({r for st in states.values() if isinstance(st, dict) for r in st.get("roles", {})})
        raise _fail("request_id", request_id, f"one of the run's requests {known}", "request_id")
    request = next(iter(roles.values())).request
    source = states[request.source]["roles"]
    legs = legs_of(source, request_id)
    ends = []  # per leg: (source role, destination role or None: a rejected request may never reach it)
    for rid in legs:
        src = source[rid]
        dst = states.get(src.request.dest, {}).get("roles", {}).get(rid) if src.request.path else None
        ends.append((src, dst))
    src, last = ends[0][0], ends[-1][0]
    delivered = sorted(d for _, dst in ends if dst is not None for d in dst.delivered)
    elapsed = (delivered[-1][0] - src.active_from) if delivered and src.active_from >= 0 else 0
    out = {"outcome": last.outcome or "running", "path": list(last.request.path), "pairs": len(delivered),
           "rate_hz": len(delivered) / (elapsed * 1e-12) if elapsed > 0 else 0.0,
           "mean_fidelity": sum(d[1] for d in delivered) / len(delivered) if delivered else math.nan,
           "below_min": sum(dst.below_min for _, dst in ends if dst is not None)}
    if len(legs) > 1:
        out["paths"] = [list(s.request.path) for s, _ in ends]
    receivers = [dst for _, dst in ends if dst is not None]
    if not receivers:
        return out
    fidelities = [f for dst in receivers for f in dst.receiver.teleport_fidelities]
    if fidelities:
        out["teleport_fidelity"] = sum(fidelities) / len(fidelities)
    # key: from the leg that delivered most (the key of several paths is not pooled)
    receiver = max(receivers, key=lambda dst: len(dst.delivered)).receiver
    if elapsed > 0 and sum(receiver.sifted.values()):
        out["key"] = KeyRate.from_bbm92(receiver, elapsed)
    elif elapsed > 0 and sum(receiver.e91_sifted.values()):
        out["key"] = KeyRate.from_e91(receiver, elapsed)
    return out


def legs_of(roles: dict, request_id: str) -> list[str]:
    """The ids among a node's ``roles`` that serve request ``request_id``: itself, then the legs it was
    rerouted over (``"<id>~1"``, ``"<id>~2"``, ...), in order."""
    legs = [r for r, role in roles.items() if role.request.leg_of == request_id]
    return ([request_id] if request_id in roles else []) + sorted(legs, key=lambda r: int(r.rpartition("~")[2]))


def shortest_path(graph: nx.Graph, source: str, dest: str) -> list[str]:
    """The default routing function: the path of least total fibre length (``length_km``)."""
    return nx.shortest_path(graph, source, dest, weight="length_km")


def quantum_network(graph: nx.Graph, requests: Sequence[Request], *, physics: AttemptPhysics,
                    model: str = "geometric", memory: QuantumMemory | None = None, channels_per_link: int = 1,
                    swap_success_probability: float = 1.0, refractive_index: float = 1.47,
                    routing: Callable[[nx.Graph, str, str], list] | None = None,
                    allocation: str = "reserved", reservation: HopByHop | None = None,
                    router: Router | None = None, faults: Sequence = ()) -> Network:
    """Actors for ``graph``: a :class:`QNode` per node (id ``str(node)``), a
    :class:`~qactors.protocols.memory.MemoryBank` per node and link
    (:func:`~qactors.protocols.memory.memory_id`, placed with its node), and one channel actor per
    link that runs the heralded attempts of all its slots
    (:func:`~qactors.protocols.link.link_components`: ``"<a>-<b>/station"`` half-way, or
    ``"<a>-<b>/receiver"`` at ``b`` for a sender-receiver link).

    Edge attributes: ``length_km`` (required, > 0), ``channels`` (memory slots per link at each
    end, default ``channels_per_link``), ``physics`` (the link's scheme and hardware,
    default ``physics``; any of :data:`~qactors.protocols.link.ALL_SCHEMES`; on a
    sender-receiver link the lower node id sends), ``allocation`` (default ``allocation``:
    ``"reserved"``, each request reserves slots hop by hop, or ``"shared"``, the link's slots
    generate continuously for every request crossing it; see :mod:`qactors.protocols.memory`).
    Node attributes (optional): ``memory`` (a :class:`~qactors.hardware.memory.QuantumMemory`,
    default ``memory``: the decay of the node's qubits and the access time of its memory banks)
    and ``swap_success_probability`` (default the argument).  Each request's path is
    chosen by the source's ``router`` (:mod:`qactors.protocols.routing`, default
    :class:`~qactors.protocols.routing.ShortestPath`) when the request starts, and again on every retry;
    a request's own ``path``, or ``routing(graph, source, dest)`` if that function is given, pins it
    instead.  Requests are checked, and routed once on the map as it is at the start, before anything
    is built.  ``reservation``: the nodes' reservation part (default
    :class:`~qactors.protocols.reservation.HopByHop`).  ``faults``: records of
    :mod:`qactors.protocols.faults` (link cuts, node failures, memory and detector degradation)."""
    memory = memory or QuantumMemory(num_qubits=2)
    router = ShortestPath() if router is None else router
    if not isinstance(router, Router):
        raise _fail("router", router, "a router (qactors.protocols.routing, e.g. RateAware())", "router")
    router.check()
    if reservation is not None and not isinstance(reservation, HopByHop):
        raise _fail("reservation", reservation, "None or a reservation part (qactors.protocols.reservation)",
                    "reservation")
    if allocation not in ALLOCATIONS:
        raise _fail("allocation", allocation, str(ALLOCATIONS), "allocation")
    g = nx.relabel_nodes(graph, {v: str(v) for v in graph.nodes}, copy=True)
    memories: dict[str, QuantumMemory] = {}
    for v, data in g.nodes(data=True):
        node_memory = data.get("memory", memory)
        if not isinstance(node_memory, QuantumMemory):
            raise _fail(f"node {v!r} memory", node_memory, "a QuantumMemory", "memory")
        memories[v] = node_memory
        p_swap = data.get("swap_success_probability", swap_success_probability)
        if isinstance(p_swap, bool) or not (isinstance(p_swap, (int, float)) and 0.0 < p_swap <= 1.0):
            raise _fail(f"node {v!r} swap_success_probability", p_swap, "a number in (0, 1]",
                        "swap_success_probability")
    ports: dict[str, list[LinkPort]] = {v: [] for v in g.nodes}
    same = _Numbers()
    banks: list[MemoryBank] = []
    links = []
    link_names: dict[str, tuple[str, str]] = {}
    map_links: list[MapLink] = []
    for u, v, data in sorted(g.edges(data=True), key=lambda e: tuple(sorted(e[:2]))):
        a, b = sorted((u, v))
        length = data.get("length_km")
        if not (isinstance(length, (int, float)) and math.isfinite(length) and length > 0):
            raise _fail(f"edge ({a}, {b}) length_km", length, "a finite number > 0", "length_km")
        count = data.get("channels", channels_per_link)
        if type(count) is not int or count < 1:
            raise _fail(f"edge ({a}, {b}) channels", count, "an int >= 1", "channels")
        link_physics = data.get("physics", physics)
        if getattr(link_physics, "layout", None) not in ("midpoint", "receiver"):
            raise _fail(f"edge ({a}, {b}) physics", link_physics, "LinkPhysics, MidpointSourcePhysics or "
                        "SenderReceiverPhysics", "physics")
        link_allocation = data.get("allocation", allocation)
        if link_allocation not in ALLOCATIONS:
            raise _fail(f"edge ({a}, {b}) allocation", link_allocation, str(ALLOCATIONS), "allocation")
        link = f"{a}-{b}"
        if link in link_names:
            other = link_names[link]
            raise _fail(f"edge ({a}, {b}) link name", link, f"a name no other link has (edge {other} has it "
                        f"too: rename nodes so that 'a-b' identifies the link)", "node ids")
        link_names[link] = (a, b)
        slots = tuple(f"{link}:{i}" for i in range(count))
        station = f"{link}/{'receiver' if link_physics.layout != 'midpoint' else 'station'}"
        plan = plan_link(link, a, b, link_physics, length_km=length, refractive_index=refractive_index,
                         station=station)
        plan = plan._replace(a=plan.a._replace(arm_delay_ps=same(plan.a.arm_delay_ps)),
                             b=plan.b._replace(arm_delay_ps=same(plan.b.arm_delay_ps)))
        map_links.append(MapLink(link, a, b, same(float(length)), same(plan.node_delay_ps), count,
                                 link_allocation == "shared", same(link_physics.success_probability()),
                                 same(plan.attempt_ps), same(link_physics.reference_fidelity())))
        links.append((link, a, b, link_physics, length, station, slots, link_allocation == "shared"))
        for node, other, args in ((a, b, plan.a), (b, a, plan.b)):
            bank = MemoryBank(memory_id(node, link), node, link, [args._replace(link=slot) for slot in slots],
                              memories[node], allocation=link_allocation)
            banks.append(bank)
            ports[node].append(LinkPort(link, other, slots, bank.id, bank.access_ps, station, args.arm_delay_ps,
                                        link_allocation == "shared"))
    nmap = NetworkMap([MapNode(v, same(float(g.nodes[v].get("swap_success_probability", swap_success_probability))),
                               memories[v].t2_s, _position(g.nodes[v], same)) for v in g.nodes], map_links)
    checked = []
    ids: set[str] = set()
    for request in requests:
        checked.append(_route(g, nmap, request, routing, router, ids))
    struck = strikes(g, link_names, faults)
    for bank in banks:
        bank.faults = tuple(f for f in struck.get(bank.node, ()) if isinstance(f, MemoryDegradation)
                            and f.link in ("", bank.link)) + tuple(
            f for f in struck.get(bank.link, ()) if isinstance(f, DetectorDrop))
    listeners = sorted({r.source for r in checked})
    sourced: dict[str, list[Request]] = {}  # node -> the requests it is the source of (what QNode keeps of them)
    for request in checked:
        sourced.setdefault(request.source, []).append(request)
    net = Network()
    for v in sorted(g.nodes):
        net.add_actor(QNode(v, ports[v], sourced.get(v, ()),
                            g.nodes[v].get("swap_success_probability", swap_success_probability),
                            reservation, nmap=nmap, router=router, listeners=listeners,
                            faults=tuple(f for f in struck.get(v, ()) if isinstance(f, NodeFailure))), site=v)
    bank_ids = {}  # (node, link) -> the bank's id, one string for the bank and its channel's table
    for bank in banks:
        bank_ids[bank.node, bank.link] = bank.id
        net.add_actor(bank, site=bank.node)
        net.connect(bank.node, bank.id, latency_ps=bank.access_ps)
    for link, a, b, link_physics, length, station, slots, is_shared in links:
        link_components(net, link, a, b, link_physics, length_km=length, model=model,
                        refractive_index=refractive_index, station=station, slots=slots,
                        speakers={a: bank_ids[a, link], b: bank_ids[b, link]}, shared=is_shared,
                        faults=tuple(f for f in struck.get(link, ()) if isinstance(f, (LinkCut, DetectorDrop))))
    return net


def rerouted(router: Router) -> Callable[[dict], None]:
    """A change for :func:`qactors.fork`: from the checkpoint on, every :class:`QNode` routes new
    requests and retries with ``router`` (requests under way keep their paths).  A router that
    learns load from advertisements gets the sources of the network's requests as listeners."""
    if not isinstance(router, Router):
        raise _fail("router", router, "a router (qactors.protocols.routing, e.g. CongestionAware())", "router")
    router.check()

    def change(actors: dict) -> None:
        nodes = [a for a in actors.values() if isinstance(a, QNode)]
        sources = {a.id for a in nodes if a.pending} | {r.request.source for a in nodes for r in a.roles.values()}
        for a in nodes:
            a.router = router
            a.listeners = tuple(sorted(sources - {a.id})) if router.advert_ps else ()
    return change


def _position(data: dict, same=lambda x: x) -> tuple | None:
    pos = data.get("pos_km")
    return (same(float(pos[0])), same(float(pos[1]))) if pos is not None else None


class _Numbers(dict):
    """Called with a number, returns the first equal one it was called with: the network's many equal delays
    and probabilities, each computed per link, kept as one object (32 bytes saved per copy).  Equal means
    the same type and value, and for a float the same bits (0.0 and -0.0 stay apart; a NaN is kept as is)."""

    def __call__(self, x):
        if type(x) is float:
            return x if x != x else self.setdefault((float, x.hex()), x)
        return self.setdefault((type(x), x), x)


def network_actors(net: Network) -> list[tuple[str, str, str]]:
    """``(actor id, kind, site)`` of every actor of ``net``, in the order they were added: kind is
    ``"node"``, ``"memory"``, ``"channel"`` or, for actors of other protocols, their class name."""
    return [(a.id, getattr(type(a), "kind", type(a).__name__), site) for a, site in zip(net.actors, net.sites)]


def check_request(request: Request) -> Request:
    """``request`` with an application part replaced by its fields, if every rule a request obeys on
    its own holds (those that need the graph are checked when it is routed).

    Raises:
        ConfigurationError: naming the request, the field (``err.field``, a field of
            :class:`Request`), the value and what is allowed.
    """
    if not isinstance(request, Request):
        raise _fail("request", request, "a Request", "requests")
    rid = request.request_id
    if isinstance(request.application, Application):  # the part given: check its fields as the request's own
        part = request.application
        request = replace(request, application=part.kind, bsm_visibility=part.bsm_visibility)
    checks.name("Request.request_id", rid, "a request id, unique in the network", field="request_id")
    for field in ("source", "dest"):
        checks.name(f"request {rid!r} {field}", str(getattr(request, field)), "a node id", field=field)
    if str(request.source) == str(request.dest):
        raise _fail(f"request {rid!r} dest", request.dest, "a node other than the source", "dest")
    checks.integer(f"request {rid!r} pairs", request.pairs, low=1, high=checks.MAX_COUNT, field="pairs")
    checks.probability(f"request {rid!r} min_fidelity", request.min_fidelity, field="min_fidelity")
    for field in ("deadline_ps", "start_ps", "cutoff_ps"):
        checks.integer(f"request {rid!r} {field}", getattr(request, field), low=0, high=checks.MAX_PS, field=field)
    checks.integer(f"request {rid!r} retries", request.retries, low=0, high=checks.MAX_COUNT, field="retries")
    if request.deadline_ps and request.deadline_ps <= request.start_ps:
        raise _fail(f"request {rid!r} deadline_ps", request.deadline_ps, "0 (none) or later than start_ps",
                    "deadline_ps")
    policy = request.policy
    if not isinstance(policy, Swapper) and policy not in POLICIES:
        raise _fail(f"request {rid!r} policy", policy, f"{POLICIES} or a swapper part (qactors.protocols.swappers)",
                    "policy")
    if request.selection not in SELECTIONS:
        raise _fail(f"request {rid!r} selection", request.selection, str(SELECTIONS), "selection")
    policy = _swapper_of(request)
    cutoff = request.cutoff
    if cutoff is not None:
        if not isinstance(cutoff, Cutoff):
            raise _fail(f"request {rid!r} cutoff", cutoff, "None or a cut-off part (qactors.protocols.cutoffs)",
                        "cutoff")
        if request.cutoff_ps:
            raise _fail(f"request {rid!r} cutoff_ps", request.cutoff_ps, f"0 when a cut-off part is given "
                        f"({type(cutoff).__name__} has its own cutoff_ps)", "cutoff_ps")
        cutoff.check(rid)
    checks.integer(f"request {rid!r} channels", request.channels, low=1, high=checks.MAX_MEMORIES, field="channels")
    if request.application not in APPLICATIONS:
        raise _fail(f"request {rid!r} application", request.application, str(APPLICATIONS), "application")
    if type(request.bsm_visibility) not in (int, float) or not 0.0 <= request.bsm_visibility <= 1.0:
        raise _fail(f"request {rid!r} bsm_visibility", request.bsm_visibility, "a number in [0, 1]",
                    "bsm_visibility")
    if request.bsm_visibility != 1.0 and request.application not in ("teleport", "mixed"):
        raise _fail(f"request {rid!r} bsm_visibility", request.bsm_visibility, "1.0 unless the application is "
                    "'teleport' or 'mixed' (only teleportation makes a Bell-state measurement on a photon)",
                    "bsm_visibility")
    if request.purification is not None:
        if not isinstance(request.purification, Purification):
            raise _fail(f"request {rid!r} purification", request.purification, "None or a Purification",
                        "purification")
        request.purification.check()
    policy.check(rid, request)
    if request.purification is not None:
        if request.channels < 2:
            raise _fail(f"request {rid!r} channels (with purification)", request.channels,
                        "an int >= 2: purification needs two pairs at once", "channels")
    return request


def route_on(nmap: NetworkMap, request: Request, path, who: str = "routing") -> Request:
    """``request`` routed over ``path``: its ``path``, ``offsets_ps`` and ``shared`` set.

    Raises:
        ConfigurationError: ``path`` is not a simple path of the map's links from the request's source to
            its destination (``err.field == "routing"``: a fault of the router ``who``), or the request
            cannot use it (``"policy"``: its swapper cannot serve the path; ``"channels"``: a link has too
            few memories).
    """
    rid = request.request_id
    path = tuple(str(v) for v in path)
    adj = nmap.adj
    if (len(path) < 2 or path[0] != request.source or path[-1] != request.dest or len(set(path)) != len(path)
            or any(b not in adj.get(a, ()) for a, b in zip(path, path[1:]))):
        raise _fail(f"request {rid!r} route from {who}", path, "a simple path of graph edges from source to dest",
                    "routing")
    links = nmap.path_links(path)
    hops = tuple(link.shared for link in links)
    _swapper_of(request).check_path(rid, path, hops)
    for link in links:
        if not link.shared and link.channels < request.channels:
            raise _fail(f"request {rid!r} channels", request.channels, f"at most {link.channels}, the memories "
                        f"per end of link ({link.a}, {link.b}) on its path", "channels")
    return replace(request, path=path, offsets_ps=nmap.offsets_ps(path), shared=hops)


def _route(g: nx.Graph, nmap: NetworkMap, request: Request, routing, router: Router, ids: set) -> Request:
    """A checked request with its parts; with its path if ``routing`` (a function of the graph) pins it,
    else routable by ``router`` on the map as it is at the start (errors raised now, not at run time)."""
    request = check_request(request)
    rid = request.request_id
    if rid in ids:
        raise _fail("Request.request_id", rid, "a non-empty string, unique in the network", "request_id")
    if "~" in rid:
        raise _fail("Request.request_id", rid, "an id without '~' (it names the new paths of a rerouted request)",
                    "request_id")
    ids.add(rid)
    for field in ("source", "dest"):
        if str(getattr(request, field)) not in g:
            raise _fail(f"request {rid!r} {field}", getattr(request, field), "a node of the graph", field)
    request = replace(request, source=str(request.source), dest=str(request.dest))
    if not nx.has_path(g, request.source, request.dest):
        raise _fail(f"request {rid!r} route from {request.source!r} to", request.dest,
                    "a destination connected to the source", "dest")
    if request.path or routing is not None:
        routed = route_on(nmap, request, request.path or routing(g, request.source, request.dest))
    else:
        path = None
        for capacity in (True, False):  # without a path, find one that names the link with too few memories
            path = router.route(RouteView(request.source, request.start_ps, request, nmap, {}, frozenset(), {},
                                          capacity=capacity))
            if path is not None:
                break
        if path is None:
            raise _fail(f"request {rid!r} route by {type(router).__name__} from {request.source!r} to",
                        request.dest, "a destination it can route to (the links on the way have too few "
                        "memories for the request's channels, or the router finds no path)", "routing")
        route_on(nmap, request, path, type(router).__name__)  # raises now what the run would refuse
        routed = request
    return with_parts(routed)
