"""Cut-off parts: when a stored pair has waited too long to be worth using.

* :class:`DiscardAfter` (for :class:`~qactors.protocols.swappers.AsapSwapper`):
  a repeater discards a link pair once its older qubit has been stored
  ``cutoff_ps``, and tells its link partner and both path ends
  (:class:`~qactors.protocols.requests.Discard`).  End nodes never cut: they
  learn whether a pair is useful only when its records arrive.
* :class:`RestartOlderChild` (for
  :class:`~qactors.protocols.swappers.TreeSwapper`): when a swapper would join
  two spans and one of them was created more than ``cutoff_ps`` ago, it
  restarts the older child only and keeps the younger.

A cut-off is told of each link pair a repeater stores (:meth:`Cutoff.stored`)
and asked by a tree swapper before each swap (:meth:`Cutoff.stale_child`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from qactors.core.actor import handler
from qactors.core.messages import message

from .parts import Part, PartState
from .requests import _Cutoff, _fail

__all__ = ["Cutoff", "DiscardAfter", "RestartOlderChild"]


class Cutoff(Part):
    """Base of cut-off parts: ``cutoff_ps`` > 0 is the longest a pair may wait, ps."""

    key: ClassVar[str] = "cutoff"

    def check(self, rid: str) -> None:
        value = getattr(self, "cutoff_ps", None)
        if type(value) is not int or value <= 0:
            raise _fail(f"request {rid!r} {type(self).__name__}.cutoff_ps", value, "an int > 0 (ps)", "cutoff")

    def stored(self, node: Any, role: Any, pair_id: str, born_ps: int) -> None:
        """A repeater stored pair ``pair_id``, whose older qubit was stored at ``born_ps``."""

    def born(self, role: Any, pair_id: str, default: int) -> int:
        """When the older qubit of ``pair_id`` was stored, as this cut-off counts it."""
        return default

    def stale_child(self, node: Any, role: Any, known: dict) -> str | None:
        """Tree swappers: ``"l"`` or ``"r"`` to restart that child span instead of swapping, or None."""
        return None


class DiscardState(PartState):
    """Per request at a repeater: when each pair's older qubit was stored, and its cut-off timer."""

    def __init__(self) -> None:
        self.born: dict[str, int] = {}
        self.timers: dict[str, int] = {}


@message
class DiscardAfter(Cutoff):
    """Discard a link pair held ``cutoff_ps`` after its older qubit was stored (asap repeaters)."""

    cutoff_ps: int = 0

    def new_state(self, node: Any, role: Any) -> DiscardState:
        return DiscardState()

    def stored(self, node: Any, role: Any, pair_id: str, born_ps: int) -> None:
        state = role.state["cutoff"]
        state.born[pair_id] = born_ps
        state.timers[pair_id] = node.set_timer(_Cutoff(role.request.request_id, pair_id),
                                               delay_ps=max(0, born_ps + self.cutoff_ps - node.now))

    def born(self, role: Any, pair_id: str, default: int) -> int:
        return role.state["cutoff"].born.get(pair_id, default)

    def on_drop(self, node: Any, role: Any, pair_id: str) -> None:
        state = role.state["cutoff"]
        state.born.pop(pair_id, None)
        handle = state.timers.pop(pair_id, None)
        if handle is not None:  # used or dropped in time: the timer need not fire
            node.cancel_timer(handle)

    @handler(_Cutoff)
    def on_cutoff(self, node: Any, role: Any, msg: _Cutoff, sender: str) -> None:
        if role.status != "active":
            return
        role.state["cutoff"].timers.pop(msg.pair_id, None)  # fired: nothing to cancel any more
        channel = node._channel_of(role, msg.pair_id)
        purifier = role.purifier
        if channel is None or (purifier is not None and purifier.is_locked(role, msg.pair_id)):
            return  # used already, or in a purification exchange that decides its fate
        role.cutoffs += 1
        node._discard(role, channel)


@message
class RestartOlderChild(Cutoff):
    """Tree swappers: restart the older of two child spans if it is more than ``cutoff_ps`` old
    (Brand, Coopmans, Elkouss, IEEE JSAC 38, 619 (2020))."""

    cutoff_ps: int = 0

    def stale_child(self, node: Any, role: Any, known: dict) -> str | None:
        stale = [side for side in ("l", "r") if node.now - known[side].ref_ps > self.cutoff_ps]
        return min(stale, key=lambda s: known[s].ref_ps) if stale else None
