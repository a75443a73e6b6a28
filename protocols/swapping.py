"""Entanglement swapping along a repeater chain, swap-as-soon-as-possible.

Each inner node holds one memory slot per neighbouring link
(:class:`~qactors.protocols.link.LinkSide`).  As soon as both of its slots
hold a heralded pair it performs a Bell-state measurement (succeeding with
probability ``swap_success_probability``: 1/2 for linear optics, 1 for a
deterministic, memory-based analyser), frees both slots, and sends a
:class:`SwapRecord` to the two end nodes, each after the latency of the path
to it.  The records carry the two link pairs, so each end node rebuilds the
end-to-end pair on its own (:func:`qactors.quantum.bell.chain_record`) once
it holds records joining its own link pair to the far end; a failed swap
anywhere in that chain makes it discard its pair and regenerate (Briegel,
Dür, Cirac, Zoller, PRL 81, 5932 (1998); the swap-asap policy as analysed by
Shchukin, Schmidt, van Loock, PRA 100, 032322 (2019)).

Records can arrive in any order and long after the swap; an end node keeps
them until they join up, and forgets a repeater's earlier records once a
later one of it has been used or found dead (they belong to chains that
died elsewhere).
"""

from __future__ import annotations

import math
from typing import NamedTuple


from qactors.core.actor import PlainData, handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.core.network import Network
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import PairRecord, chain_record

from .applications import APPLICATIONS, Receiver, SiftBits, TeleportBits, sender_use
from .link import AttemptPhysics, Herald, LinkNode, LinkSide, link_components, plan_link

__all__ = ["SwapRecord", "EndTracker", "Joined", "ChainNode", "repeater_chain"]


@message
class SwapRecord(Message):
    """What a repeater tells both chain ends after a Bell-state measurement."""

    repeater: str
    time_ps: int
    success: bool
    left: PairRecord
    right: PairRecord
    attempts: int  # attempts spent on this repeater's links since its previous successful swap
    request_id: str = ""  # the request it serves (network layer); "" on a plain chain


class Joined(NamedTuple):
    """What an end node's walk along the swap records found."""

    dead: bool            # a swap failed or a link pair was discarded: the end's pair is useless
    pair: PairRecord | None  # the end-to-end pair, when not dead
    last_ps: int          # time of the last swap in it
    attempts: tuple       # attempts each repeater reported, in chain order


class _Walk(PlainData):
    """A walk from one of an end's link pairs that stopped at a record still to come: the link
    pairs it followed (the last one is where it stopped), the swap times, the attempts reported,
    and the keys of the records it passed."""

    def __init__(self, links: list, times: list, attempts: list, walked: list):
        self.links, self.times, self.attempts, self.walked = links, times, attempts, walked


class EndTracker(PlainData):
    """An end node's view of the swaps along its path (plain data in the node's state).

    Keeps the :class:`SwapRecord`s that arrived, keyed by the link pair that
    leads towards the far end, and the pair ids other nodes discarded;
    :meth:`walk` follows them from one of the end's own link pairs.  Records
    can arrive in any order and long after the swap.  Records are forgotten
    once walked, and so are those further along a chain found dead.  With
    one memory per link (``in_order``) an end's successive pairs use
    successive swaps of every repeater, and a repeater's records arrive in
    the order it swapped, so once one of its records is used or found dead
    its earlier ones belong to chains that died elsewhere and are forgotten
    too.  With several memories per link repeaters pick pairs out of order
    and only the first rule applies.

    A walk that stops at a record still to come is kept (``walks``) and
    resumed there the next time, so the records of a chain are followed once
    however often the end asks (every record arriving asks for each of its
    pairs); forgetting a record drops the kept walk that passed it, and the
    next walk from that pair starts afresh.
    """

    def __init__(self, me: str, far: str, first: bool, in_order: bool = True):
        self.me, self.far, self.first = me, far, first
        self.in_order = in_order
        self.records: dict[str, SwapRecord] = {}
        self.arrivals: dict[str, list[str]] = {}  # record keys per repeater, in arrival order
        self.dead: set[str] = set()
        self.gone: set[str] = set()  # keys of records, still to arrive, that belong to dead chains
        self.walks: dict[str, _Walk] = {}  # by the end's link pair id: how far its walk got
        self.walked_by: dict[str, str] = {}  # record key -> the end's link pair id whose walk passed it

    def add(self, record: SwapRecord) -> bool:
        """Keep ``record``; False if it is a duplicate."""
        # the first end walks rightwards (keyed by the left pair), the last end leftwards
        key = record.left.pair_id if self.first else record.right.pair_id
        if key in self.records:
            return False
        self.records[key] = record
        self.arrivals.setdefault(record.repeater, []).append(key)
        if key in self.gone:  # a late record of a chain already found dead
            self.gone.discard(key)
            self._forget_from(record.left if self.first else record.right)
        return True

    def discarded(self, pair: PairRecord, by: str) -> None:
        """Node ``by`` dropped its qubit of link ``pair`` without swapping it.

        The first node to drop a pair tells its partner and both ends; the
        partner, if it still held the pair, drops it and tells the ends too.
        A second notice therefore means neither end of the pair swapped it
        and nothing will ever refer to it.  After a first notice: if ``by`` is
        the node whose record this end would key by ``pair``, a walk may reach
        ``pair`` and must learn the chain is dead; otherwise the partner's
        record keyed by ``pair`` (arrived or still to come) is useless."""
        key = pair.pair_id
        if key in self.dead or key in self.gone:
            self.dead.discard(key)
            self.gone.discard(key)
            return
        producer = pair.b.node if self.first else pair.a.node
        if by == producer:
            self.dead.add(key)
        elif key in self.records:
            self._forget_from(pair)
        else:
            self.gone.add(key)

    def walk(self, pair: PairRecord) -> Joined | None:
        """Follow the records from the end's own link ``pair`` (from where its kept walk stopped);
        None while they do not join up."""
        first, far, records = self.first, self.far, self.records
        start = pair.pair_id
        progress = self.walks.get(start)
        if progress is not None and progress.links[0] is not pair and progress.links[0] != pair:
            self._end_walk(start)  # another pair of the same id: walk it afresh
            progress = None
        if progress is None:
            links, times, attempts, walked = [pair], [], [], []
            current = pair
        else:
            links, times, attempts, walked = progress.links, progress.times, progress.attempts, progress.walked
            current = links[-1]
        while (current.b.node if first else current.a.node) != far:
            key = current.pair_id
            record = records.get(key)
            if record is None:
                if key in self.dead:
                    self._end_walk(start, walked)
                    self.dead.discard(key)
                    self._forget(walked, None)
                    return Joined(True, None, 0, ())
                if walked and progress is None:
                    self.walks[start] = _Walk(links, times, attempts, walked)
                return None  # not joined up yet
            walked.append(key)
            self._claim(key, start)
            if not record.success:
                self._end_walk(start, walked)
                self._forget(walked, record)
                return Joined(True, None, record.time_ps, ())
            current = record.right if first else record.left
            links.append(current)
            times.append(record.time_ps)
            attempts.append(record.attempts)
        self._end_walk(start, walked)
        if not first:
            links.reverse()
            times.reverse()
            attempts.reverse()
        self._forget(walked, None)
        pair_id = links[0].pair_id if len(links) == 1 else f"{links[0].pair_id}..{links[-1].pair_id}"
        return Joined(False, chain_record(pair_id, links, times), max(times, default=pair.ref_ps), tuple(attempts))

    def _claim(self, key: str, start: str) -> None:
        """Note that the walk from ``start`` passed record ``key``."""
        other = self.walked_by.get(key)
        if other is not None and other != start:
            # two walks through one record (records naming a pair twice): keep one, redo the other
            self._end_walk(other)
        self.walked_by[key] = start

    def _end_walk(self, start: str, walked: list[str] | None = None) -> None:
        """Drop the walk from ``start`` (kept, or ``walked`` in the current call) and its claims."""
        progress = self.walks.pop(start, None)
        if walked is None:
            walked = progress.walked if progress is not None else []
        for key in walked:
            if self.walked_by.get(key) == start:
                del self.walked_by[key]

    def _pop(self, key: str) -> None:
        """Forget the record ``key``, and the kept walk that passed it."""
        self.records.pop(key, None)
        start = self.walked_by.pop(key, None)
        if start is not None:
            self._end_walk(start)

    def _remove(self, record: SwapRecord, key: str) -> None:
        self._pop(key)
        keys = self.arrivals.get(record.repeater, [])
        if key in keys:
            keys.remove(key)

    def _drop_through(self, record: SwapRecord, key: str) -> None:
        """Forget a record this end's own chain used, and (in order) the repeater's earlier ones."""
        keys = self.arrivals.get(record.repeater, [])
        if not self.in_order:
            self._remove(record, key)
            return
        if key in keys:
            upto = keys.index(key) + 1
            for old in keys[:upto]:
                self._pop(old)
            del keys[:upto]

    def _forget(self, walked: list[str], failure: SwapRecord | None) -> None:
        for pair_id in walked:
            if pair_id in self.records:
                self._drop_through(self.records[pair_id], pair_id)
        if failure is not None:  # records further along a failed chain can never be used
            self._forget_from(failure.right if self.first else failure.left)

    def _forget_from(self, pair: PairRecord) -> None:
        """Forget the records from link ``pair`` onwards; remember the first missing one as gone."""
        while (pair.b.node if self.first else pair.a.node) != self.far:
            key = pair.pair_id
            if key in self.dead:  # discarded: nothing keyed by it will come
                self.dead.discard(key)
                return
            record = self.records.get(key)
            if record is None:
                self.gone.add(key)
                return
            self._remove(record, key)  # not this end's chain: says nothing about the repeater's other records
            pair = record.right if self.first else record.left


class ChainNode(LinkNode):
    """A node of a linear chain: an end node (one link) or a repeater (two links).

    End nodes record every end-to-end pair they obtain as ``(time ps, fidelity
    on arrival, attempts reported by the repeaters, Bell coefficients on
    arrival)`` in ``deliveries`` and use it at once (freeing their slot), until
    ``max_pairs`` pairs.
    """

    def __init__(self, actor_id: str, sides: list[LinkSide], ends: tuple[str, str], latency_to_ends_ps: dict[str, int],
                 swap_success_probability: float = 1.0, max_pairs: int = 1_000_000, application: str = "record"):
        super().__init__(actor_id)
        if not 1 <= len(sides) <= 2:
            raise ConfigurationError(f"chain node {actor_id!r} has {len(sides)} links; allowed: 1 (end) or 2",
                                     field="sides", value=len(sides))
        if not 0.0 < swap_success_probability <= 1.0:
            raise ConfigurationError(f"swap_success_probability = {swap_success_probability!r} is not allowed; "
                                     f"allowed: a number in (0, 1]", field="swap_success_probability",
                                     value=swap_success_probability)
        if application not in APPLICATIONS:
            raise ConfigurationError(f"application {application!r} is not known; allowed: {APPLICATIONS}",
                                     field="application", value=application)
        self.application = application
        self.receiver = Receiver()
        self.holding = ""  # receiver: id of a teleported pair waiting for its correction bits
        self.sides = {s.link: s for s in sides}
        self.order = [s.link for s in sides]  # left link first
        self.ends = ends
        self.latency_to_ends_ps = dict(latency_to_ends_ps)
        self.swap_success_probability = swap_success_probability
        self.max_pairs = max_pairs
        self.attempts_since_success = 0
        self.swaps = 0
        self.failed_swaps = 0
        far = ends[1] if actor_id == ends[0] else ends[0]
        self.tracker = EndTracker(actor_id, far, actor_id == ends[0]) if len(sides) == 1 else None
        self.ignored = 0
        self.deliveries: list[tuple[int, float, tuple[int, ...], tuple]] = []
        self.discarded = 0

    @property
    def is_end(self) -> bool:
        return len(self.sides) == 1

    def on_start(self) -> None:
        for link in self.order:
            self.sides[link].ready(self)

    @handler(Herald)
    def on_herald(self, msg: Herald, sender: str) -> None:
        side = self._side(msg.link)
        if side is None or side.herald(self, msg) is None:
            return
        if self.is_end:
            self._try_deliver()
        elif all(self.sides[link].pair is not None for link in self.order):
            self._swap()

    # -- repeaters ------------------------------------------------------------------
    def _swap(self) -> None:
        left, right = (self.sides[link] for link in self.order)
        self.attempts_since_success += max(left.pair_attempts, right.pair_attempts)
        success = self.rng.random() < self.swap_success_probability
        record = SwapRecord(self.id, self.now, success, left.pair, right.pair,
                            self.attempts_since_success if success else 0)
        self.swaps += 1
        if success:
            self.attempts_since_success = 0
        else:
            self.failed_swaps += 1
        for end in self.ends:
            self.send(end, record, delay_ps=self.latency_to_ends_ps[end])
        left.release(self)
        right.release(self)

    # -- end nodes ------------------------------------------------------------------
    @handler(SwapRecord)
    def on_swap_record(self, msg: SwapRecord, sender: str) -> None:
        if self.tracker is None or not self.tracker.add(msg):
            self.ignored += 1  # not an end node, or a duplicate
            return
        self._try_deliver()

    def _try_deliver(self) -> None:
        side = self.sides[self.order[0]]
        if side.pair is None or self.holding:
            return
        joined = self.tracker.walk(side.pair)
        if joined is None:
            return
        if joined.dead:
            self.discarded += 1
            self._release(side)
            return
        pair = joined.pair
        state = pair.at(self.now)
        self.deliveries.append((self.now, state[0], joined.attempts, state))
        release = True
        if self.application != "record":
            if self.id == self.ends[0]:
                sender_use(self, self.application, pair, self.ends[1], self.latency_to_ends_ps[self.ends[1]])
            else:
                release = self.receiver.obtain(self, self.application, pair)
                if not release:
                    self.holding = pair.pair_id
        if release:
            self._release(side)

    @handler(TeleportBits, SiftBits)
    def on_sender_bits(self, msg: TeleportBits | SiftBits, sender: str) -> None:
        if not self.is_end or self.id != self.ends[1]:
            self.ignored += 1
            return
        if self.receiver.resolve(self, msg) and msg.pair_id == self.holding:
            self.holding = ""
            self._release(self.sides[self.order[0]])

    def _release(self, side: LinkSide) -> None:
        side.release(self, offer=len(self.deliveries) < self.max_pairs)


def repeater_chain(nodes: int, link_length_km: float, physics: AttemptPhysics, *, model: str = "geometric",
                   memory: QuantumMemory | None = None, swap_success_probability: float = 1.0,
                   max_pairs: int = 1000, refractive_index: float = 1.47, application: str = "record") -> Network:
    """``nodes`` chain nodes ``N0 .. N{nodes-1}``, neighbours ``link_length_km`` apart, joined by
    links of ``physics``'s scheme (:func:`~qactors.protocols.link.link_components`; on a
    sender-receiver link the left node sends); swap-asap at the inner nodes; the end
    nodes use each end-to-end pair for ``application`` (see
    :mod:`qactors.protocols.applications`; ``N0`` sends, the last node receives)."""
    if type(nodes) is not int or nodes < 2:
        raise ConfigurationError(f"repeater_chain needs nodes >= 2, got {nodes!r}", field="nodes", value=nodes)
    if not (isinstance(link_length_km, (int, float)) and link_length_km > 0 and math.isfinite(link_length_km)):
        raise ConfigurationError(f"link_length_km = {link_length_km!r} is not allowed; allowed: a finite "
                                 f"number > 0", field="link_length_km", value=link_length_km)
    memory = memory or QuantumMemory(num_qubits=2)
    noise = memory.noise()
    names = [f"N{i}" for i in range(nodes)]
    ends = (names[0], names[-1])
    links = [f"{names[i]}-{names[i + 1]}" for i in range(nodes - 1)]
    plans = [plan_link(link, names[i], names[i + 1], physics, length_km=link_length_km,
                       refractive_index=refractive_index) for i, link in enumerate(links)]
    offsets = [0]
    for plan in plans:
        offsets.append(offsets[-1] + plan.node_delay_ps)
    net = Network()
    for i, name in enumerate(names):
        sides = []
        if i > 0:
            sides.append(plans[i - 1].b.side(noise))
        if i < nodes - 1:
            sides.append(plans[i].a.side(noise))
        latency = {end: max(1, abs(offsets[i] - offsets[names.index(end)])) for end in ends}
        net.add_actor(ChainNode(name, sides, ends, latency, swap_success_probability, max_pairs, application),
                      site=name)
    for i, link in enumerate(links):
        link_components(net, link, names[i], names[i + 1], physics, length_km=link_length_km, model=model,
                        refractive_index=refractive_index)
    return net
