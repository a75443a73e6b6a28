"""Drive a single actor by hand, without a runtime: deliver messages in any order
and see exactly what it sends.  For testing protocol logic against late,
duplicated or out-of-order messages.

>>> from qactors.demo import Relay, Token
>>> probe = ActorProbe(Relay("r0", "r1", latency_ps=10), peers=["r1"])
>>> probe.start()
[Sent(to='r1', delay_ps=10, msg=Token(hops=0))]
>>> probe.deliver(Token(hops=4), sender="r1", at_ps=100)
[Sent(to='r1', delay_ps=10, msg=Token(hops=5))]
"""

from __future__ import annotations

from heapq import heappop
from typing import NamedTuple, Sequence

from .core.actor import Actor
from .core.errors import UnhandledMessageError
from .core.kernel import Kernel
from .core.messages import Message

__all__ = ["ActorProbe", "Sent"]


class Sent(NamedTuple):
    """A message the actor sent (``to`` is the actor itself for a timer)."""

    to: str
    delay_ps: int
    msg: Message


class ActorProbe:
    """Hosts ``actor`` alone; every other actor id in ``peers`` is reachable with
    latency ``latency_ps`` (so any delay >= that is accepted)."""

    def __init__(self, actor: Actor, peers: Sequence[str], *, seed: int = 0, latency_ps: int = 1):
        names = [actor.id, *peers]
        adjacency: list[dict[int, int]] = [{j: latency_ps for j in range(1, len(names))}]
        adjacency += [{0: latency_ps} for _ in peers]
        self.actor = actor
        self.kernel = Kernel(names, adjacency, {0: actor}, seed, record_digest=False)

    def start(self) -> list[Sent]:
        """Run ``on_start`` at t = 0 and return what it sent."""
        self.kernel.start()
        return self._drain()

    def deliver(self, msg: Message, sender: str, at_ps: int) -> list[Sent]:
        """Hand ``msg`` from ``sender`` to the actor at simulated time ``at_ps``; return what it sent."""
        a = self.actor
        fn = a._dispatch.get(type(msg))
        if fn is None:
            raise UnhandledMessageError(f"{a.id!r} ({type(a).__name__}) has no handler for {type(msg).__name__}",
                                        actor=a.id, message_type=type(msg).__name__, time_ps=at_ps)
        a._now = at_ps
        fn(a, msg, sender)
        return self._drain()

    def _drain(self) -> list[Sent]:
        now, names = self.actor.now, self.kernel.names
        out = [Sent(names[dst], t - now, msg) for dst, t, _, _, msg in self.kernel.take_outbox()]
        heap = self.kernel.heap
        while heap:
            t, _, _, seq, msg = heappop(heap)
            if seq not in self.actor._cancelled:
                out.append(Sent(self.actor.id, t - now, msg))
        return out
