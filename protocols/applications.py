"""What the end nodes of a chain do with an end-to-end pair.

* Teleportation (Bennett et al., PRL 70, 1895 (1993)): the sender draws an
  input from the six Pauli eigenstates, makes a Bell-state measurement on it
  and its half of the pair (outcome uniform over the four Bell states) and
  sends the two classical bits to the receiver, who applies the Pauli
  correction when they arrive.  Over a Bell-diagonal pair in frame ``k`` the
  receiver ends up with ``P_k |psi>``, so the fidelity for an input on axis
  ``s`` is ``c_I + c_s`` (averaged over the six inputs: ``(2F + 1)/3``).
* BBM92 (Bennett, Brassard, Mermin, PRL 68, 557 (1992)): both ends measure
  in Z or X, chosen at random, when they obtain the pair.  Outcomes are
  resolved when the sender's sifting message meets the receiver's record
  (DESIGN §4): both draw the same uniform numbers from the keyed shared
  generator, the sender's outcome depends only on its own, and the receiver
  resolves its outcome from the pair's state with each qubit decayed until it
  was measured.  The sifting message also carries the sender's outcome, as
  bookkeeping for the error rate (a real run would reveal a sample).

The receiver keeps the statistics: teleportation fidelities, sifted bits and
errors per basis.
"""

from __future__ import annotations

import zlib

from qactors.core.actor import Actor
from qactors.core.messages import Message, message
from qactors.quantum.bell import PairRecord, measure_pair

__all__ = ["APPLICATIONS", "TeleportBits", "SiftBits", "Receiver", "choose_application", "sender_use"]

APPLICATIONS = ("record", "teleport", "bbm92", "mixed")
_AXES = ("X", "Y", "Z")
_AXIS_INDEX = {"X": 1, "Y": 2, "Z": 3}


@message
class TeleportBits(Message):
    """Sender -> receiver: the Bell-measurement outcome (2 bits) and, for the statistics, the input."""
    pair_id: str
    outcome: int
    axis: str
    sign: int
    measured_ps: int


@message
class SiftBits(Message):
    """Sender -> receiver: measurement basis, outcome and time of the sender's qubit."""
    pair_id: str
    basis: str
    outcome: int
    measured_ps: int


def choose_application(application: str, pair_id: str) -> str:
    """The application a pair serves; ``mixed`` splits pairs by a hash both ends compute alike."""
    if application != "mixed":
        return application
    return "teleport" if zlib.crc32(pair_id.encode()) % 2 == 0 else "bbm92"


def sender_use(actor: Actor, application: str, pair: PairRecord, receiver: str, delay_ps: int) -> None:
    """The sender's side: measure now and tell the receiver."""
    what = choose_application(application, pair.pair_id)
    if what == "teleport":
        axis = _AXES[int(actor.rng.integers(3))]
        sign = 1 if actor.rng.random() < 0.5 else -1
        outcome = int(actor.rng.integers(4))
        actor.send(receiver, TeleportBits(pair.pair_id, outcome, axis, sign, actor.now), delay_ps=delay_ps)
    elif what == "bbm92":
        basis = "Z" if actor.rng.random() < 0.5 else "X"
        u_a = float(actor.shared_rng("bbm92", pair.pair_id).random())
        actor.send(receiver, SiftBits(pair.pair_id, basis, int(u_a < 0.5), actor.now), delay_ps=delay_ps)


class Receiver:
    """The receiving end's bookkeeping: pairs held until the sender's message arrives
    (teleportation) or measured at once (BBM92), and the resulting statistics.
    Plain data, kept in the end node's state."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[PairRecord, int, str]] = {}  # pair id -> (pair, measured/obtained ps, basis)
        self.waiting: dict[str, Message] = {}                   # sender messages that came first
        self.teleport_fidelities: list[float] = []
        self.sifted = {"Z": 0, "X": 0}
        self.errors = {"Z": 0, "X": 0}
        self.unsifted = 0

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def obtain(self, actor, application: str, pair: PairRecord) -> bool:
        """A pair reached the receiver; return True if its memory slot is free again now."""
        what = choose_application(application, pair.pair_id)
        basis = ""
        if what == "bbm92":
            basis = "Z" if actor.rng.random() < 0.5 else "X"
        self.held[pair.pair_id] = (pair, actor.now, basis)
        early = self.waiting.pop(pair.pair_id, None)
        if early is not None:
            self.resolve(actor, early)
            return True
        return what == "bbm92"  # measured at once; a teleportation waits for its correction

    def resolve(self, actor, msg: Message) -> bool:
        """The sender's message arrived; return True if it freed a held slot."""
        entry = self.held.get(msg.pair_id)
        if entry is None:
            self.waiting[msg.pair_id] = msg
            return False
        pair, obtained_ps, basis = self.held.pop(msg.pair_id)
        if isinstance(msg, TeleportBits):
            # the correction is applied now: the receiver's qubit decayed until now
            c = pair.at_ends(msg.measured_ps, actor.now)
            self.teleport_fidelities.append(c[0] + c[_AXIS_INDEX[msg.axis]])
            return True
        c = pair.at_ends(msg.measured_ps, obtained_ps)
        rng = actor.shared_rng("bbm92", pair.pair_id)
        u_a, u_b = float(rng.random()), float(rng.random())
        if msg.basis != basis:
            self.unsifted += 1
            return False
        a, b = measure_pair(c, msg.basis, basis, u_a, u_b)
        if a != msg.outcome:  # both ends draw u_a from the same keyed generator: this cannot differ
            raise RuntimeError(f"BBM92 pair {msg.pair_id!r}: sender outcome {msg.outcome} but the shared draw "
                               f"gives {a}; the keyed generators disagree")
        self.sifted[basis] += 1
        self.errors[basis] += int(a != b)
        return False
