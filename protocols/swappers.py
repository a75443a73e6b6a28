"""Swapper parts: when a repeater swaps, and how the ends of a path learn of it.

* :class:`AsapSwapper` (swap as soon as possible; Briegel, Duer, Cirac,
  Zoller, PRL 81, 5932 (1998)): a repeater swaps as soon as it holds a usable
  pair on each side, chosen by ``selection``, and tells both path ends, which
  rebuild the end-to-end pair from the records
  (:class:`~qactors.protocols.swapping.EndTracker`).  Repeaters never wait for
  news: failed swaps and discarded pairs are sorted out at the ends.
* :class:`TreeSwapper` (``"nested"`` doubling or ``"sequential"``): a binary
  tree of swaps over the path's segments (Shchukin, Schmidt, van Loock, PRA
  100, 032322 (2019); Brand, Coopmans, Elkouss, IEEE JSAC 38, 619 (2020)).  The
  node that joins spans ``[l, m]`` and ``[m, r]`` swaps once it knows both
  exist (a link pair it holds, or a :class:`~qactors.protocols.requests.SpanDone`
  from the child's swapper) and reports the joined span to its parent.  A
  failed swap restarts its whole subtree in step; so does every delivery, for
  the whole path.  Several ``channels`` run as independent lanes.

A swapper is called by its node with :meth:`activate` (the request starts, or
a span restarts), :meth:`link_pair` (a link pair for the request was stored)
and, for asap, :meth:`AsapSwapper.progress` (a pair became usable).
"""

from __future__ import annotations

from typing import Any, ClassVar

from qactors.core.actor import handler
from qactors.core.messages import message
from qactors.quantum.bell import PairRecord, chain_record

from .analysis import nested_tree, sequential_tree
from .cutoffs import DiscardAfter, RestartOlderChild
from .parts import Part, PartState
from .requests import Activate, Discard, SpanDone, _fail
from .swapping import EndTracker, SwapRecord

__all__ = ["AsapSwapper", "TreeSwapper", "swap_tree", "SELECTIONS", "TREES"]

SELECTIONS = ("oldest", "youngest", "best")
TREES = ("nested", "sequential")


def swap_tree(segments: int, policy: str) -> dict[int, tuple[int, int]]:
    """Which node joins which span: ``{m: (l, r)}`` over path positions ``0..segments``, from
    :func:`~qactors.protocols.analysis.nested_tree` (each span split at ``(l + r) // 2``) or
    :func:`~qactors.protocols.analysis.sequential_tree` (node ``i`` joins ``[0, i]`` and
    ``[i, i + 1]``): the trees the exact references are computed for."""
    if policy not in TREES:
        raise _fail("swap tree policy", policy, "'nested' or 'sequential'", "policy")
    spans: dict[int, tuple[int, int]] = {}
    stack = [nested_tree(segments) if policy == "nested" else sequential_tree(segments)]
    while stack:
        tree = stack.pop()
        if not tree.is_link:
            spans[tree.swapper] = (tree.left, tree.right)
            stack.extend(tree.children)
    return spans


class Swapper(Part):
    """Base of swappers: the hooks a node calls (see the module docstring)."""

    key: ClassVar[str] = "swapper"

    def check(self, rid: str, request: Any) -> None:
        """Raise ConfigurationError if this swapper cannot serve ``request`` (before it is routed)."""

    def check_path(self, rid: str, path: tuple, shared: tuple) -> None:
        """Raise ConfigurationError if this swapper cannot serve a path whose hops are ``shared``."""

    def default_cutoff(self, cutoff_ps: int) -> Part:
        """The cut-off part a request with ``cutoff_ps`` > 0 and no ``cutoff`` of its own gets."""
        raise NotImplementedError

    def activate(self, node: Any, role: Any, msg: Activate, first: bool) -> None:
        """The request starts (``first``) or a span of it restarts (``msg``), before the memories are offered."""

    def link_pair(self, node: Any, role: Any, channel: str, pair: PairRecord) -> None:
        raise NotImplementedError


class AsapState(PartState):
    """What an asap swapper remembers at a node: an end's tracker of swap records."""

    def __init__(self) -> None:
        self.tracker: EndTracker | None = None


@message
class AsapSwapper(Swapper):
    """Swap as soon as possible; ``selection`` picks among usable pairs on a side: ``"oldest"``,
    ``"youngest"`` or ``"best"`` (highest fidelity now)."""

    selection: str = "oldest"

    def check(self, rid: str, request: Any) -> None:
        if self.selection not in SELECTIONS:
            raise _fail(f"request {rid!r} selection", self.selection, str(SELECTIONS), "selection")

    def default_cutoff(self, cutoff_ps: int) -> Part:
        return DiscardAfter(cutoff_ps)

    def new_state(self, node: Any, role: Any) -> AsapState:
        return AsapState()

    def activate(self, node: Any, role: Any, msg: Activate, first: bool) -> None:
        if first and role.is_end:
            # one memory per link: pairs follow each other; shared memories lend any of their slots
            in_order = role.request.channels == 1 and not any(role.request.shared)
            role.state["swapper"].tracker = EndTracker(node.id, role.request.path[role.n - role.index],
                                                       role.index == 0, in_order=in_order)

    def link_pair(self, node: Any, role: Any, channel: str, pair: PairRecord) -> None:
        cutoff, purifier = role.cutoff, role.purifier
        if cutoff is not None and not role.is_end:
            cutoff.stored(node, role, pair.pair_id, min(pair.a.stored_ps, pair.b.stored_ps))
        if purifier is None or purifier.level != "link":
            role.settled.add(pair.pair_id)
        elif channel in role.right:  # the path-upstream end of a link leads its purification
            purifier.lead_link(node, role, pair)
            return
        self.progress(node, role)

    def progress(self, node: Any, role: Any) -> None:
        """Swap every pair of usable pairs (a repeater), or join what the records allow (an end)."""
        if role.is_end:
            self.try_join(node, role)
            return
        while True:
            lefts, rights = self._usable(node, role, role.left), self._usable(node, role, role.right)
            if not lefts or not rights:
                return
            self._swap(node, role, self._select(node, lefts), self._select(node, rights))

    @staticmethod
    def _usable(node: Any, role: Any, channels) -> list[str]:
        return [c for c in channels if c in node.held and node.held[c].pair_id in role.settled]

    def _select(self, node: Any, channels: list[str]) -> str:
        if self.selection == "best":
            return max(channels, key=lambda c: (node.held[c].fidelity_at(node.now), c))
        key = (lambda c: (node.held[c].ref_ps, c))
        return min(channels, key=key) if self.selection == "oldest" else max(channels, key=key)

    @staticmethod
    def _swap(node: Any, role: Any, cl: str, cr: str) -> None:
        left, right = node.held[cl], node.held[cr]
        success = node.rng.random() < node.swap_success_probability
        role.swaps += 1
        role.failed_swaps += not success
        record = SwapRecord(node.id, node.now, success, left, right, 0, role.request.request_id)
        for end in (0, role.n):
            node._to(role, end, record)
        for channel in (cl, cr):
            node._drop(channel, offer=True)

    @handler(SwapRecord)
    def on_swap_record(self, node: Any, role: Any, msg: SwapRecord, sender: str) -> None:
        tracker = role.state["swapper"].tracker
        if tracker is None:
            return
        if tracker.add(msg):
            self.try_join(node, role)
        else:
            node.ignored += 1

    @handler(Discard)
    def on_discard(self, node: Any, role: Any, msg: Discard, sender: str) -> None:
        channel = node._channel_of(role, msg.pair.pair_id)
        if channel is not None:
            purifier = role.purifier
            if purifier is not None and purifier.is_locked(role, msg.pair.pair_id):
                # in a purification: the reply will say the partner lacked it and both pairs go then;
                # tell the ends now, as for any pair dropped on a partner's notice
                node._notify_drop(role, msg.pair)
                return
            node._discard(role, channel, partner_too=False)
            return
        tracker = role.state["swapper"].tracker
        if tracker is not None:
            tracker.discarded(msg.pair, msg.by)
            self.try_join(node, role)

    def try_join(self, node: Any, role: Any) -> None:
        """An end: deliver (or hand to end-to-end purification) every pair whose chain of records is complete."""
        channels = role.right if role.index == 0 else role.left
        purifier = role.purifier
        busy = set(role.holding.values()) | (purifier.busy_channels(role) if purifier is not None else set())
        tracker = role.state["swapper"].tracker
        for channel in channels:
            pair = node.held.get(channel)
            if pair is None or pair.pair_id not in role.settled or role.status != "active":
                continue
            if channel in busy:
                continue  # already joined: waiting for end-to-end purification or for teleportation bits
            verdict = tracker.walk(pair)
            if verdict is None:
                continue
            if verdict.dead:
                node._drop(channel, offer=True)
                continue
            if purifier is not None and purifier.level == "end":
                purifier.take_joined(node, role, channel, verdict.pair)
                continue
            estimate = verdict.pair.fidelity_at(verdict.last_ps + role.request.offsets_ps[-1])
            node._deliver(role, channel, verdict.pair, estimate)


class TreeState(PartState):
    """What a tree swapper remembers at a node: the tree's spans, and per lane the child spans known
    to exist (``"l"``, ``"r"``) if this node is a swapper."""

    def __init__(self, spans: dict[int, tuple[int, int]]) -> None:
        self.spans = spans
        self.known: dict[int, dict[str, PairRecord]] = {}


@message
class TreeSwapper(Swapper):
    """A binary tree of swaps restarted in step: ``tree`` is ``"nested"`` or ``"sequential"``."""

    tree: str = "nested"

    def check(self, rid: str, request: Any) -> None:
        if self.tree not in TREES:
            raise _fail(f"request {rid!r} TreeSwapper.tree", self.tree, str(TREES), "policy")
        if request.application in ("teleport", "mixed"):
            raise _fail(f"request {rid!r} application with policy {self.tree!r}", request.application,
                        "'record', 'bbm92' or 'e91' (a tree restarts in step, so the receiver cannot keep its "
                        "qubit for the teleportation bits)", "application")
        if request.purification is not None:
            raise _fail(f"request {rid!r} policy (with purification)", self.tree,
                        "'asap': purification only with policy 'asap'", "policy")

    def check_path(self, rid: str, path: tuple, shared: tuple) -> None:
        if any(shared):
            a, b = next(hop for hop, on in zip(zip(path, path[1:]), shared) if on)
            raise _fail(f"request {rid!r} policy", self.tree, f"'asap' on a path with shared memories (link "
                        f"({a}, {b}) is shared; a swap tree's lanes are reserved slots)", "policy")

    def default_cutoff(self, cutoff_ps: int) -> Part:
        return RestartOlderChild(cutoff_ps)

    def new_state(self, node: Any, role: Any) -> TreeState:
        return TreeState(swap_tree(role.n, self.tree))

    def activate(self, node: Any, role: Any, msg: Activate, first: bool) -> None:
        """Drop everything of the lane inside the restarted span, and forget the child spans it contains."""
        lane, l, r = msg.lane, msg.l, msg.r
        for channel in node._span_channels(role, lane, l, r):
            if channel in node.held:
                node._drop(channel, offer=False, tell=False)  # offered again when the span restarts
        state = role.state["swapper"]
        mine = state.spans.get(role.index)
        for ln in range(role.request.channels) if lane < 0 else (lane,):
            known = state.known.setdefault(ln, {})
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

    def link_pair(self, node: Any, role: Any, channel: str, pair: PairRecord) -> None:
        lane = (role.left if channel in role.left else role.right).index(channel)
        if role.n == 1:  # a single link: the link pair is the end-to-end pair
            self._delivered(node, role, lane, channel, pair, node.now)
            return
        state = role.state["swapper"]
        mine = state.spans.get(role.index)
        if mine is None:
            return  # an end (or a node whose span uses this link from the other side): just hold it
        l, r = mine
        if channel in role.left and role.index - 1 == l:
            state.known.setdefault(lane, {})["l"] = pair
        elif channel in role.right and role.index + 1 == r:
            state.known.setdefault(lane, {})["r"] = pair
        else:
            return
        self._try_swap(node, role, lane)

    @handler(SpanDone)
    def on_span_done(self, node: Any, role: Any, msg: SpanDone, sender: str) -> None:
        if (msg.l, msg.r) == (0, role.n) and role.is_end:
            channel = role.right[msg.lane] if role.index == 0 else role.left[msg.lane]
            self._delivered(node, role, msg.lane, channel, msg.pair, msg.swap_ps)
            return
        state = role.state["swapper"]
        if state.spans.get(role.index) is None or role.index not in (msg.l, msg.r):
            node.ignored += 1
            return
        state.known.setdefault(msg.lane, {})["l" if msg.r == role.index else "r"] = msg.pair
        self._try_swap(node, role, msg.lane)

    def _try_swap(self, node: Any, role: Any, lane: int) -> None:
        state = role.state["swapper"]
        known = state.known.setdefault(lane, {})
        if "l" not in known or "r" not in known:
            return
        l, r = state.spans[role.index]
        cutoff = role.cutoff
        side = cutoff.stale_child(node, role, known) if cutoff is not None else None
        if side is not None:
            role.cutoffs += 1
            node._start_in_step(role, lane, *((l, role.index) if side == "l" else (role.index, r)))
            return
        left, right = known.pop("l"), known.pop("r")
        success = node.rng.random() < node.swap_success_probability
        role.swaps += 1
        for channel in (role.left[lane], role.right[lane]):
            if channel in node.held:
                node._drop(channel, offer=False, tell=False)  # measured: offered again when an ancestor restarts
        if not success:
            role.failed_swaps += 1
            node._start_in_step(role, lane, l, r)
            return
        joined = chain_record(f"{left.pair_id}|{right.pair_id}", [left, right], [node.now])
        rid = role.request.request_id
        if (l, r) == (0, role.n):
            for end in (0, role.n):
                node._to(role, end, SpanDone(rid, lane, l, r, joined, node.now))
            node._start_in_step(role, lane, 0, role.n)
            return
        # the parent joins [l, r] as its left part (its swapper is r) or as its right part (swapper l)
        spans = state.spans
        parent = r if r in spans and spans[r][0] == l else l
        node._to(role, parent, SpanDone(rid, lane, l, r, joined, node.now))

    @staticmethod
    def _delivered(node: Any, role: Any, lane: int, channel: str, pair: PairRecord, swap_ps: int) -> None:
        request = role.request
        # both ends estimate alike: at the latest time either can learn of the root swap
        estimate = pair.fidelity_at(swap_ps + request.offsets_ps[-1])
        if channel in node.held:
            node._drop(channel, offer=False, tell=False)  # the delivery restarts the whole path
        if estimate < request.min_fidelity:
            role.below_min += 1
        else:
            role.delivered.append((node.now, pair.fidelity_at(node.now), pair.pair_id))
            role.application.use(node, role, pair)  # trees measure at once (checked when the request was made)
        if role.n == 1:  # no swapper to announce a restart: both ends heard the herald together
            node._offer_later(role, lane)
        node._served(role)
