"""Logical actors: local state, typed handlers, and a context to act through.

An actor is a plain Python object.  It reacts to messages and timers, changes
only its own state, and affects other actors only by :meth:`Actor.send`,
whose delivery time is at least the modelled latency of the path between the
two.  Handlers are registered per message type with :func:`handler` and are
called as ``handler(self, msg, sender_id)``::

    @message
    class Ping(Message):
        hops: int

    class Pinger(Actor):
        def __init__(self, actor_id, peer):
            super().__init__(actor_id)
            self.peer = peer
            self.seen = 0

        def on_start(self):
            self.send(self.peer, Ping(0), delay_ps=5 * US)

        @handler(Ping)
        def on_ping(self, msg, sender):
            self.seen += 1
            self.send(sender, Ping(msg.hops + 1), delay_ps=5 * US)

Which process an actor lives in is decided by the backend; the actor cannot
tell and must not care.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any, Callable

import numpy as np

from .codec import record_fields
from .errors import LatencyError, UnknownActorError
from .errors import PayloadError
from .messages import _REGISTRY, Message, check_payload, message_class_problem
from .rng import actor_generator, shared_generator

__all__ = ["Actor", "PlainData", "handler", "TimerHandle"]

TimerHandle = int
_NO_LINKS: dict[int, int] = {}  # shared, never changed: the kernel gives each actor its own
_NO_TIMERS: frozenset[int] = frozenset()
_COMPACT_AT = 4096  # cancelled timers before the kernel considers dropping them from its heap


def handler(*message_types: type) -> Callable:
    """Mark a method as the handler of one or more message types."""
    for mt in message_types:
        problem = message_class_problem(mt)
        if problem is not None:
            raise TypeError(f"@handler takes @message-decorated Message classes: {problem}")
    if not message_types:
        raise TypeError("@handler needs at least one message type")

    def mark(fn):
        fn._qactors_handles = getattr(fn, "_qactors_handles", ()) + message_types
        return fn
    return mark


class PlainData:
    """Base of the plain-data records actors keep in their state (protocol bookkeeping, statistics):
    equal when every field is, so states compare across processes; unhashable, being mutable.

    A record kept by the thousand (one per memory slot) may declare ``__slots__``: it then has no
    instance dict, which is most of a small record's size, and its fields are its slots
    (:func:`~qactors.core.codec.record_fields`)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and record_fields(self) == record_fields(other)

    __hash__ = None  # type: ignore[assignment]


class Actor:
    """Base class of logical actors.

    Subclasses keep their state in ordinary attributes (names not starting
    with ``_``); :meth:`state` returns them for results and digests, so they
    must be plain data (numbers, strings, tuples, lists, dicts, sets, numpy
    arrays, messages).

    Never let behaviour depend on the iteration order of a set of strings:
    it differs from process to process (hash randomisation), so a run on Ray
    would diverge from the local one.  Iterate ``sorted(the_set)`` instead.
    """

    _dispatch: dict[type, Callable] = {}
    # The kernel's bookkeeping lives in slots, not in the instance dict: the dict keeps only the
    # state, and stays small enough (30 keys at most) for CPython to share its keys between the
    # actors of a class, about 1 kB less per actor.
    __slots__ = ("__dict__", "_kernel", "_idx", "_now", "_seq", "_links", "_site", "_cancelled", "_rng")

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        names: dict[type, str] = {}
        for klass in reversed(cls.__mro__):
            for name, fn in vars(klass).items():
                for mt in getattr(fn, "_qactors_handles", ()):
                    names[mt] = name
        # resolve by name, so a subclass that overrides a handler method (decorated or not) is used
        cls._dispatch = {mt: getattr(cls, name) for mt, name in names.items()}

    def __init__(self, actor_id: str):
        if type(actor_id) is not str or not actor_id:
            raise TypeError(f"actor ids are non-empty strings, got {actor_id!r}")
        self.id = actor_id
        self._kernel: Any = None
        self._idx = -1
        self._now = 0
        self._seq = 0
        self._links: dict[int, int] = _NO_LINKS  # the kernel's: neighbour index -> latency
        self._site = -1                           # the kernel's number for this actor's site
        self._cancelled: set[int] | frozenset = _NO_TIMERS  # cancelled timers' handles (a set once one is)
        self._rng: np.random.Generator | None = None

    # -- what an actor may read -------------------------------------------------
    @property
    def now(self) -> int:
        """Current simulated time in picoseconds."""
        return self._now

    @property
    def rng(self) -> np.random.Generator:
        """This actor's private random stream, derived from (seed, actor id)."""
        if self._rng is None:
            self._rng = actor_generator(self._kernel.seed, self.id)
        return self._rng

    def shared_rng(self, *key: str | int) -> np.random.Generator:
        """A generator that any other actor building it with the same key reproduces."""
        return shared_generator(self._kernel.seed, *key)

    # -- what an actor may do ---------------------------------------------------
    def send(self, to: str, msg: Message, *, delay_ps: int) -> None:
        """Send ``msg`` to actor ``to``, delivered ``delay_ps`` picoseconds from now.

        Raises:
            UnknownActorError: ``to`` is not in the network.
            NoRouteError: no chain of links joins the two actors.
            LatencyError: ``delay_ps`` is not an int or is below the latency of
                the shortest path between the two actors.
            PayloadError: ``msg`` cannot cross a process boundary.
        """
        k = self._kernel
        dst = k.index.get(to)
        if dst is None:
            raise UnknownActorError(
                f"actor {self.id!r} sent {type(msg).__name__} at t={self._now} ps to unknown actor {to!r}",
                actor=self.id, to=to, time_ps=self._now)
        lat = self._links.get(dst)
        if lat is None:
            lat = k.path_latency(self, dst, to, msg, delay_ps)
            near = False
        else:  # a message to its own site's neighbour (a node's memory) never leaves the process
            near = k.site_of[dst] == self._site
        if type(delay_ps) is not int or delay_ps < lat:
            raise LatencyError(
                f"actor {self.id!r} sent {type(msg).__name__} to {to!r} at t={self._now} ps with "
                f"delay_ps={delay_ps!r}; allowed: an int >= {lat} ps, the latency of the path between them",
                actor=self.id, to=to, delay_ps=delay_ps, min_latency_ps=lat)
        if not near:  # check_payload, inlined: this is every send's cost
            cls = type(msg)
            if _REGISTRY.get(getattr(cls, "_qactors_name", None)) is not cls or not cls._qactors_check(msg):
                self._check_payload(msg, to)  # raises, naming the field
        self._seq = seq = self._seq + 1
        t = self._now + delay_ps
        if k.local[dst]:
            heappush(k.heap, (t, dst, self._idx, seq, msg))
        else:
            k.outbox.append((dst, t, self._idx, seq, msg))

    def set_timer(self, msg: Message, *, delay_ps: int) -> TimerHandle:
        """Deliver ``msg`` to this actor ``delay_ps`` (>= 0) picoseconds from now.

        Returns a handle for :meth:`cancel_timer`.
        """
        if type(delay_ps) is not int or delay_ps < 0:
            raise LatencyError(
                f"actor {self.id!r} set a timer for {type(msg).__name__} at t={self._now} ps with "
                f"delay_ps={delay_ps!r}; allowed: an int >= 0", actor=self.id, delay_ps=delay_ps)
        self._check_payload(msg, None)
        self._seq = seq = self._seq + 1
        heappush(self._kernel.heap, (self._now + delay_ps, self._idx, self._idx, seq, msg))
        return seq

    def _check_payload(self, msg: Message, to: str | None) -> None:
        """check_payload, with an error that names this actor, the time and the destination (None: a timer)."""
        try:
            check_payload(msg)
        except PayloadError as e:
            doing = "set a timer" if to is None else f"sent to {to!r}"
            raise PayloadError(f"actor {self.id!r} {doing} at t={self._now} ps: {e}",
                               **{**e.__dict__, "actor": self.id, "time_ps": self._now}) from None

    def cancel_timer(self, handle: TimerHandle) -> None:
        """Stop a pending timer from firing (no effect if it already fired).

        Raises:
            TypeError: ``handle`` is not a handle this actor's :meth:`set_timer` returned.
        """
        if type(handle) is not int or not 0 < handle <= self._seq:
            raise TypeError(f"actor {self.id!r}: cancel_timer takes a handle returned by set_timer "
                            f"(an int in 1..{self._seq}), got {handle!r}")
        if type(self._cancelled) is not set:
            self._cancelled = set()
        self._cancelled.add(handle)
        k = self._kernel
        k.cancels += 1
        if k.cancels > _COMPACT_AT and 2 * k.cancels > len(k.heap):
            k.compact()

    # -- copying ------------------------------------------------------------------
    def __getstate__(self):
        """What a copy, a shipment to a shard or a checkpoint keeps: the state and the kernel's record
        of this actor (clock, sequence, cancelled timers, random stream), not the kernel itself nor
        its links table, which the kernel that receives the actor sets again."""
        attributes, slots = object.__getstate__(self)
        slots.pop("_kernel", None)
        slots.pop("_links", None)
        return attributes, slots

    def __setstate__(self, state) -> None:
        attributes, slots = state
        self.__dict__.update(attributes)
        self._kernel, self._links = None, _NO_LINKS
        for name, value in slots.items():
            setattr(self, name, value)

    # -- hooks --------------------------------------------------------------------
    def on_start(self) -> None:
        """Called once at t = 0, before any message is delivered."""

    def state(self) -> dict:
        """The actor's observable state: its public attributes."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"
