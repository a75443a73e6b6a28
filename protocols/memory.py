"""Memory actors: a node's bank of quantum-memory slots on one link.

A :class:`MemoryBank` is a logical actor of its own, always placed with its
node (same site, so the same shard).  It holds its slots, the link-layer
bookkeeping of each (:class:`~qactors.protocols.link.LinkSide`: the rounds
and attempts it takes part in), the pair records stored in them, its
hardware model (the noise and access time of a
:class:`~qactors.hardware.memory.QuantumMemory`) and its allocation policy.
It speaks to the link's channel actor itself: it offers a free slot
(:class:`~qactors.protocols.link.Ready`), emits when told to
(:class:`~qactors.protocols.link.Go`) and receives the heralds.  Its node
reaches it only by messages whose latency is the memory's access time
(``QuantumMemory.access_time_ps``):

* node -> memory :class:`FreeSlots`: the pairs in these slots are used or
  discarded (the qubits are reset); generate new ones if ``generate``;
* memory -> node :class:`Stored`: a pair was heralded in a slot (with the
  request the channel gave it to, for shared slots).

Allocation (``allocation``):

* ``"reserved"``: a slot generates only when its node asks, for the request
  that reserved it hop by hop (the node keeps the reservations);
* ``"shared"``: every free slot generates, continuously, into a pool that
  every request crossing the link draws from.  The channel gives each pair to
  one of the requests that want the link's pairs, in turn, and the herald
  says which, so both ends agree without talking (statistical multiplexing,
  as in the random-topology study of NIST's MQNS and the resource managers of
  SeQUeNCe and QuISP).  A slot goes back to the pool as soon as its pair is
  used.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from qactors.core.actor import handler
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.hardware.memory import QuantumMemory
from qactors.quantum.bell import MemoryNoise, PairRecord

from .faults import DetectorDrop, LinkDown, LinkFailed, LinkRestored, LinkUp, MemoryDegradation, _Fault
from .link import Go, Herald, LinkNode, LinkSide, LinkSideArgs, scaled_efficiency

__all__ = ["MemoryBank", "MemorySlot", "Stored", "FreeSlots", "ALLOCATIONS", "memory_id", "utilisation"]

ALLOCATIONS = ("reserved", "shared")


def memory_id(node: str, link: str) -> str:
    """The id of ``node``'s memory bank on ``link``: ``"<node>/memory:<link>"``."""
    return f"{node}/memory:{link}"


@message
class Stored(Message):
    """Memory -> node: a pair was heralded in ``slot``.  ``purpose``: the request the channel gave
    it to (shared slots), or "" (reserved slots: the request that reserved the slot)."""
    slot: str
    pair: PairRecord
    purpose: str = ""


@message
class FreeSlots(Message):
    """Node -> memory: the qubits in ``slots`` were used or discarded; if ``generate`` (always, for a
    shared memory) the slots start generating the next pair."""
    slots: tuple
    generate: bool


def utilisation(state: dict, until_ps: int) -> tuple[float, float]:
    """``(busy, held)``: the fractions of a memory bank's slot-time over a run of ``until_ps`` that its
    slots were busy (generating or holding a pair) and that they held a pair, from the bank's final
    state (``run(...).states[memory_id(node, link)]``)."""
    if until_ps <= 0:
        raise ConfigurationError(f"until_ps = {until_ps!r} is not allowed; allowed: a positive duration",
                                 field="until_ps", value=until_ps)
    slots = state["sides"].values()
    total = len(slots) * until_ps
    busy = state["busy_ps"] + sum(until_ps - s.busy_since for s in slots if s.busy_since is not None)
    held = state["held_ps"] + sum(until_ps - s.held_since for s in slots if s.held_since is not None)
    return busy / total, held / total


class MemorySlot(LinkSide):
    """One slot of a bank: its end of the link (:class:`~qactors.protocols.link.LinkSide`) and the bank's
    bookkeeping of it: whether a generation round is under way, and since when (ps; None: not now) the
    slot has been busy (generating or holding a pair) and holding a pair.

    Kept on the slot, not in sets and dicts of slot ids per bank: a large network has tens of
    thousands of banks, and those three containers cost about half a kilobyte each."""

    __slots__ = ("generating", "busy_since", "held_since")

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.generating = False
        self.busy_since: int | None = None
        self.held_since: int | None = None

    def stop_holding(self, now: int) -> int:
        """Close the holding interval; return its length, ps (0 if none was open)."""
        since, self.held_since = self.held_since, None
        return 0 if since is None else now - since

    def stop_busy(self, now: int) -> int:
        """Close the busy interval (the slot neither generates nor holds); return its length, ps."""
        since, self.busy_since = self.busy_since, None
        self.generating = False
        return 0 if since is None else now - since


@lru_cache(maxsize=256)
def _noise(memory: QuantumMemory) -> MemoryNoise:
    """``memory.noise()``, one record for all the banks of equal memories (records are immutable)."""
    return memory.noise()


class MemoryBank(LinkNode):
    """A node's memory slots on one link, as an actor (see the module docstring).

    Args:
        actor_id: the bank's id (:func:`memory_id`).
        node: the node it belongs to (the only actor it takes :class:`FreeSlots` from).
        link: the link's name.
        sides: one :class:`~qactors.protocols.link.LinkSideArgs` per slot (the slot's id is its ``link``).
        memory: the hardware: noise of stored qubits and access time.
        allocation: ``"reserved"`` or ``"shared"``.

    Raises:
        ConfigurationError: an unknown allocation, no slots, or not a QuantumMemory.
    """

    kind = "memory"

    def __init__(self, actor_id: str, node: str, link: str, sides: Sequence[LinkSideArgs], memory: QuantumMemory,
                 *, allocation: str = "reserved", faults: tuple = ()):
        super().__init__(actor_id)
        if allocation not in ALLOCATIONS:
            raise ConfigurationError(f"allocation of memory {actor_id!r} = {allocation!r} is not allowed; allowed: "
                                     f"{ALLOCATIONS}", field="allocation", value=allocation)
        if not isinstance(memory, QuantumMemory):
            raise ConfigurationError(f"memory of {actor_id!r} = {memory!r} is not allowed; allowed: a QuantumMemory",
                                     field="memory", value=memory)
        if not sides:
            raise ConfigurationError(f"memory {actor_id!r} has no slots; allowed: at least one", field="sides")
        noise = _noise(memory)
        self.node, self.link, self.allocation = node, link, allocation
        self.access_ps = memory.access_time_ps
        # slot -> its MemorySlot: the pair it holds, its rounds, whether it generates, since when it is busy
        self.sides: dict[str, MemorySlot] = {args.link: args.side(noise, MemorySlot) for args in sides}
        self.stored = 0
        self.ignored = 0
        self.t1_s = memory.t1_s
        self.faults = tuple(faults)  # MemoryDegradation records for this bank (protocols.faults)
        self.down = False            # the link is cut: nothing is generated, heralds are not believed
        self.lost = 0                # pairs lost to cuts
        # utilisation, in slot-picoseconds: a slot is busy while it generates or holds a pair, and holds while
        # a pair is stored in it; the open intervals (MemorySlot.busy_since, held_since) are closed by whoever
        # reads the totals
        self.busy_ps = 0
        self.held_ps = 0

    @property
    def shared(self) -> bool:
        return self.allocation == "shared"

    @property
    def held(self) -> dict[str, PairRecord]:
        """Slot -> the pair stored in it."""
        return {slot: side.pair for slot, side in self.sides.items() if side.pair is not None}

    def on_start(self) -> None:
        for fault in self.faults:
            self.set_timer(_Fault(fault, False), delay_ps=fault.at_ps)
        if self.shared:
            for slot in sorted(self.sides):
                self._generate(slot)

    @handler(_Fault)
    def on_fault(self, msg: _Fault, sender: str) -> None:
        fault = msg.fault
        if isinstance(fault, MemoryDegradation):  # qubits stored from now on decohere faster
            noise = MemoryNoise(t1_s=self.t1_s, t2_s=min(fault.t2_s, 2.0 * self.t1_s))
            for side in self.sides.values():
                side.noise = noise
        elif isinstance(fault, DetectorDrop):  # the ends' own part of each attempt sees the drop too
            for side in self.sides.values():
                side.physics = scaled_efficiency(side.physics, fault.factor)

    @handler(LinkDown)
    def on_link_down(self, msg: LinkDown, sender: str) -> None:
        if msg.link != self.link or self.down:
            self.ignored += 1
            return
        self.down = True
        lost = tuple(sorted(slot for slot, side in self.sides.items() if side.pair is not None))
        now = self.now
        for side in self.sides.values():
            side.pair = None
            side.attempt = 0
            self.held_ps += side.stop_holding(now)
            self.busy_ps += side.stop_busy(now)
        self.lost += len(lost)
        self.send(self.node, LinkFailed(self.link, lost), delay_ps=self.access_ps)

    @handler(LinkUp)
    def on_link_up(self, msg: LinkUp, sender: str) -> None:
        if msg.link != self.link or not self.down:
            self.ignored += 1
            return
        self.down = False
        for slot, round_ in msg.rounds:
            side = self.sides.get(slot)
            if side is not None:
                side.round, side.attempt = round_, 0
        self.send(self.node, LinkRestored(self.link), delay_ps=self.access_ps)
        if self.shared:
            for slot in sorted(self.sides):
                self._generate(slot)

    @handler(Go)
    def on_go(self, msg: Go, sender: str) -> None:
        if self.down:
            self.ignored += 1
            return
        super().on_go(msg, sender)

    def _generate(self, slot: str) -> None:
        side = self.sides[slot]
        if side.generating or side.pair is not None:
            return
        side.generating = True
        if side.busy_since is None:
            side.busy_since = self.now
        side.ready(self)

    @handler(Herald)
    def on_herald(self, msg: Herald, sender: str) -> None:
        if self.down:
            self.ignored += 1
            return
        side = self._side(msg.link)
        pair = side.herald(self, msg) if side is not None else None
        if pair is None:
            return
        side.generating = False
        side.held_since = self.now
        self.stored += 1
        self.send(self.node, Stored(msg.link, pair, msg.purpose), delay_ps=self.access_ps)

    @handler(FreeSlots)
    def on_free(self, msg: FreeSlots, sender: str) -> None:
        if sender != self.node:
            self.ignored += 1
            return
        for slot in msg.slots:
            side = self._side(slot)
            if side is None:
                continue
            if side.pair is not None:
                side.release(self, offer=False)
                self.held_ps += side.stop_holding(self.now)
            if (msg.generate or self.shared) and not self.down:
                self._generate(slot)
            elif not side.generating:
                self.busy_ps += side.stop_busy(self.now)
