"""The purifier part: entanglement purification of link pairs before swapping, or of end-to-end
pairs before delivery (asap requests).

The path-upstream end of a link (or the source, for end-to-end pairs) leads.
It picks two unsettled pairs, applies its half of the circuit and sends
:class:`~qactors.protocols.requests.Purify`; the partner, re-checking that it
still holds both pairs, applies its half and answers
:class:`~qactors.protocols.requests.PurifyReply`.  Both compute the same
outcome from the pair records, both operation times and a keyed shared draw.
A pair at or above ``target_fidelity`` is settled
(:class:`~qactors.protocols.requests.Settled`) and may be used; ``recurrence``
purifies pairs of equal rounds, ``pumping`` always spends a fresh pair on the
best one (Duer, Briegel, Cirac, Zoller, PRA 59, 169 (1999)); the circuit is
BBPSSW or DEJMPS (Deutsch et al., PRL 77, 2818 (1996)).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Sequence

from qactors.core.actor import handler
from qactors.core.messages import Message, message
from qactors.quantum.bell import PairEnd, PairRecord, bbpssw, dejmps

from .parts import Part, PartState, part_handlers
from .requests import Purify, PurifyReply, Settled, _fail

__all__ = ["Purification"]

_ROUND_SUFFIX = re.compile(r"~p\d+$")  # purified pairs are named <first id>~p<round>
_SCHEMES = {"bbpssw": bbpssw, "dejmps": dejmps}


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


class PurifierState(PartState):
    """Per request at a node: purification rounds each pair went through, pairs in an exchange
    (``locked``), end-to-end pairs awaiting their verdict (``end_pairs``: id -> (slot, pair)) and
    messages about end-to-end pairs not joined here yet (``waiting``)."""

    def __init__(self) -> None:
        self.rounds: dict[str, int] = {}
        self.locked: set[str] = set()
        self.waiting: dict[str, Message] = {}
        self.end_pairs: dict[str, tuple[str, PairRecord]] = {}


@message
class Purification(Part):
    """How a request purifies.

    ``scheme``: ``"dejmps"`` or ``"bbpssw"``; ``mode``: ``"recurrence"`` or
    ``"pumping"``; ``level``: ``"link"`` (link pairs before swapping) or
    ``"end"`` (end-to-end pairs before delivery); ``target_fidelity`` in
    (0.5, 1]: pairs at or above it are used; ``max_rounds`` >= 1: a pair that
    has been through that many rounds without reaching the target is
    discarded.
    """

    key: ClassVar[str] = "purifier"

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

    # -- what the swapper asks ----------------------------------------------------------
    def new_state(self, node: Any, role: Any) -> PurifierState:
        return PurifierState()

    def is_locked(self, role: Any, pair_id: str) -> bool:
        return pair_id in role.state["purifier"].locked

    def busy_channels(self, role: Any) -> set[str]:
        """Slots whose end-to-end pair awaits purification."""
        return {c for c, _ in role.state["purifier"].end_pairs.values()}

    def on_drop(self, node: Any, role: Any, pair_id: str) -> None:
        role.state["purifier"].rounds.pop(pair_id, None)

    def lead_link(self, node: Any, role: Any, pair: PairRecord) -> None:
        """A link pair at the link's leading end."""
        role.state["purifier"].rounds[pair.pair_id] = 0
        self._lead(node, role, role.right)

    def take_joined(self, node: Any, role: Any, channel: str, joined: PairRecord) -> None:
        """An end-to-end pair (level ``"end"``), joined at an end."""
        state = role.state["purifier"]
        state.end_pairs[joined.pair_id] = (channel, joined)
        state.rounds[joined.pair_id] = 0
        if role.index == 0:
            self._lead(node, role, None)
        else:
            early = state.waiting.pop(joined.pair_id, None)
            if early is not None:
                part_handlers(self)[type(early)](self, node, role, early, role.request.path[0])

    # -- leading ----------------------------------------------------------------------
    def _candidates(self, node: Any, role: Any, channels: Sequence[str] | None) -> list[PairRecord]:
        state = role.state["purifier"]
        if channels is None:  # end-to-end pairs wait in end_pairs until settled
            pairs = [p for _, p in state.end_pairs.values()]
        else:
            rid = role.request.request_id
            pairs = [node.held[c] for c in channels
                     if c in node.held and node.serving[c] == rid and node.held[c].pair_id not in role.settled]
        return sorted((p for p in pairs if p.pair_id not in state.locked), key=lambda p: (p.ref_ps, p.pair_id))

    def _lead(self, node: Any, role: Any, channels: Sequence[str] | None) -> None:
        """Leader: settle good pairs, drop exhausted ones, start purifications."""
        state = role.state["purifier"]
        partner = role.index + 1 if channels is not None else role.n
        for pair in self._candidates(node, role, channels):
            rounds = state.rounds.get(pair.pair_id, 0)
            if pair.fidelity_at(node.now) >= self.target_fidelity:
                self._settle(node, role, pair, partner, True, channels is None)
            elif rounds >= self.max_rounds:
                self._settle(node, role, pair, partner, False, channels is None)
        free = self._candidates(node, role, channels)
        while len(free) >= 2:
            if self.mode == "pumping":
                fresh = [p for p in free if state.rounds.get(p.pair_id, 0) == 0]
                best = max(free, key=lambda p: (state.rounds.get(p.pair_id, 0), p.ref_ps, p.pair_id))
                others = [p for p in fresh if p.pair_id != best.pair_id]
                if not others:
                    return
                keep, sacrifice = best, others[0]
            else:
                by_round: dict[int, list[PairRecord]] = {}
                for p in free:
                    by_round.setdefault(state.rounds.get(p.pair_id, 0), []).append(p)
                ready = [r for r, ps in sorted(by_round.items(), reverse=True) if len(ps) >= 2]
                if not ready:
                    return
                keep, sacrifice = by_round[ready[0]][:2]
            state.locked.update((keep.pair_id, sacrifice.pair_id))
            node._to(role, partner, Purify(role.request.request_id, keep.pair_id, sacrifice.pair_id, node.now))
            free = [p for p in free if p.pair_id not in state.locked]

    def _settle(self, node: Any, role: Any, pair: PairRecord, partner: int, use: bool, end: bool) -> None:
        node._to(role, partner, Settled(role.request.request_id, pair.pair_id, use))
        self._settled(node, role, pair.pair_id, use, end)

    def _settled(self, node: Any, role: Any, pair_id: str, use: bool, end: bool) -> None:
        state = role.state["purifier"]
        if end:
            channel, pair = state.end_pairs.pop(pair_id)
            state.rounds.pop(pair_id, None)
            estimate = pair.fidelity_at(node.now + (role.request.offsets_ps[-1] if role.index == 0 else 0))
            if use:
                node._deliver(role, channel, pair, estimate)
            else:
                node._drop(channel, offer=True)
            return
        channel = node._channel_of(role, pair_id)
        if channel is None:
            return
        if use:
            role.settled.add(pair_id)
            role.swapper.progress(node, role)
        else:
            node._drop(channel, offer=True)

    def _lookup(self, node: Any, role: Any, pair_id: str, end: bool) -> tuple[str | None, PairRecord | None]:
        if end:
            entry = role.state["purifier"].end_pairs.get(pair_id)
            return (entry[0], entry[1]) if entry else (None, None)
        channel = node._channel_of(role, pair_id)
        return channel, (node.held[channel] if channel else None)

    def _apply(self, node: Any, role: Any, keep_id: str, sac_id: str, t_a: int, t_b: int,
               end: bool) -> PairRecord | None:
        """Both ends: the purification outcome, applied to this node's memory."""
        state = role.state["purifier"]
        (ck, keep), (cs, sac) = self._lookup(node, role, keep_id, end), self._lookup(node, role, sac_id, end)
        rounds = state.rounds.get(keep_id, 0) + 1
        u = float(node.shared_rng("purify", role.request.request_id, keep_id, sac_id).random())
        result = _purified(keep, sac, self.scheme, t_a, t_b, rounds, u)
        role.purifications += 1
        for pid in (keep_id, sac_id):
            state.locked.discard(pid)
            state.rounds.pop(pid, None)
        if end:
            state.end_pairs.pop(sac_id)
            node._drop(cs, offer=True)
            state.end_pairs.pop(keep_id)
            if result is None:
                role.failed_purifications += 1
                node._drop(ck, offer=True)
            else:
                state.end_pairs[result.pair_id] = (ck, result)
                state.rounds[result.pair_id] = rounds
            return result
        cutoff = role.cutoff
        born = (min(cutoff.born(role, keep_id, keep.ref_ps), cutoff.born(role, sac_id, sac.ref_ps))
                if cutoff is not None else 0)
        node._drop(cs, offer=True)
        if result is None:
            role.failed_purifications += 1
            node._drop(ck, offer=True)
        else:
            node._table("held")[ck] = result
            if cutoff is not None:
                cutoff.on_drop(node, role, keep_id)
            state.rounds[result.pair_id] = rounds
            if cutoff is not None and not role.is_end:  # the cut-off counts from the oldest qubit
                cutoff.stored(node, role, result.pair_id, born)
        return result

    # -- messages -------------------------------------------------------------------------
    @handler(Purify)
    def on_purify(self, node: Any, role: Any, msg: Purify, sender: str) -> None:
        end = self.level == "end"
        (ck, keep), (cs, sac) = self._lookup(node, role, msg.keep, end), self._lookup(node, role, msg.sacrifice, end)
        if end and (keep is None or sac is None):
            # not joined here yet: both ends join the same chains, so wait for it
            missing = msg.keep if keep is None else msg.sacrifice
            role.state["purifier"].waiting[missing] = msg
            return
        leader = role.index - 1 if not end else 0
        if keep is None or sac is None:
            for channel in (ck, cs):
                if channel is not None:
                    node._drop(channel, offer=True)
            node._to(role, leader, PurifyReply(msg.request_id, msg.keep, msg.sacrifice, msg.t_leader_ps, node.now,
                                               False))
            return
        self._apply(node, role, msg.keep, msg.sacrifice, msg.t_leader_ps, node.now, end)
        node._to(role, leader, PurifyReply(msg.request_id, msg.keep, msg.sacrifice, msg.t_leader_ps, node.now, True))
        self._release_waiting(node, role)

    @handler(PurifyReply)
    def on_purify_reply(self, node: Any, role: Any, msg: PurifyReply, sender: str) -> None:
        end = self.level == "end"
        state = role.state["purifier"]
        if msg.keep not in state.locked or msg.sacrifice not in state.locked:
            node.ignored += 1  # duplicate
            return
        if not msg.ok:
            for pid in (msg.keep, msg.sacrifice):
                state.locked.discard(pid)
                state.rounds.pop(pid, None)
                channel, _ = self._lookup(node, role, pid, end)
                if end:
                    state.end_pairs.pop(pid, None)
                if channel is not None:
                    node._drop(channel, offer=True)
            role.failed_purifications += 1
        else:
            self._apply(node, role, msg.keep, msg.sacrifice, msg.t_leader_ps, msg.t_follower_ps, end)
        self._lead(node, role, None if end else role.right)

    @handler(Settled)
    def on_settled(self, node: Any, role: Any, msg: Settled, sender: str) -> None:
        end = self.level == "end"
        if end and msg.pair_id not in role.state["purifier"].end_pairs:
            role.state["purifier"].waiting[msg.pair_id] = msg
            return
        self._settled(node, role, msg.pair_id, msg.use, end)

    def _release_waiting(self, node: Any, role: Any) -> None:
        state = role.state["purifier"]
        for pid in [p for p in state.waiting if p in state.end_pairs]:
            msg = state.waiting.pop(pid)
            part_handlers(self)[type(msg)](self, node, role, msg, role.request.path[0])
