"""The messages of the network layer: requests as they travel along their paths, and what the
nodes of a path tell each other about them (see :mod:`qactors.protocols.network`)."""

from __future__ import annotations

from qactors.core import checks
from qactors.core.errors import ConfigurationError
from qactors.core.messages import Message, message
from qactors.quantum.bell import PairRecord

__all__ = ["Request", "Reserve", "Reject", "Confirm", "Activate", "Release", "SpanDone", "Discard", "Purify",
           "PurifyReply", "Settled", "PathFailed"]


def _fail(what: str, value: object, allowed: str, field: str) -> ConfigurationError:
    return checks.fail(what, value, allowed, field=field)


@message
class Request(Message):
    """An end-to-end request, as it travels along its path.

    ``path`` is the node sequence (empty until the source's router chooses
    it; a path given here is kept); ``offsets_ps`` the cumulative classical
    latency along it (node ``i`` to node ``j`` takes ``|offsets_ps[i] -
    offsets_ps[j]|``).  ``deadline_ps`` of 0 means none.

    The protocol parts the nodes run for it: ``policy``, the swapper (a part of
    :mod:`qactors.protocols.swappers`, or the name of a built-in one:
    ``"asap"``, ``"nested"``, ``"sequential"``); ``cutoff``, a cut-off part
    (:mod:`qactors.protocols.cutoffs`; default: the swapper's own rule with
    ``cutoff_ps``, none if that is 0); ``purification``, a
    :class:`~qactors.protocols.purification.Purification` or None.  When the
    network is built, names are replaced by the parts they stand for.
    """

    request_id: str
    source: str
    dest: str
    pairs: int = 1
    min_fidelity: float = 0.0
    deadline_ps: int = 0
    start_ps: int = 0
    policy: object = "asap"  # a swapper part, or a built-in one's name
    channels: int = 1
    cutoff_ps: int = 0
    cutoff: object = None  # a cut-off part, or None (the swapper's own rule when cutoff_ps > 0)
    selection: str = "oldest"
    purification: object = None  # Purification or None
    application: str = "record"
    retries: int = 3
    bsm_visibility: float = 1.0  # teleportation: two-photon interference visibility of the sender's BSM
    path: tuple = ()
    offsets_ps: tuple = ()
    shared: tuple = ()  # per hop of the path: its link's memories are shared between requests
    leg_of: str = ""  # a request started again over a new path after its first failed: the original's id

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
    link: str = ""    # the link that could not be reserved


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
class PathFailed(Message):
    """A node of the path tells the source that ``link`` of the request's path failed (cut, or a node down)."""
    request_id: str
    link: str
    at_node: str


@message
class _Start(Message):
    request_id: str
    attempt: int
    busy: tuple = ()  # links that rejected the previous attempt


@message
class _Deadline(Message):
    request_id: str


@message
class _Cutoff(Message):
    request_id: str
    pair_id: str
