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
4. **Generation and swapping** by the request's ``policy``:

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

Purification (:class:`Purification`, asap policy): the path-upstream end of a
link (or the source, for end-to-end pairs) leads.  It picks two unsettled
pairs, applies its half of the circuit and sends :class:`Purify`; the
partner, re-checking that it still holds both pairs, applies its half and
answers :class:`PurifyReply`.  Both compute the same outcome from the pair
records, both operation times and a keyed shared draw.  A pair at or above
``target_fidelity`` is settled (:class:`Settled`) and may be used;
``recurrence`` purifies pairs of equal rounds, ``pumping`` always spends a
fresh pair on the best one (Dür, Briegel, Cirac, Zoller, PRA 59, 169 (1999));
the circuit is BBPSSW or DEJMPS (Deutsch et al., PRL 77, 2818 (1996)).
"""

from __future__ import annotations

import math
import re
from typing import Callable, NamedTuple, Sequence

import networkx as nx

from qactors.core.actor import Actor, handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import PairEnd, PairRecord, bbpssw, chain_record, dejmps

from .link import AttemptPhysics, Want, link_components, plan_link
from .memory import ALLOCATIONS, FreeSlots, MemoryBank, Stored, memory_id
from .analysis import nested_tree, sequential_tree
from .applications import APPLICATIONS, Receiver, SiftBits, TeleportBits, sender_use
from .swapping import EndTracker, SwapRecord

__all__ = ["Purification", "Request", "Reserve", "Reject", "Confirm", "Activate", "Release", "SpanDone",
           "Discard", "Purify", "PurifyReply", "Settled", "QNode", "LinkPort", "quantum_network", "network_actors", "shortest_path", "swap_tree",
           "request_report", "POLICIES", "SELECTIONS"]

POLICIES = ("asap", "nested", "sequential")
_ROUND_SUFFIX = re.compile(r"~p\d+$")  # purified pairs are named <first id>~p<round>
SELECTIONS = ("oldest", "youngest", "best")
_SCHEMES = {"bbpssw": bbpssw, "dejmps": dejmps}


def _fail(what: str, value: object, allowed: str, field: str) -> ConfigurationError:
    return ConfigurationError(f"{what} = {value!r} is not allowed; allowed: {allowed}", field=field, value=value)


@message
class Purification(Message):
    """How a request purifies.

    ``scheme``: ``"dejmps"`` or ``"bbpssw"``; ``mode``: ``"recurrence"`` or
    ``"pumping"``; ``level``: ``"link"`` (link pairs before swapping) or
    ``"end"`` (end-to-end pairs before delivery); ``target_fidelity`` in
    (0.5, 1]: pairs at or above it are used; ``max_rounds`` >= 1: a pair that
    has been through that many rounds without reaching the target is
    discarded.
    """

    scheme: str = "dejmps"
    mode: str = "recurrence"
    level: str = "link"
    target_fidelity: float = 0.9
    max_rounds: int = 3

    def check(self) -> "Purification":
        if self.scheme not in _SCHEMES:
            raise _fail("Purification.scheme", self.scheme, str(tuple(_SCHEMES)), "scheme")
        if self.mode not in ("recurrence", "pumping"):
            raise _fail("Purification.mode", self.mode, "'recurrence' or 'pumping'", "mode")
        if self.level not in ("link", "end"):
            raise _fail("Purification.level", self.level, "'link' or 'end'", "level")
        if not (isinstance(self.target_fidelity, (int, float)) and 0.5 < self.target_fidelity <= 1.0):
            raise _fail("Purification.target_fidelity", self.target_fidelity, "a number in (0.5, 1]",
                        "target_fidelity")
        if type(self.max_rounds) is not int or self.max_rounds < 1:
            raise _fail("Purification.max_rounds", self.max_rounds, "an int >= 1", "max_rounds")
        return self


@message
class Request(Message):
    """An end-to-end request, as it travels along its path.

    ``path`` is the node sequence; ``offsets_ps`` the cumulative classical
    latency along it (node ``i`` to node ``j`` takes ``|offsets_ps[i] -
    offsets_ps[j]|``).  ``deadline_ps`` of 0 means none.
    """

    request_id: str
    source: str
    dest: str
    pairs: int = 1
    min_fidelity: float = 0.0
    deadline_ps: int = 0
    start_ps: int = 0
    policy: str = "asap"
    channels: int = 1
    cutoff_ps: int = 0
    selection: str = "oldest"
    purification: object = None  # Purification or None
    application: str = "record"
    retries: int = 3
    bsm_visibility: float = 1.0  # teleportation: two-photon interference visibility of the sender's BSM
    path: tuple = ()
    offsets_ps: tuple = ()
    shared: tuple = ()  # per hop of the path: its link's memories are shared between requests

    def latency(self, i: int, j: int) -> int:
        return abs(self.offsets_ps[i] - self.offsets_ps[j])


@message
class Reserve(Message):
    request: Request
    hop: int          # index in the path of the node this is sent to
    channels: tuple   # channel ids offered on the link (path[hop-1], path[hop])
    attempt: int


@message
class Reject(Message):
    request_id: str
    hop: int          # index of the node this is sent to
    attempt: int
    at_node: str
    reason: str


@message
class Confirm(Message):
    request_id: str
    attempt: int
    channels: tuple   # per hop: the channel ids reserved on link (hop, hop + 1)


@message
class Activate(Message):
    """Start (or restart) generation on the request's links inside path span ``[l, r]`` at ``at_ps``.

    ``lane`` -1: every lane; ``channels``: per hop, the request's channel ids
    (only in the first activation)."""
    request_id: str
    lane: int
    l: int
    r: int
    at_ps: int
    channels: tuple = ()


@message
class _Offer(Message):
    request_id: str
    lane: int
    l: int
    r: int


@message
class Release(Message):
    request_id: str
    reason: str


@message
class SpanDone(Message):
    """Tree policies: span ``[l, r]`` of ``lane`` exists, as ``pair`` (oriented l -> r)."""
    request_id: str
    lane: int
    l: int
    r: int
    pair: PairRecord
    swap_ps: int


@message
class Discard(Message):
    """Node ``by`` dropped its qubit of ``pair`` without swapping it (cut-off, or its partner did)."""
    request_id: str
    pair: PairRecord
    by: str


@message
class Purify(Message):
    request_id: str
    keep: str
    sacrifice: str
    t_leader_ps: int


@message
class PurifyReply(Message):
    request_id: str
    keep: str
    sacrifice: str
    t_leader_ps: int
    t_follower_ps: int
    ok: bool


@message
class Settled(Message):
    """The leader's verdict on an (unsettled) pair: ``use`` it, or drop it."""
    request_id: str
    pair_id: str
    use: bool


@message
class _Start(Message):
    request_id: str
    attempt: int


@message
class _Deadline(Message):
    request_id: str


@message
class _Cutoff(Message):
    request_id: str
    pair_id: str


def swap_tree(segments: int, policy: str) -> dict[int, tuple[int, int]]:
    """Which node joins which span: ``{m: (l, r)}`` over path positions ``0..segments``, from
    :func:`~qactors.protocols.analysis.nested_tree` (each span split at ``(l + r) // 2``) or
    :func:`~qactors.protocols.analysis.sequential_tree` (node ``i`` joins ``[0, i]`` and
    ``[i, i + 1]``): the trees the exact references are computed for."""
    if policy not in ("nested", "sequential"):
        raise _fail("swap tree policy", policy, "'nested' or 'sequential'", "policy")
    spans: dict[int, tuple[int, int]] = {}
    stack = [nested_tree(segments) if policy == "nested" else sequential_tree(segments)]
    while stack:
        tree = stack.pop()
        if not tree.is_link:
            spans[tree.swapper] = (tree.left, tree.right)
            stack.extend(tree.children)
    return spans


def _oriented(pair: PairRecord, left: str) -> PairRecord:
    """``pair`` with end ``a`` at node ``left`` (Bell-diagonal states are symmetric under exchange)."""
    if pair.a.node == left:
        return pair
    return PairRecord(pair.pair_id, pair.coefficients, pair.ref_ps, pair.b, pair.a)


def _purified(keep: PairRecord, sacrifice: PairRecord, scheme: str, t_a: int, t_b: int, rounds: int,
              u: float) -> PairRecord | None:
    """The outcome both ends compute: ``keep`` purified with ``sacrifice`` (both oriented alike),
    the ``a`` end operating at ``t_a`` and the ``b`` end at ``t_b``; None if it failed."""
    p, c = _SCHEMES[scheme](keep.at_ends(t_a, t_b), sacrifice.at_ends(t_a, t_b))
    if u >= p:
        return None
    base = _ROUND_SUFFIX.sub("", keep.pair_id)  # the id the chain of purifications started from
    return PairRecord(f"{base}~p{rounds}", c, min(t_a, t_b), PairEnd(keep.a.node, keep.a.noise, t_a),
                      PairEnd(keep.b.node, keep.b.noise, t_b))


class _Role:
    """One request at one node: plain data in the node's state."""

    def __init__(self, request: Request, index: int):
        self.request = request
        self.index = index
        self.status = "reserving"
        self.attempt = 0
        self.active_from = -1                 # when the path started generating (ps)
        self.left: tuple = ()                 # my channels towards the source
        self.right: tuple = ()                # my channels towards the destination
        self.rounds: dict[str, int] = {}      # pair id -> purification rounds it went through
        self.born: dict[str, int] = {}        # repeaters with a cut-off: pair id -> when its oldest qubit was stored
        self.cutoff_timers: dict[str, int] = {}  # repeaters with a cut-off: pair id -> its cut-off timer
        self.settled: set[str] = set()        # pair ids usable (purification done, or none asked)
        self.locked: set[str] = set()         # pair ids in a purification exchange
        self.waiting: dict[str, Message] = {}  # end purification: messages about pairs not yet joined
        self.known: dict[int, dict[str, PairRecord]] = {}  # tree swapper: lane -> {"l"/"r": child span pair}
        self.spans = swap_tree(self.n, request.policy) if request.policy != "asap" else {}
        self.end_level = request.purification is not None and request.purification.level == "end"
        self.tracker: EndTracker | None = None
        self.end_pairs: dict[str, tuple[str, PairRecord]] = {}  # end purification: pair id -> (channel, pair)
        self.delivered: list[tuple] = []      # (time ps, fidelity on arrival, pair id)
        self.receiver = Receiver()            # destination: what the application measured
        self.holding: dict[str, str] = {}     # destination: pair id -> channel kept until the sender's bits come
        self.below_min = 0
        self.swaps = 0
        self.failed_swaps = 0
        self.cutoffs = 0
        self.purifications = 0
        self.failed_purifications = 0
        self.wants = False                    # shared link towards the destination: its channel was asked for pairs
        self.outcome = ""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def n(self) -> int:
        return len(self.request.path) - 1

    @property
    def is_end(self) -> bool:
        return self.index in (0, self.n)


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

    The node keeps its own view of what its memories hold (``held``: slot -> pair record, as the
    memories reported it with :class:`~qactors.protocols.memory.Stored`; ``serving``: slot -> the
    request the pair serves) and of the reserved slots (``owner``).

    Results (in :meth:`state`): ``roles[request id]`` with deliveries, swaps, cut-offs,
    purifications and the request's ``outcome`` at the source."""

    kind = "node"

    def __init__(self, actor_id: str, ports: Sequence[LinkPort], requests: Sequence[Request] = (),
                 swap_success_probability: float = 1.0):
        super().__init__(actor_id)
        if not (isinstance(swap_success_probability, (int, float)) and 0.0 < swap_success_probability <= 1.0):
            raise _fail("swap_success_probability", swap_success_probability, "a number in (0, 1]",
                        "swap_success_probability")
        self.ports = {p.link: LinkPort(*p) for p in ports}
        self.port_of = {slot: p.link for p in ports for slot in p.slots}     # slot id -> link name
        self.port_to = {p.neighbour: p.link for p in ports}                  # neighbour -> link name
        self.neighbour_of = {slot: p.neighbour for p in ports for slot in p.slots}  # slot id -> other end
        self.owner: dict[str, str] = {}       # reserved slot id -> request id holding it
        self.held: dict[str, PairRecord] = {}  # slot id -> pair in memory (oriented along its request's path)
        self.serving: dict[str, str] = {}      # slot id -> request id the held pair serves
        self.offered: set[str] = set()         # slots asked to generate, not heard from since
        self.pending = [r for r in requests if r.source == actor_id]
        self.roles: dict[str, _Role] = {}
        self.swap_success_probability = swap_success_probability
        self.ignored = 0

    def on_start(self) -> None:
        for request in self.pending:
            self.set_timer(_Start(request.request_id, 0), delay_ps=request.start_ps)

    # -- helpers --------------------------------------------------------------------
    def _role(self, request_id: str) -> _Role | None:
        role = self.roles.get(request_id)
        if role is None or role.status == "done":
            self.ignored += 1  # a message for a request this node does not (or no longer) serve
            return None
        return role

    def _to(self, role: _Role, index: int, msg: Message) -> None:
        self.send(role.request.path[index], msg, delay_ps=max(1, role.request.latency(role.index, index)))

    def _free_channels(self, link_to: str, count: int) -> list[str]:
        port = self.ports[self.port_to[link_to]]
        if port.shared:  # a shared bank lends every slot to every request: nothing to reserve
            return list(port.slots)
        return sorted(c for c in port.slots if c not in self.owner)[:count]

    def _shared(self, channel: str) -> bool:
        return self.ports[self.port_of[channel]].shared

    def _offer(self, channel: str) -> None:
        """Ask a reserved slot's memory to generate (a shared memory always does)."""
        if channel in self.offered or channel in self.held:
            return
        port = self.ports[self.port_of[channel]]
        if port.shared:
            return
        self.offered.add(channel)
        self.send(port.memory, FreeSlots((channel,), True), delay_ps=port.access_ps)

    def _want(self, role: _Role, on: bool) -> None:
        """Tell the channel of the link towards the destination, if shared, whether this request wants its pairs
        (the path-upstream end of each link speaks for it)."""
        request = role.request
        if role.index >= role.n or not request.shared or not request.shared[role.index] or role.wants == on:
            return
        role.wants = on
        port = self.ports[self.port_to[request.path[role.index + 1]]]
        self.send(port.channel, Want(port.link, request.request_id, on), delay_ps=port.channel_ps)

    def _drop(self, channel: str, offer: bool, tell: bool = True) -> None:
        """Forget the pair in ``channel``, tell its memory, and, if ``offer``, start generating the next one.

        ``tell=False`` (a reserved slot that is sure to be offered again, or freed with its request): the
        memory resets the qubit when it is next told of the slot, which saves a message per restart."""
        pair = self.held.pop(channel, None)
        role = self.roles.get(self.serving.pop(channel, ""))
        if pair is not None and role is not None:
            role.settled.discard(pair.pair_id)
            role.rounds.pop(pair.pair_id, None)
            role.born.pop(pair.pair_id, None)
            self._disarm_cutoff(role, pair.pair_id)
        if pair is None or not (tell or offer):
            if offer:
                self._offer(channel)
            return
        port = self.ports[self.port_of[channel]]
        generate = offer and not port.shared
        if generate:
            self.offered.add(channel)
        self.send(port.memory, FreeSlots((channel,), generate), delay_ps=port.access_ps)

    def _channel_of(self, role: _Role, pair_id: str) -> str | None:
        for channel in (*role.left, *role.right):
            pair = self.held.get(channel)
            if pair is not None and pair.pair_id == pair_id:
                return channel
        return None

    # -- reservation --------------------------------------------------------------------
    @handler(_Start)
    def on_start_request(self, msg: _Start, sender: str) -> None:
        request = next(r for r in self.pending if r.request_id == msg.request_id)
        role = self.roles.get(request.request_id) or _Role(request, 0)
        self.roles[request.request_id] = role
        if role.status == "done":
            return
        if msg.attempt == 0 and request.deadline_ps:
            self.set_timer(_Deadline(request.request_id), delay_ps=max(0, request.deadline_ps - self.now))
        role.attempt = msg.attempt
        channels = self._free_channels(request.path[1], request.channels)
        if len(channels) < request.channels:
            self._rejected(role, self.id, "no free memory on the first link")
            return
        for c in channels:
            if not self._shared(c):
                self.owner[c] = request.request_id
        role.right = tuple(channels)
        self._to(role, 1, Reserve(request, 1, tuple(channels), msg.attempt))

    @handler(Reserve)
    def on_reserve(self, msg: Reserve, sender: str) -> None:
        request = msg.request
        role = self.roles.get(request.request_id)
        if role is not None and role.status != "reserving":
            self.ignored += 1
            return
        role = role or _Role(request, msg.hop)
        role.attempt = msg.attempt
        busy = [c for c in msg.channels if c in self.owner and self.owner[c] != request.request_id]
        if busy:
            self._to(role, msg.hop - 1, Reject(request.request_id, msg.hop - 1, msg.attempt, self.id,
                                               f"memory {busy[0]} is in use"))
            return
        out: list[str] = []
        if msg.hop < len(request.path) - 1:
            out = self._free_channels(request.path[msg.hop + 1], request.channels)
            if len(out) < request.channels:
                self._to(role, msg.hop - 1, Reject(request.request_id, msg.hop - 1, msg.attempt, self.id,
                                                   "no free memory on the next link"))
                return
        self.roles[request.request_id] = role
        for c in (*msg.channels, *out):
            if not self._shared(c):
                self.owner[c] = request.request_id
        role.left, role.right = tuple(msg.channels), tuple(out)
        if out:
            self._to(role, msg.hop + 1, Reserve(request, msg.hop + 1, tuple(out), msg.attempt))
        else:
            self._to(role, 0, Confirm(request.request_id, msg.attempt, ()))

    def _unreserve(self, role: _Role) -> None:
        waiting = set(role.holding.values())  # qubits a teleportation still needs are freed when its bits come
        rid = role.request.request_id
        freed: dict[str, list[str]] = {}  # memory -> the request's slots there: reset in one message each
        for c in (*role.left, *role.right):
            if c in waiting:
                continue
            if self.owner.get(c) == rid:
                del self.owner[c]
                freed.setdefault(self.ports[self.port_of[c]].memory, []).append(c)
            if c in self.held and self.serving.get(c) == rid:
                self._drop(c, offer=False, tell=self._shared(c))
        for link in sorted({self.port_of[c] for c in (*role.left, *role.right)}):
            port = self.ports[link]
            if port.memory in freed:
                self.send(port.memory, FreeSlots(tuple(freed[port.memory]), False), delay_ps=port.access_ps)
        role.left = role.right = ()

    @handler(Reject)
    def on_reject(self, msg: Reject, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status != "reserving" or role.attempt != msg.attempt:
            self.ignored += 1
            return
        self._unreserve(role)
        if role.index > 0:
            del self.roles[msg.request_id]
            self._to(role, role.index - 1, Reject(msg.request_id, role.index - 1, msg.attempt, msg.at_node,
                                                  msg.reason))
            return
        self._rejected(role, msg.at_node, msg.reason)

    def _rejected(self, role: _Role, node: str, reason: str) -> None:
        request = role.request
        if role.attempt < request.retries:
            backoff = int(self.rng.integers(1, 4)) * max(1, 2 * request.offsets_ps[-1])
            if not request.deadline_ps or self.now + backoff < request.deadline_ps:
                self.set_timer(_Start(request.request_id, role.attempt + 1), delay_ps=backoff)
                return
        role.status = "done"
        role.outcome = f"rejected at {node}: {reason}"

    @handler(Confirm)
    def on_confirm(self, msg: Confirm, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status != "reserving" or role.attempt != msg.attempt or role.index != 0:
            self.ignored += 1
            return
        self._start_in_step(role, -1, 0, role.n)

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
        if role.status == "reserving":
            role.status = "active"
            role.active_from = msg.at_ps
            if role.is_end and role.request.policy == "asap":
                # one memory per link: pairs follow each other; shared memories lend any of their slots
                in_order = role.request.channels == 1 and not any(role.request.shared)
                role.tracker = EndTracker(self.id, role.request.path[role.n - role.index], role.index == 0,
                                          in_order=in_order)
        if role.request.policy != "asap":
            self._restart_span(role, msg.lane, msg.l, msg.r)
        self.set_timer(_Offer(msg.request_id, msg.lane, msg.l, msg.r), delay_ps=msg.at_ps - self.now)

    def _span_channels(self, role: _Role, lane: int, l: int, r: int) -> list[str]:
        out = []
        if role.index - 1 >= l and role.index <= r:
            out += role.left if lane < 0 else [role.left[lane]]
        if role.index + 1 <= r and role.index >= l:
            out += role.right if lane < 0 else [role.right[lane]]
        return list(out)

    def _restart_span(self, role: _Role, lane: int, l: int, r: int) -> None:
        """Tree policies: drop everything of ``lane`` inside ``[l, r]`` (before its restart)."""
        for channel in self._span_channels(role, lane, l, r):
            if channel in self.held:
                self._drop(channel, offer=False, tell=False)  # offered again when the span restarts
        lanes = range(role.request.channels) if lane < 0 else (lane,)
        spans = role.spans
        mine = spans.get(role.index)
        for ln in lanes:
            known = role.known.setdefault(ln, {})
            if mine is None:
                continue
            ml, mr = mine
            if l <= ml and mr <= r:
                known.clear()       # my whole span restarts
            else:
                if l <= ml and role.index <= r:
                    known.pop("l", None)
                if l <= role.index and mr <= r:
                    known.pop("r", None)

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
        link = self.port_of.get(channel)
        if link is None or sender != self.ports[link].memory:
            self.ignored += 1  # not one of this node's memories
            return
        self.offered.discard(channel)
        port = self.ports[link]
        rid = msg.purpose if port.shared else self.owner.get(channel, "")
        role = self.roles.get(rid)
        pair = msg.pair
        if role is None or role.status != "active" or pair.ref_ps < role.active_from:
            # a round that outlived an earlier request, or a pool pair for a request not (or no longer) served
            # here: not this request's pair.  Both ends agree: a pair emitted after the start reaches each end
            # after its Activate did.
            generate = role is not None and role.status == "active" and not port.shared
            if generate:
                self.offered.add(channel)
            self.send(port.memory, FreeSlots((channel,), generate), delay_ps=port.access_ps)
            return
        left = role.request.path[role.index - 1] if channel in role.left else self.id
        pair = _oriented(pair, left)
        self.held[channel] = pair
        self.serving[channel] = rid
        if role.request.policy == "asap":
            self._asap_new_link_pair(role, channel, pair)
        else:
            self._tree_link_pair(role, channel, pair)

    # -- asap -----------------------------------------------------------------------------
    def _link_leader(self, role: _Role, channel: str) -> bool:
        return channel in role.right

    def _asap_new_link_pair(self, role: _Role, channel: str, pair: PairRecord) -> None:
        request = role.request
        if request.cutoff_ps and not role.is_end:
            self._arm_cutoff(role, pair.pair_id, min(pair.a.stored_ps, pair.b.stored_ps))
        purification = request.purification
        if purification is None or purification.level != "link":
            role.settled.add(pair.pair_id)
        elif self._link_leader(role, channel):
            role.rounds[pair.pair_id] = 0
            self._lead_purification(role, role.right)
            return
        self._asap_progress(role)

    def _arm_cutoff(self, role: _Role, pair_id: str, born_ps: int) -> None:
        role.born[pair_id] = born_ps
        role.cutoff_timers[pair_id] = self.set_timer(_Cutoff(role.request.request_id, pair_id),
                                                     delay_ps=max(0, born_ps + role.request.cutoff_ps - self.now))

    def _disarm_cutoff(self, role: _Role, pair_id: str) -> None:
        """A pair used or dropped before its cut-off: its timer need not fire."""
        handle = role.cutoff_timers.pop(pair_id, None)
        if handle is not None:
            self.cancel_timer(handle)

    def _usable(self, role: _Role, channels: Sequence[str]) -> list[str]:
        return [c for c in channels if c in self.held and self.held[c].pair_id in role.settled]

    def _select(self, role: _Role, channels: list[str]) -> str:
        selection = role.request.selection
        if selection == "best":
            return max(channels, key=lambda c: (self.held[c].fidelity_at(self.now), c))
        key = (lambda c: (self.held[c].ref_ps, c))
        return min(channels, key=key) if selection == "oldest" else max(channels, key=key)

    def _asap_progress(self, role: _Role) -> None:
        if role.is_end:
            self._try_join(role)
            return
        while True:
            lefts, rights = self._usable(role, role.left), self._usable(role, role.right)
            if not lefts or not rights:
                return
            self._asap_swap(role, self._select(role, lefts), self._select(role, rights))

    def _asap_swap(self, role: _Role, cl: str, cr: str) -> None:
        left, right = self.held[cl], self.held[cr]
        success = self.rng.random() < self.swap_success_probability
        role.swaps += 1
        role.failed_swaps += not success
        record = SwapRecord(self.id, self.now, success, left, right, 0, role.request.request_id)
        for end in (0, role.n):
            self._to(role, end, record)
        for channel in (cl, cr):
            self._drop(channel, offer=True)

    @handler(_Cutoff)
    def on_cutoff(self, msg: _Cutoff, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.status != "active":
            return
        role.cutoff_timers.pop(msg.pair_id, None)  # fired: nothing to cancel any more
        channel = self._channel_of(role, msg.pair_id)
        if channel is None or msg.pair_id in role.locked:
            return  # used already, or in a purification exchange that decides its fate
        role.cutoffs += 1
        self._discard(role, channel)

    def _discard(self, role: _Role, channel: str, partner_too: bool = True) -> None:
        """Drop a link pair and tell both path ends (and the partner, if it may still hold it)."""
        partner = role.request.path.index(self.neighbour_of[channel])
        self._notify_drop(role, self.held[channel], (partner,) if partner_too else ())
        self._drop(channel, offer=True)

    def _notify_drop(self, role: _Role, pair: PairRecord, also: tuple = ()) -> None:
        notice = Discard(role.request.request_id, pair, self.id)
        for i in sorted({0, role.n, *also} - {role.index}):
            self._to(role, i, notice)

    @handler(Discard)
    def on_discard(self, msg: Discard, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        channel = self._channel_of(role, msg.pair.pair_id)
        if channel is not None:
            if msg.pair.pair_id in role.locked:
                # in a purification: the reply will say the partner lacked it and both pairs go then;
                # tell the ends now, as for any pair dropped on a partner's notice
                self._notify_drop(role, msg.pair)
                return
            self._discard(role, channel, partner_too=False)
        elif role.tracker is not None:
            role.tracker.discarded(msg.pair, msg.by)
            self._try_join(role)

    @handler(SwapRecord)
    def on_swap_record(self, msg: SwapRecord, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None or role.tracker is None:
            return
        if role.tracker.add(msg):
            self._try_join(role)
        else:
            self.ignored += 1

    def _try_join(self, role: _Role) -> None:
        channels = role.right if role.index == 0 else role.left
        busy = {c for c, _ in role.end_pairs.values()} | set(role.holding.values())
        for channel in channels:
            pair = self.held.get(channel)
            if pair is None or pair.pair_id not in role.settled or role.status != "active":
                continue
            if channel in busy:
                continue  # already joined: waiting for end-to-end purification or for teleportation bits
            verdict = role.tracker.walk(pair)
            if verdict is None:
                continue
            if verdict.dead:
                self._drop(channel, offer=True)
                continue
            joined = verdict.pair
            self._joined(role, channel, joined, verdict.last_ps)

    def _joined(self, role: _Role, channel: str, joined: PairRecord, last_ps: int) -> None:
        request = role.request
        if role.end_level:
            role.end_pairs[joined.pair_id] = (channel, joined)
            role.rounds[joined.pair_id] = 0
            if role.index == 0:
                self._lead_purification(role, None)
            else:
                early = role.waiting.pop(joined.pair_id, None)
                if early is not None:
                    self._dispatch[type(early)](self, early, request.path[0])
            return
        estimate = joined.fidelity_at(last_ps + request.offsets_ps[-1])
        self._deliver(role, channel, joined, estimate)

    def _deliver(self, role: _Role, channel: str | None, pair: PairRecord, estimate: float) -> None:
        request = role.request
        if estimate < request.min_fidelity:
            role.below_min += 1
        else:
            role.delivered.append((self.now, pair.fidelity_at(self.now), pair.pair_id))
            if not self._use(role, pair) and channel is not None:
                role.holding[pair.pair_id] = channel  # the receiver's qubit waits for the sender's bits
                channel = None
        if channel is not None:
            self._drop(channel, offer=role.status == "active")
        self._served(role)

    def _use(self, role: _Role, pair: PairRecord) -> bool:
        """Run the request's application on a delivered pair; False if this end must keep its qubit."""
        request = role.request
        if request.application == "record":
            return True
        if role.index == 0:
            sender_use(self, request.application, pair, request.dest, max(1, request.latency(0, role.n)),
                       request.request_id, request.bsm_visibility)
            return True
        return role.receiver.obtain(self, request.application, pair)

    @handler(TeleportBits, SiftBits)
    def on_sender_bits(self, msg: TeleportBits | SiftBits, sender: str) -> None:
        role = self.roles.get(msg.request_id)
        if role is None or role.request.source != sender or role.request.dest != self.id:
            self.ignored += 1
            return
        role.receiver.resolve(self, msg)
        channel = role.holding.pop(msg.pair_id, None)
        if channel is not None:
            self._drop(channel, offer=role.status == "active")
            if role.status == "done" and self.owner.get(channel) == role.request.request_id:
                del self.owner[channel]

    def _served(self, role: _Role) -> None:
        if len(role.delivered) < role.request.pairs:
            return
        if role.index == 0:
            self._close(role, f"served: {len(role.delivered)} pairs")
        else:  # the destination stops too (keeping qubits that wait for bits); the source's Release frees the path
            self._finish(role, f"served: {len(role.delivered)} pairs")

    # -- purification -------------------------------------------------------------------
    def _candidates(self, role: _Role, channels: Sequence[str] | None) -> list[PairRecord]:
        if channels is None:  # end-to-end pairs wait in end_pairs until settled
            pairs = [p for _, p in role.end_pairs.values()]
        else:
            rid = role.request.request_id
            pairs = [self.held[c] for c in channels
                     if c in self.held and self.serving[c] == rid and self.held[c].pair_id not in role.settled]
        return sorted((p for p in pairs if p.pair_id not in role.locked), key=lambda p: (p.ref_ps, p.pair_id))

    def _lead_purification(self, role: _Role, channels: Sequence[str] | None) -> None:
        """Leader: settle good pairs, drop exhausted ones, start purifications."""
        purification = role.request.purification
        partner = role.index + 1 if channels is not None else role.n
        for pair in self._candidates(role, channels):
            rounds = role.rounds.get(pair.pair_id, 0)
            if pair.fidelity_at(self.now) >= purification.target_fidelity:
                self._settle(role, pair, partner, True, channels is None)
            elif rounds >= purification.max_rounds:
                self._settle(role, pair, partner, False, channels is None)
        free = self._candidates(role, channels)
        while len(free) >= 2:
            if purification.mode == "pumping":
                fresh = [p for p in free if role.rounds.get(p.pair_id, 0) == 0]
                best = max(free, key=lambda p: (role.rounds.get(p.pair_id, 0), p.ref_ps, p.pair_id))
                others = [p for p in fresh if p.pair_id != best.pair_id]
                if not others:
                    return
                keep, sacrifice = best, others[0]
            else:
                by_round: dict[int, list[PairRecord]] = {}
                for p in free:
                    by_round.setdefault(role.rounds.get(p.pair_id, 0), []).append(p)
                ready = [r for r, ps in sorted(by_round.items(), reverse=True) if len(ps) >= 2]
                if not ready:
                    return
                keep, sacrifice = by_round[ready[0]][:2]
            role.locked.update((keep.pair_id, sacrifice.pair_id))
            self._to(role, partner, Purify(role.request.request_id, keep.pair_id, sacrifice.pair_id, self.now))
            free = [p for p in free if p.pair_id not in role.locked]

    def _settle(self, role: _Role, pair: PairRecord, partner: int, use: bool, end: bool) -> None:
        self._to(role, partner, Settled(role.request.request_id, pair.pair_id, use))
        self._settled(role, pair.pair_id, use, end)

    def _settled(self, role: _Role, pair_id: str, use: bool, end: bool) -> None:
        if end:
            channel, pair = role.end_pairs.pop(pair_id)
            role.rounds.pop(pair_id, None)
            estimate = pair.fidelity_at(self.now + (role.request.offsets_ps[-1] if role.index == 0 else 0))
            if use:
                self._deliver(role, channel, pair, estimate)
            else:
                self._drop(channel, offer=True)
            return
        channel = self._channel_of(role, pair_id)
        if channel is None:
            return
        if use:
            role.settled.add(pair_id)
            self._asap_progress(role)
        else:
            self._drop(channel, offer=True)

    def _lookup(self, role: _Role, pair_id: str, end: bool) -> tuple[str | None, PairRecord | None]:
        if end:
            entry = role.end_pairs.get(pair_id)
            return (entry[0], entry[1]) if entry else (None, None)
        channel = self._channel_of(role, pair_id)
        return channel, (self.held[channel] if channel else None)

    def _apply(self, role: _Role, keep_id: str, sac_id: str, t_a: int, t_b: int, end: bool) -> PairRecord | None:
        """Both ends: the purification outcome, applied to this node's memory."""
        (ck, keep), (cs, sac) = self._lookup(role, keep_id, end), self._lookup(role, sac_id, end)
        rounds = role.rounds.get(keep_id, 0) + 1
        u = float(self.shared_rng("purify", role.request.request_id, keep_id, sac_id).random())
        result = _purified(keep, sac, role.request.purification.scheme, t_a, t_b, rounds, u)
        role.purifications += 1
        for pid in (keep_id, sac_id):
            role.locked.discard(pid)
            role.rounds.pop(pid, None)
        if end:
            role.end_pairs.pop(sac_id)
            self._drop(cs, offer=True)
            role.end_pairs.pop(keep_id)
            if result is None:
                role.failed_purifications += 1
                self._drop(ck, offer=True)
            else:
                role.end_pairs[result.pair_id] = (ck, result)
                role.rounds[result.pair_id] = rounds
            return result
        born = min(role.born.get(keep_id, keep.ref_ps), role.born.get(sac_id, sac.ref_ps))
        self._drop(cs, offer=True)
        if result is None:
            role.failed_purifications += 1
            self._drop(ck, offer=True)
        else:
            self.held[ck] = result
            self._disarm_cutoff(role, keep_id)
            role.rounds[result.pair_id] = rounds
            if role.request.cutoff_ps and not role.is_end:  # the cut-off counts from the oldest qubit
                self._arm_cutoff(role, result.pair_id, born)
        return result

    @handler(Purify)
    def on_purify(self, msg: Purify, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        end = role.end_level
        (ck, keep), (cs, sac) = self._lookup(role, msg.keep, end), self._lookup(role, msg.sacrifice, end)
        if end and (keep is None or sac is None):
            # not joined here yet: both ends join the same chains, so wait for it
            missing = msg.keep if keep is None else msg.sacrifice
            role.waiting[missing] = msg
            return
        leader = role.index - 1 if not end else 0
        if keep is None or sac is None:
            for channel in (ck, cs):
                if channel is not None:
                    self._drop(channel, offer=True)
            self._to(role, leader, PurifyReply(msg.request_id, msg.keep, msg.sacrifice, msg.t_leader_ps, self.now, False))
            return
        self._apply(role, msg.keep, msg.sacrifice, msg.t_leader_ps, self.now, end)
        self._to(role, leader, PurifyReply(msg.request_id, msg.keep, msg.sacrifice, msg.t_leader_ps, self.now, True))
        self._release_waiting(role)

    @handler(PurifyReply)
    def on_purify_reply(self, msg: PurifyReply, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        end = role.end_level
        if msg.keep not in role.locked or msg.sacrifice not in role.locked:
            self.ignored += 1  # duplicate
            return
        if not msg.ok:
            for pid in (msg.keep, msg.sacrifice):
                role.locked.discard(pid)
                role.rounds.pop(pid, None)
                channel, _ = self._lookup(role, pid, end)
                if end:
                    role.end_pairs.pop(pid, None)
                if channel is not None:
                    self._drop(channel, offer=True)
            role.failed_purifications += 1
        else:
            self._apply(role, msg.keep, msg.sacrifice, msg.t_leader_ps, msg.t_follower_ps, end)
        self._lead_purification(role, None if end else role.right)

    @handler(Settled)
    def on_settled(self, msg: Settled, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        end = role.end_level
        if end and msg.pair_id not in role.end_pairs:
            role.waiting[msg.pair_id] = msg
            return
        self._settled(role, msg.pair_id, msg.use, end)

    def _release_waiting(self, role: _Role) -> None:
        for pid in [p for p in role.waiting if p in role.end_pairs]:
            msg = role.waiting.pop(pid)
            self._dispatch[type(msg)](self, msg, role.request.path[0])

    # -- tree policies ------------------------------------------------------------------
    def _tree_link_pair(self, role: _Role, channel: str, pair: PairRecord) -> None:
        lane = (role.left if channel in role.left else role.right).index(channel)
        n = role.n
        if n == 1:  # a single link: the link pair is the end-to-end pair
            self._tree_delivered(role, lane, channel, pair, self.now)
            return
        spans = role.spans
        mine = spans.get(role.index)
        if mine is None:
            return  # an end (or a node whose span uses this link from the other side): just hold it
        l, r = mine
        if channel in role.left and role.index - 1 == l:
            role.known.setdefault(lane, {})["l"] = pair
        elif channel in role.right and role.index + 1 == r:
            role.known.setdefault(lane, {})["r"] = pair
        else:
            return
        self._tree_try_swap(role, lane)

    @handler(SpanDone)
    def on_span_done(self, msg: SpanDone, sender: str) -> None:
        role = self._role(msg.request_id)
        if role is None:
            return
        if (msg.l, msg.r) == (0, role.n) and role.is_end:
            channel = role.right[msg.lane] if role.index == 0 else role.left[msg.lane]
            self._tree_delivered(role, msg.lane, channel, msg.pair, msg.swap_ps)
            return
        mine = role.spans.get(role.index)
        if mine is None or role.index not in (msg.l, msg.r):
            self.ignored += 1
            return
        role.known.setdefault(msg.lane, {})["l" if msg.r == role.index else "r"] = msg.pair
        self._tree_try_swap(role, msg.lane)

    def _tree_try_swap(self, role: _Role, lane: int) -> None:
        known = role.known.setdefault(lane, {})
        if "l" not in known or "r" not in known:
            return
        l, r = role.spans[role.index]
        cutoff = role.request.cutoff_ps
        if cutoff:
            stale = [side for side in ("l", "r") if self.now - known[side].ref_ps > cutoff]
            if stale:
                # discard the older child span only and restart it
                side = min(stale, key=lambda s: known[s].ref_ps)
                role.cutoffs += 1
                self._start_in_step(role, lane, *((l, role.index) if side == "l" else (role.index, r)))
                return
        left, right = known.pop("l"), known.pop("r")
        success = self.rng.random() < self.swap_success_probability
        role.swaps += 1
        for channel in (role.left[lane], role.right[lane]):
            if channel in self.held:
                self._drop(channel, offer=False, tell=False)  # measured: offered again when an ancestor restarts
        if not success:
            role.failed_swaps += 1
            self._start_in_step(role, lane, l, r)
            return
        joined = chain_record(f"{left.pair_id}|{right.pair_id}", [left, right], [self.now])
        if (l, r) == (0, role.n):
            for end in (0, role.n):
                self._to(role, end, SpanDone(role.request.request_id, lane, l, r, joined, self.now))
            self._start_in_step(role, lane, 0, role.n)
            return
        # the parent joins [l, r] as its left part (its swapper is r) or as its right part (swapper l)
        spans = role.spans
        parent = r if r in spans and spans[r][0] == l else l
        self._to(role, parent, SpanDone(role.request.request_id, lane, l, r, joined, self.now))

    def _tree_delivered(self, role: _Role, lane: int, channel: str, pair: PairRecord, swap_ps: int) -> None:
        request = role.request
        # both ends estimate alike: at the latest time either can learn of the root swap
        estimate = pair.fidelity_at(swap_ps + request.offsets_ps[-1])
        if channel in self.held:
            self._drop(channel, offer=False, tell=False)  # the delivery restarts the whole path
        if estimate < request.min_fidelity:
            role.below_min += 1
        else:
            role.delivered.append((self.now, pair.fidelity_at(self.now), pair.pair_id))
            self._use(role, pair)  # tree policies measure at once (checked when the request was made)
        if role.n == 1:  # no swapper to announce a restart: both ends heard the herald together
            self.set_timer(_Offer(request.request_id, lane, 0, 1), delay_ps=0)
        self._served(role)


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
    src, dst = roles[request.source], roles.get(request.dest)  # a rejected request may never reach it
    delivered = dst.delivered if dst is not None else []
    elapsed = (delivered[-1][0] - src.active_from) if delivered and src.active_from >= 0 else 0
    out = {"outcome": src.outcome or "running", "path": list(request.path), "pairs": len(delivered),
           "rate_hz": len(delivered) / (elapsed * 1e-12) if elapsed > 0 else 0.0,
           "mean_fidelity": sum(d[1] for d in delivered) / len(delivered) if delivered else math.nan,
           "below_min": dst.below_min if dst is not None else 0}
    if dst is None:
        return out
    receiver = dst.receiver
    if receiver.teleport_fidelities:
        out["teleport_fidelity"] = sum(receiver.teleport_fidelities) / len(receiver.teleport_fidelities)
    if elapsed > 0 and sum(receiver.sifted.values()):
        out["key"] = KeyRate.from_bbm92(receiver, elapsed)
    elif elapsed > 0 and sum(receiver.e91_sifted.values()):
        out["key"] = KeyRate.from_e91(receiver, elapsed)
    return out


def shortest_path(graph: nx.Graph, source: str, dest: str) -> list[str]:
    """The default routing function: the path of least total fibre length (``length_km``)."""
    return nx.shortest_path(graph, source, dest, weight="length_km")


def quantum_network(graph: nx.Graph, requests: Sequence[Request], *, physics: AttemptPhysics,
                    model: str = "geometric", memory: QuantumMemory | None = None, channels_per_link: int = 1,
                    swap_success_probability: float = 1.0, refractive_index: float = 1.47,
                    routing: Callable[[nx.Graph, str, str], list] = shortest_path,
                    allocation: str = "reserved") -> Network:
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
    ``routing(graph, source, dest)``; requests are checked before anything is built."""
    memory = memory or QuantumMemory(num_qubits=2)
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
    banks: list[MemoryBank] = []
    links = []
    latency: dict[tuple[str, str], int] = {}
    capacity: dict[tuple[str, str], int] = {}
    shared: dict[tuple[str, str], bool] = {}
    link_names: dict[str, tuple[str, str]] = {}
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
        latency[(a, b)] = latency[(b, a)] = plan.node_delay_ps
        capacity[(a, b)] = capacity[(b, a)] = count
        shared[(a, b)] = shared[(b, a)] = link_allocation == "shared"
        links.append((link, a, b, link_physics, length, station, slots, link_allocation == "shared"))
        for node, other, args in ((a, b, plan.a), (b, a, plan.b)):
            bank = MemoryBank(memory_id(node, link), node, link, [args._replace(link=slot) for slot in slots],
                              memories[node], allocation=link_allocation)
            banks.append(bank)
            ports[node].append(LinkPort(link, other, slots, bank.id, bank.access_ps, station, args.arm_delay_ps,
                                        link_allocation == "shared"))
    checked = []
    ids: set[str] = set()
    for request in requests:
        if not isinstance(request, Request):
            raise _fail("request", request, "a Request", "requests")
        checked.append(_route(g, request, routing, latency, capacity, shared, ids))
    net = Network()
    for v in sorted(g.nodes):
        net.add_actor(QNode(v, ports[v], checked,
                            g.nodes[v].get("swap_success_probability", swap_success_probability)), site=v)
    for bank in banks:
        net.add_actor(bank, site=bank.node)
        net.connect(bank.node, bank.id, latency_ps=bank.access_ps)
    for link, a, b, link_physics, length, station, slots, is_shared in links:
        link_components(net, link, a, b, link_physics, length_km=length, model=model,
                        refractive_index=refractive_index, station=station, slots=slots,
                        speakers={a: memory_id(a, link), b: memory_id(b, link)}, shared=is_shared)
    return net


def network_actors(net: Network) -> list[tuple[str, str, str]]:
    """``(actor id, kind, site)`` of every actor of ``net``, in the order they were added: kind is
    ``"node"``, ``"memory"``, ``"channel"`` or, for actors of other protocols, their class name."""
    return [(a.id, getattr(type(a), "kind", type(a).__name__), site) for a, site in zip(net.actors, net.sites)]


def _route(g: nx.Graph, request: Request, routing, latency: dict, capacity: dict, shared: dict,
           ids: set) -> Request:
    rid = request.request_id
    if type(rid) is not str or not rid or rid in ids:
        raise _fail("Request.request_id", rid, "a non-empty string, unique in the network", "request_id")
    ids.add(rid)
    for field in ("source", "dest"):
        if str(getattr(request, field)) not in g:
            raise _fail(f"request {rid!r} {field}", getattr(request, field), "a node of the graph", field)
    if str(request.source) == str(request.dest):
        raise _fail(f"request {rid!r} dest", request.dest, "a node other than the source", "dest")
    if type(request.pairs) is not int or request.pairs < 1:
        raise _fail(f"request {rid!r} pairs", request.pairs, "an int >= 1", "pairs")
    if not (isinstance(request.min_fidelity, (int, float)) and 0.0 <= request.min_fidelity <= 1.0):
        raise _fail(f"request {rid!r} min_fidelity", request.min_fidelity, "a number in [0, 1]", "min_fidelity")
    for field in ("deadline_ps", "start_ps", "cutoff_ps", "retries"):
        value = getattr(request, field)
        if type(value) is not int or value < 0:
            raise _fail(f"request {rid!r} {field}", value, "an int >= 0", field)
    if request.deadline_ps and request.deadline_ps <= request.start_ps:
        raise _fail(f"request {rid!r} deadline_ps", request.deadline_ps, "0 (none) or later than start_ps",
                    "deadline_ps")
    if request.policy not in POLICIES:
        raise _fail(f"request {rid!r} policy", request.policy, str(POLICIES), "policy")
    if request.selection not in SELECTIONS:
        raise _fail(f"request {rid!r} selection", request.selection, str(SELECTIONS), "selection")
    if type(request.channels) is not int or request.channels < 1:
        raise _fail(f"request {rid!r} channels", request.channels, "an int >= 1", "channels")
    if request.application not in APPLICATIONS:
        raise _fail(f"request {rid!r} application", request.application, str(APPLICATIONS), "application")
    if type(request.bsm_visibility) not in (int, float) or not 0.0 <= request.bsm_visibility <= 1.0:
        raise _fail(f"request {rid!r} bsm_visibility", request.bsm_visibility, "a number in [0, 1]",
                    "bsm_visibility")
    if request.bsm_visibility != 1.0 and request.application not in ("teleport", "mixed"):
        raise _fail(f"request {rid!r} bsm_visibility", request.bsm_visibility, "1.0 unless the application is "
                    "'teleport' or 'mixed' (only teleportation makes a Bell-state measurement on a photon)",
                    "bsm_visibility")
    if request.policy != "asap" and request.application in ("teleport", "mixed"):
        raise _fail(f"request {rid!r} application with policy {request.policy!r}", request.application,
                    "'record', 'bbm92' or 'e91' (a tree restarts in step, so the receiver cannot keep its "
                    "qubit for the teleportation bits)", "application")
    if request.purification is not None:
        if not isinstance(request.purification, Purification):
            raise _fail(f"request {rid!r} purification", request.purification, "None or a Purification",
                        "purification")
        request.purification.check()
        if request.policy != "asap":
            raise _fail(f"request {rid!r} policy (with purification)", request.policy,
                        "'asap': purification only with policy 'asap'", "policy")
        if request.channels < 2:
            raise _fail(f"request {rid!r} channels (with purification)", request.channels,
                        "an int >= 2: purification needs two pairs at once", "channels")
    try:
        path = [str(v) for v in routing(g, str(request.source), str(request.dest))]
    except nx.NetworkXNoPath:
        raise _fail(f"request {rid!r} route from {request.source!r} to", request.dest,
                    "a destination connected to the source", "dest") from None
    if path[0] != str(request.source) or path[-1] != str(request.dest) or len(set(path)) != len(path) or any(
            (a, b) not in latency for a, b in zip(path, path[1:])):
        raise _fail(f"request {rid!r} route", path, "a simple path of graph edges from source to dest", "routing")
    hops = tuple(shared[(a, b)] for a, b in zip(path, path[1:]))
    if any(hops) and request.policy != "asap":
        a, b = next(hop for hop, on in zip(zip(path, path[1:]), hops) if on)
        raise _fail(f"request {rid!r} policy", request.policy, f"'asap' on a path with shared memories (link "
                    f"({a}, {b}) is shared; a swap tree's lanes are reserved slots)", "policy")
    for a, b in zip(path, path[1:]):
        if not shared[(a, b)] and capacity[(a, b)] < request.channels:
            raise _fail(f"request {rid!r} channels", request.channels, f"at most {capacity[(a, b)]}, the memories "
                        f"per end of link ({a}, {b}) on its path", "channels")
    offsets = [0]
    for a, b in zip(path, path[1:]):
        offsets.append(offsets[-1] + latency[(a, b)])
    fields = {f: getattr(request, f) for f in Request._qactors_fields}
    fields.update(source=str(request.source), dest=str(request.dest), path=tuple(path), offsets_ps=tuple(offsets),
                  shared=hops)
    return Request(**fields)
