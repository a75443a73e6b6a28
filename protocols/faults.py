"""Faults injected at given simulated times, and how the network hears of them.

Give them to :func:`~qactors.protocols.network.quantum_network` (``faults=[...]``)
or in a scenario's ``[[faults]]`` tables:

* :class:`LinkCut`: the link's fibre is cut at ``at_ps`` (and repaired at
  ``repair_ps``, if not 0).  Its channel actor opens no round and decides no
  attempt while it is cut; the pairs its memories hold are lost, and each
  memory hears of it after the fibre's latency from the channel (the light
  stops arriving), tells its node (access time), and the node tells the source
  of every request whose path uses the link
  (:class:`~qactors.protocols.requests.PathFailed`), which ends that path and,
  within its retry budget, routes the rest of the request over another.
* :class:`NodeFailure`: the node stops at ``at_ps``: it forgets its requests,
  its reservations and its pairs, ignores every message until ``recover_ps``
  (if not 0), and all its links are cut for as long (their far ends hear of
  it as of any cut).
* :class:`MemoryDegradation`: from ``at_ps`` on, qubits stored in the node's
  memories (on ``link``, or on all its links) decohere with T2 ``t2_s``
  (pairs already stored keep the noise they were stored with).
* :class:`DetectorDrop`: from ``at_ps`` on, the link's per-attempt efficiency
  (``eta_arm``, or ``eta_link`` of a sender-receiver link) is multiplied by
  ``factor``.

The faults are timers of the actors they strike, set when the run starts, so
they are part of the deterministic schedule like any other event.
"""

from __future__ import annotations

from typing import Any, Sequence

from qactors.core import checks
from qactors.core.messages import Message, message

__all__ = ["LinkCut", "NodeFailure", "MemoryDegradation", "DetectorDrop", "FAULTS", "LinkDown", "LinkUp",
           "LinkFailed", "LinkRestored", "link_name", "strikes"]


def link_name(a: str, b: str) -> str:
    """The name of the link between nodes ``a`` and ``b``: ``"<lower id>-<higher id>"``."""
    a, b = sorted((str(a), str(b)))
    return f"{a}-{b}"


@message
class LinkCut(Message):
    link: str
    at_ps: int
    repair_ps: int = 0  # 0: never repaired


@message
class NodeFailure(Message):
    node: str
    at_ps: int
    recover_ps: int = 0  # 0: never recovers


@message
class MemoryDegradation(Message):
    node: str
    at_ps: int
    t2_s: float
    link: str = ""  # "": every memory of the node


@message
class DetectorDrop(Message):
    link: str
    at_ps: int
    factor: float


FAULTS = (LinkCut, NodeFailure, MemoryDegradation, DetectorDrop)


@message
class _Fault(Message):
    """Timer of the actor a fault strikes: ``fault`` begins (``end`` False) or ends."""
    fault: Message
    end: bool


@message
class LinkDown(Message):
    """Channel -> memory: the link was cut at ``at_ps``; the pairs it holds are lost."""
    link: str
    at_ps: int


@message
class LinkUp(Message):
    """Channel -> memory: the link works again; ``rounds`` gives, per slot, the round to be ready for."""
    link: str
    rounds: tuple  # ((slot, round), ...)


@message
class LinkFailed(Message):
    """Memory -> node: its link is cut; the pairs in ``slots`` are lost."""
    link: str
    slots: tuple


@message
class LinkRestored(Message):
    """Memory -> node: its link works again."""
    link: str


def strikes(g: Any, links: Any, faults: Sequence) -> dict[str, list]:
    """The ``faults`` checked, by the node or link they strike (``g``: the network's graph, node ids as
    strings; ``links``: its link names); a node failure also cuts the node's links.

    Raises:
        ConfigurationError: naming the fault (``faults[i]``), its field, the value and what is allowed.
    """
    out: dict[str, list] = {}
    for i, fault in enumerate(faults):
        where = f"faults[{i}]"
        if not isinstance(fault, FAULTS):
            raise checks.fail(where, fault, "LinkCut, NodeFailure, MemoryDegradation or DetectorDrop "
                        "(qactors.protocols.faults)", field="faults")
        checks.integer(f"{where}.at_ps", fault.at_ps, low=0, high=checks.MAX_PS, field="at_ps")
        end = getattr(fault, "repair_ps", getattr(fault, "recover_ps", None))
        if end is not None:
            name = "repair_ps" if isinstance(fault, LinkCut) else "recover_ps"
            checks.integer(f"{where}.{name}", end, low=0, high=checks.MAX_PS, field=name)
            if end and end <= fault.at_ps:
                raise checks.fail(f"{where}.{name}", end, f"0 (never) or later than at_ps = {fault.at_ps}", field=name)
        if isinstance(fault, (LinkCut, DetectorDrop)):
            if fault.link not in links:
                raise checks.fail(f"{where}.link", fault.link, f"a link of the network, named 'a-b' with a < b "
                            f"(e.g. {next(iter(sorted(links)), '?')!r})", field="link")
            if isinstance(fault, DetectorDrop):
                checks.real(f"{where}.factor", fault.factor, low=0.0, low_open=True, high=1.0, field="factor")
            out.setdefault(fault.link, []).append(fault)
            continue
        if fault.node not in g:
            raise checks.fail(f"{where}.node", fault.node, "a node of the network", field="node")
        if isinstance(fault, MemoryDegradation):
            checks.real(f"{where}.t2_s", fault.t2_s, low=0.0, low_open=True, field="t2_s")
            if fault.link and fault.link not in links:
                raise checks.fail(f"{where}.link", fault.link, "'' (every memory) or a link of the node", field="link")
        out.setdefault(fault.node, []).append(fault)
        if isinstance(fault, NodeFailure):
            for other in sorted(g.neighbors(fault.node)):
                link = link_name(fault.node, other)
                out.setdefault(link, []).append(LinkCut(link, fault.at_ps, fault.recover_ps))
    for link in sorted(k for k in out if k in links):
        cuts = sorted((f.at_ps, f.repair_ps or checks.MAX_PS) for f in out[link] if isinstance(f, LinkCut))
        for (s0, e0), (s1, _) in zip(cuts, cuts[1:]):
            if s1 < e0:
                raise checks.fail(f"faults on link {link!r}", (s1,), f"cuts that do not overlap (one at {s0} ps lasts "
                            f"until {e0} ps)", field="faults")
    return out
