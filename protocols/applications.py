"""What the end nodes of a chain do with an end-to-end pair.

* Teleportation (Bennett et al., PRL 70, 1895 (1993)): the sender draws an
  input from the six Pauli eigenstates, makes a Bell-state measurement on it
  and its half of the pair (outcome uniform over the four Bell states) and
  sends the two classical bits to the receiver, who applies the Pauli
  correction when they arrive.  Over a Bell-diagonal pair in frame ``k`` the
  receiver ends up with ``P_k |psi>``, so the fidelity for an input on axis
  ``s`` is ``c_I + c_s`` (averaged over the six inputs: ``(2F + 1)/3``).
  A linear-optics Bell-state measurement whose two photons interfere with
  visibility ``V`` < 1 (partial distinguishability, e.g. photons from two
  different emitters) is modelled as a mixture: with probability ``V`` the
  photons interfere and the measurement is the ideal one; otherwise they are
  distinguishable and the coincidence only reveals their polarisations (time
  bins) in the measurement basis Z, which projects the receiver's qubit onto
  a Z eigenstate: a Z input arrives with fidelity ``c_I + c_Z``, an X or Y
  input with 1/2.  Averaged over the six inputs and a perfect pair this is
  ``2/3 + V/3``.
* BBM92 (Bennett, Brassard, Mermin, PRL 68, 557 (1992)): both ends measure
  in Z or X, chosen at random, when they obtain the pair.  Outcomes are
  resolved when the sender's sifting message meets the receiver's record
  (docs/architecture.md): both draw the same uniform numbers from the keyed shared
  generator, the sender's outcome depends only on its own, and the receiver
  resolves its outcome from the pair's state with each qubit decayed until it
  was measured.  The sifting message also carries the sender's outcome, as
  bookkeeping for the error rate (a real run would reveal a sample).

* E91 (Ekert, PRL 67, 661 (1991)): both ends measure in the X-Z plane, Alice
  at 0, pi/4 or pi/2 (settings ``Z``, ``D``, ``X``), Bob at pi/4, pi/2 or
  3 pi/4 (``D``, ``X``, ``A``), each chosen uniformly.  Outcomes are resolved
  as for BBM92 (keyed shared draws, :func:`~qactors.quantum.bell.measure_pair_xz`);
  equal settings (``D``/``D``, ``X``/``X``: 2 pairs in 9) give key bits, and
  Alice's ``Z``, ``X`` against Bob's ``D``, ``A`` (4 in 9) estimate the CHSH
  value ``S = E(Z,D) - E(Z,A) + E(X,D) + E(X,A)`` (Clauser, Horne, Shimony,
  Holt, PRL 23, 880 (1969)), ``2 sqrt 2`` for Phi+.  Ekert used a singlet and
  got ``-2 sqrt 2``; over Phi+ the same angles give ``+2 sqrt 2`` and
  correlated rather than anticorrelated key bits.  The sender's setting and
  outcome travel in a :class:`SiftBits` like BBM92's.

The receiver keeps the statistics: teleportation fidelities, sifted bits and
errors per basis (BBM92 and E91 separately) and the CHSH tallies.

In the network layer a request's application is a protocol part,
:class:`Application` (its ``kind`` one of :data:`APPLICATIONS`), which the
ends run on every delivered pair.
"""

from __future__ import annotations

import zlib

import math

from typing import Any, ClassVar

from qactors.core.actor import Actor, PlainData, handler
from qactors.core.messages import Message, message
from qactors.quantum.bell import PairRecord, measure_pair, measure_pair_xz
from qactors.quantum.information import E91_ALICE, E91_ANGLES, E91_BOB, E91_CHSH_TERMS, E91_KEY_SETTINGS

from .parts import Part, PartState

__all__ = ["APPLICATIONS", "TeleportBits", "SiftBits", "Receiver", "Application", "choose_application",
           "sender_use"]

APPLICATIONS = ("record", "teleport", "bbm92", "e91", "mixed")
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
    request_id: str = ""  # the network-layer request the pair served ("" on a plain chain)
    distinguishable: bool = False  # the Bell-state measurement's photons did not interfere (see the module doc)


@message
class SiftBits(Message):
    """Sender -> receiver: measurement basis (BBM92: 'Z' or 'X'; E91: the setting 'Z', 'D' or 'X'),
    outcome and time of the sender's qubit."""
    pair_id: str
    basis: str
    outcome: int
    measured_ps: int
    request_id: str = ""  # the network-layer request the pair served ("" on a plain chain)


def choose_application(application: str, pair_id: str) -> str:
    """The application a pair serves; ``mixed`` splits pairs by a hash both ends compute alike."""
    if application != "mixed":
        return application
    return "teleport" if zlib.crc32(pair_id.encode()) % 2 == 0 else "bbm92"


def sender_use(actor: Actor, application: str, pair: PairRecord, receiver: str, delay_ps: int,
               request_id: str = "", bsm_visibility: float = 1.0) -> None:
    """The sender's side: measure now and tell the receiver (naming ``request_id``, if any).

    ``bsm_visibility`` is the two-photon interference visibility of the teleportation's
    Bell-state measurement (1: ideal; see the module doc)."""
    what = choose_application(application, pair.pair_id)
    if what == "teleport":
        axis = _AXES[int(actor.rng.integers(3))]
        sign = 1 if actor.rng.random() < 0.5 else -1
        outcome = int(actor.rng.integers(4))
        # drawn only when the measurement is imperfect, so ideal runs keep their random streams
        distinguishable = bsm_visibility < 1.0 and actor.rng.random() >= bsm_visibility
        actor.send(receiver, TeleportBits(pair.pair_id, outcome, axis, sign, actor.now, request_id, distinguishable),
                   delay_ps=delay_ps)
    elif what == "bbm92":
        basis = "Z" if actor.rng.random() < 0.5 else "X"
        u_a = float(actor.shared_rng("bbm92", pair.pair_id).random())
        actor.send(receiver, SiftBits(pair.pair_id, basis, int(u_a < 0.5), actor.now, request_id), delay_ps=delay_ps)
    elif what == "e91":
        setting = E91_ALICE[int(actor.rng.integers(3))]
        u_a = float(actor.shared_rng("e91", pair.pair_id).random())
        actor.send(receiver, SiftBits(pair.pair_id, setting, int(u_a < 0.5), actor.now, request_id), delay_ps=delay_ps)


class Receiver(PlainData):
    """The receiving end's bookkeeping: pairs held until the sender's message arrives
    (teleportation) or measured at once (BBM92, E91), and the resulting statistics.
    Plain data, kept in the end node's state.

    E91 statistics: ``e91_sifted`` and ``e91_errors`` per key setting ('D', 'X');
    ``chsh_pairs`` and ``chsh_agree`` per CHSH term (Alice's setting then Bob's:
    'ZD', 'ZA', 'XD', 'XA'), from which :meth:`chsh` estimates S; ``e91_unused``
    counts the other setting combinations."""

    def __init__(self) -> None:
        # pair id -> (pair, measured/obtained ps, basis or E91 setting, application)
        self.held: dict[str, tuple[PairRecord, int, str, str]] = {}
        self.waiting: dict[str, Message] = {}                   # sender messages that came first
        self.teleport_fidelities: list[float] = []
        self.sifted = {"Z": 0, "X": 0}
        self.errors = {"Z": 0, "X": 0}
        self.unsifted = 0
        self.e91_sifted = {s: 0 for s in E91_KEY_SETTINGS}
        self.e91_errors = {s: 0 for s in E91_KEY_SETTINGS}
        self.chsh_pairs = {a + b: 0 for a, b, _ in E91_CHSH_TERMS}
        self.chsh_agree = {a + b: 0 for a, b, _ in E91_CHSH_TERMS}
        self.e91_unused = 0


    def obtain(self, actor, application: str, pair: PairRecord) -> bool:
        """A pair reached the receiver; return True if its memory slot is free again now."""
        what = choose_application(application, pair.pair_id)
        basis = ""
        if what == "bbm92":
            basis = "Z" if actor.rng.random() < 0.5 else "X"
        elif what == "e91":
            basis = E91_BOB[int(actor.rng.integers(3))]
        self.held[pair.pair_id] = (pair, actor.now, basis, what)
        early = self.waiting.pop(pair.pair_id, None)
        if early is not None:
            self.resolve(actor, early)
            return True
        return what in ("bbm92", "e91")  # measured at once; a teleportation waits for its correction

    def resolve(self, actor, msg: Message) -> bool:
        """The sender's message arrived; return True if it freed a held slot."""
        entry = self.held.get(msg.pair_id)
        if entry is None:
            self.waiting[msg.pair_id] = msg
            return False
        pair, obtained_ps, basis, what = self.held.pop(msg.pair_id)
        if isinstance(msg, TeleportBits):
            # the correction is applied now: the receiver's qubit decayed until now
            c = pair.at_ends(msg.measured_ps, actor.now)
            if msg.distinguishable:  # the receiver's qubit holds the input's Z populations only
                self.teleport_fidelities.append(c[0] + c[3] if msg.axis == "Z" else 0.5)
            else:
                self.teleport_fidelities.append(c[0] + c[_AXIS_INDEX[msg.axis]])
            return True
        c = pair.at_ends(msg.measured_ps, obtained_ps)
        if what == "e91":
            self._resolve_e91(actor, msg, c, basis)
            return False
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

    def _resolve_e91(self, actor, msg: SiftBits, c, setting: str) -> None:
        if msg.basis not in E91_ALICE:
            raise RuntimeError(f"E91 pair {msg.pair_id!r}: the sender's setting {msg.basis!r} is not one of "
                               f"{E91_ALICE}")
        rng = actor.shared_rng("e91", msg.pair_id)
        u_a, u_b = float(rng.random()), float(rng.random())
        a, b = measure_pair_xz(c, E91_ANGLES[msg.basis], E91_ANGLES[setting], u_a, u_b)
        if a != msg.outcome:  # both ends draw u_a from the same keyed generator: this cannot differ
            raise RuntimeError(f"E91 pair {msg.pair_id!r}: sender outcome {msg.outcome} but the shared draw "
                               f"gives {a}; the keyed generators disagree")
        term = msg.basis + setting
        if msg.basis == setting:
            self.e91_sifted[setting] += 1
            self.e91_errors[setting] += int(a != b)
        elif term in self.chsh_pairs:
            self.chsh_pairs[term] += 1
            self.chsh_agree[term] += int(a == b)
        else:
            self.e91_unused += 1

    def chsh(self) -> float:
        """The CHSH value S estimated from the E91 pairs measured in the CHSH settings
        (``nan`` until every term has a pair)."""
        total = 0.0
        for a, b, sign in E91_CHSH_TERMS:
            n = self.chsh_pairs[a + b]
            if n == 0:
                return math.nan
            total += sign * (2 * self.chsh_agree[a + b] - n) / n
        return total


class ApplicationState(PartState):
    """Per request at a node: the receiver's statistics (at the destination; None elsewhere: a request
    has a role at every node of its path, and a Receiver's tables take about 0.8 kB) and the slots
    whose qubits wait for the sender's bits (pair id -> slot)."""

    def __init__(self, receiver: bool = True) -> None:
        self.receiver = Receiver() if receiver else None
        self.holding: dict[str, str] = {}


@message
class Application(Part):
    """The network layer's application part: what both ends do with each delivered pair.

    ``kind``: ``"record"`` (nothing: the delivery is recorded), ``"teleport"``,
    ``"bbm92"``, ``"e91"`` or ``"mixed"`` (teleportation and BBM92 by a hash of the
    pair id); ``bsm_visibility``: the sender's Bell-state measurement, for
    teleportation (see the module docstring).
    """

    key: ClassVar[str] = "application"
    kind: str = "record"
    bsm_visibility: float = 1.0

    def new_state(self, node: Any, role: Any) -> ApplicationState:
        return ApplicationState(receiver=role.index == role.n)

    def use(self, node: Any, role: Any, pair: PairRecord) -> bool:
        """An end delivered ``pair``; False if it must keep its qubit (until the sender's bits come)."""
        if self.kind == "record":
            return True
        request = role.request
        if role.index == 0:
            sender_use(node, self.kind, pair, request.dest, max(1, request.latency(0, role.n)), request.request_id,
                       self.bsm_visibility)
            return True
        return role.state["application"].receiver.obtain(node, self.kind, pair)

    @handler(TeleportBits, SiftBits)
    def on_bits(self, node: Any, role: Any, msg: Message, sender: str) -> None:
        """The sender's bits: resolve the receiver's outcome and free the qubit it kept (also after the request
        ended: the qubit was kept for these bits)."""
        if role.request.source != sender or role.request.dest != node.id:
            node.ignored += 1
            return
        state = role.state["application"]
        state.receiver.resolve(node, msg)
        channel = state.holding.pop(msg.pair_id, None)
        if channel is not None:
            node._drop(channel, offer=role.status == "active")
            if role.status == "done" and node.owner.get(channel) == role.request.request_id:
                del node.owner[channel]
