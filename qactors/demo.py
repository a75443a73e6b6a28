"""Built-in demonstration networks.

* :func:`ping_ring` - nodes on a fibre ring, each with a co-located memory
  actor, pinging neighbours and far nodes at random times.  Exercises
  everything the runtime offers (per-actor random streams, the shared keyed
  generator, timers and their cancellation, messages to non-neighbours,
  sites), so it doubles as the workload of the determinism tests.
* :func:`token_ring` - the plain synthetic load of ``benchmarks/kernel.py``.

Fibre delays come from :class:`qactors.hardware.Fibre` (group index 1.47, about 4.9 us/km).
"""

from __future__ import annotations

import networkx as nx

from .core.actor import Actor, handler
from .core.errors import ConfigurationError
from .core.messages import Message, message
from .core.network import Network
from .core.time import NS, US
from .hardware.channels import Fibre
from .hardware.links import midpoint_arm_efficiency
from .hardware.memory import QuantumMemory
from .protocols.link import LinkPhysics
from .protocols.qkd import KeyRate
from .protocols.swapping import repeater_chain

__all__ = ["ping_ring", "token_ring", "summarise_ping_ring", "Node", "Memory", "Relay",
           "chain_demo", "summarise_chain"]

@message
class Tick(Message):
    """A node's own timer: time to send the next ping."""


@message
class Ping(Message):
    ping_id: int
    sent_ps: int
    reply_delay_ps: int


@message
class Pong(Message):
    ping_id: int
    sent_ps: int
    coin: int


@message
class Store(Message):
    ping_id: int


@message
class Stored(Message):
    ping_id: int


@message
class StoreTimeout(Message):
    ping_id: int


class Node(Actor):
    """Pings a random peer every ``period_ps`` (jittered), answers pings, and logs
    each round trip into its memory, with a timeout in case the memory drops it."""

    def __init__(self, actor_id: str, peers: dict[str, int], memory: str, memory_latency_ps: int,
                 period_ps: int):
        super().__init__(actor_id)
        self.peers = dict(sorted(peers.items()))  # peer id -> one-way path latency (ps)
        self.memory = memory
        self.memory_latency_ps = memory_latency_ps
        self.period_ps = period_ps
        self.next_ping = 0
        self.pings_sent = 0
        self.pongs = 0
        self.rtt_sum_ps = 0
        self.rtt_min_ps = 0
        self.coins_sent: list[tuple[int, int]] = []
        self.coins_heard: list[tuple[str, int, int]] = []
        self.stored = 0
        self.store_timeouts = 0
        self._timeouts: dict[int, int] = {}

    def on_start(self) -> None:
        self.set_timer(Tick(), delay_ps=int(self.rng.integers(0, self.period_ps)))

    @handler(Tick)
    def on_tick(self, msg: Tick, sender: str) -> None:
        names = list(self.peers)
        peer = names[int(self.rng.integers(len(names)))]
        lat = self.peers[peer]
        processing = int(self.rng.integers(0, 10 * NS))
        self.send(peer, Ping(self.next_ping, self.now, lat), delay_ps=lat + processing)
        self.next_ping += 1
        self.pings_sent += 1
        self.set_timer(Tick(), delay_ps=self.period_ps // 2 + int(self.rng.integers(0, self.period_ps)))

    @handler(Ping)
    def on_ping(self, msg: Ping, sender: str) -> None:
        # Both ends draw this coin from the keyed shared stream; they agree without talking.
        coin = int(self.shared_rng("ping", sender, msg.ping_id).integers(0, 1 << 30))
        self.coins_sent.append((msg.ping_id, coin))
        self.send(sender, Pong(msg.ping_id, msg.sent_ps, coin), delay_ps=msg.reply_delay_ps)

    @handler(Pong)
    def on_pong(self, msg: Pong, sender: str) -> None:
        rtt = self.now - msg.sent_ps
        self.pongs += 1
        self.rtt_sum_ps += rtt
        self.rtt_min_ps = rtt if self.rtt_min_ps == 0 else min(self.rtt_min_ps, rtt)
        mine = int(self.shared_rng("ping", self.id, msg.ping_id).integers(0, 1 << 30))
        self.coins_heard.append((sender, msg.ping_id, int(mine == msg.coin)))
        self.send(self.memory, Store(msg.ping_id), delay_ps=self.memory_latency_ps)
        self._timeouts[msg.ping_id] = self.set_timer(StoreTimeout(msg.ping_id),
                                                       delay_ps=3 * self.memory_latency_ps)

    @handler(Stored)
    def on_stored(self, msg: Stored, sender: str) -> None:
        self.stored += 1
        self.cancel_timer(self._timeouts.pop(msg.ping_id))

    @handler(StoreTimeout)
    def on_store_timeout(self, msg: StoreTimeout, sender: str) -> None:
        self.store_timeouts += 1
        del self._timeouts[msg.ping_id]


class Memory(Actor):
    """Acknowledges writes after its access time; loses a write with ``loss`` probability."""

    def __init__(self, actor_id: str, node: str, latency_ps: int, loss: float):
        super().__init__(actor_id)
        self.node = node
        self.latency_ps = latency_ps
        self.loss = loss
        self.writes = 0
        self.lost = 0

    @handler(Store)
    def on_store(self, msg: Store, sender: str) -> None:
        self.writes += 1
        if self.rng.random() < self.loss:
            self.lost += 1
            return
        self.send(sender, Stored(msg.ping_id), delay_ps=self.latency_ps)


def ping_ring(nodes: int = 16, *, base_km: float = 10.0, far_peers: int = 2, period_us: float = 200.0,
              memory_access_ns: int = 500, memory_loss: float = 0.05) -> Network:
    """A ring of ``nodes`` nodes with fibre links of 1x to 3x ``base_km``, each node
    with a memory at the same site, pinging its two neighbours and ``far_peers``
    nodes across the ring."""
    if type(nodes) is not int or nodes < 3:
        raise ConfigurationError(f"ping_ring needs nodes >= 3, got {nodes!r}", field="nodes", value=nodes)
    lengths = [base_km * (1 + (7 * i) % 3) for i in range(nodes)]  # link i joins node i and i+1
    graph = nx.Graph()
    for i in range(nodes):
        graph.add_edge(i, (i + 1) % nodes, latency_ps=Fibre(lengths[i]).delay_ps)
    net = Network()
    mem_lat = memory_access_ns * NS
    for i in range(nodes):
        targets = {(i - 1) % nodes, (i + 1) % nodes}
        targets.update((i + nodes // 2 + k) % nodes for k in range(far_peers))
        targets.discard(i)
        dist = nx.single_source_dijkstra_path_length(graph, i, weight="latency_ps")
        peers = {f"n{j}": dist[j] for j in sorted(targets)}
        net.add_actor(Node(f"n{i}", peers, f"m{i}", mem_lat, round(period_us * US)), site=f"n{i}")
        net.add_actor(Memory(f"m{i}", f"n{i}", mem_lat, memory_loss), site=f"n{i}")
        net.connect(f"n{i}", f"m{i}", latency_ps=mem_lat)
    for i, j, data in graph.edges(data=True):
        net.connect(f"n{i}", f"n{j}", latency_ps=data["latency_ps"])
    return net


def summarise_ping_ring(states: dict[str, dict]) -> dict:
    """Totals over the nodes of a finished :func:`ping_ring` run."""
    nodes = [s for s in states.values() if "pongs" in s]
    pongs = sum(s["pongs"] for s in nodes)
    heard = [c for s in nodes for c in s["coins_heard"]]
    return {
        "nodes": len(nodes),
        "pings_sent": sum(s["pings_sent"] for s in nodes),
        "pongs_received": pongs,
        "mean_rtt_us": (sum(s["rtt_sum_ps"] for s in nodes) / pongs / US) if pongs else None,
        "shared_coins_agreeing": sum(c[2] for c in heard),
        "shared_coins_compared": len(heard),
        "memory_writes_stored": sum(s["stored"] for s in nodes),
        "memory_write_timeouts": sum(s["store_timeouts"] for s in nodes),
    }


@message
class Token(Message):
    hops: int


class Relay(Actor):
    """Forwards every token to the next actor on the ring after the link latency,
    spending ``work`` iterations of arithmetic on each (a stand-in for protocol logic)."""

    def __init__(self, actor_id: str, nxt: str, latency_ps: int, work: int = 0, tokens: int = 1):
        super().__init__(actor_id)
        self.nxt = nxt
        self.latency_ps = latency_ps
        self.work = work
        self.tokens = tokens
        self.seen = 0
        self.acc = 0

    def on_start(self) -> None:
        for _ in range(self.tokens):
            self.send(self.nxt, Token(0), delay_ps=self.latency_ps)

    @handler(Token)
    def on_token(self, msg: Token, sender: str) -> None:
        self.seen += 1
        if self.work:
            acc = 0
            for k in range(self.work):
                acc = (acc * 31 + k) & 0xFFFF
            self.acc ^= acc
        self.send(self.nxt, Token(msg.hops + 1), delay_ps=self.latency_ps)


def token_ring(n: int, *, latency_ps: int = 50 * US, work: int = 0, tokens: int = 1) -> Network:
    """``n`` relays on a ring with equal links; each starts ``tokens`` tokens."""
    net = Network()
    for i in range(n):
        net.add_actor(Relay(f"r{i}", f"r{(i + 1) % n}", latency_ps, work, tokens))
    for i in range(n):
        net.connect(f"r{i}", f"r{(i + 1) % n}", latency_ps=latency_ps)
    return net


def chain_demo(nodes: int = 5, link_length_km: float = 25.0, *, model: str = "geometric",
               detection_efficiency: float = 0.9, visibility: float = 0.95, t1_s: float = 10.0, t2_s: float = 1.0,
               swap_success_probability: float = 1.0, max_pairs: int = 1_000_000,
               application: str = "mixed") -> Network:
    """A repeater chain: ``nodes`` NV-like nodes ``link_length_km`` apart, double-click links
    over 0.2 dB/km fibre with midpoint stations, swap-asap repeaters; the end nodes use
    each pair for teleportation or BBM92 (``application``)."""
    physics = LinkPhysics("double_click", eta_arm=midpoint_arm_efficiency(
        link_length_km, detection_efficiency=detection_efficiency), visibility=visibility)
    memory = QuantumMemory(num_qubits=2, t1_s=t1_s, t2_s=t2_s)
    return repeater_chain(nodes, link_length_km, physics, model=model, memory=memory,
                          swap_success_probability=swap_success_probability, max_pairs=max_pairs,
                          application=application)


def summarise_chain(states: dict[str, dict], until_ps: int) -> dict:
    """Pairs delivered between the chain's ends and what the end nodes did with them:
    teleportation fidelity and BBM92 error rates and key rate as measured by the protocols."""
    ends = sorted((name for name, s in states.items() if "deliveries" in s and len(s["sides"]) == 1),
                  key=lambda n: int(n[1:]))
    deliveries = states[ends[0]]["deliveries"]
    receiver = states[ends[-1]]["receiver"]
    n = len(deliveries)
    seconds = until_ps / 1e12
    out = {"pairs_delivered": n, "rate_hz": n / seconds}
    if n:
        out["mean_fidelity"] = sum(d[1] for d in deliveries) / n
    if receiver.teleport_fidelities:
        out["teleportations"] = len(receiver.teleport_fidelities)
        out["teleportation_fidelity"] = sum(receiver.teleport_fidelities) / len(receiver.teleport_fidelities)
    if receiver.sifted["Z"] and receiver.sifted["X"]:
        key = KeyRate.from_bbm92(receiver, until_ps)
        out.update({"bbm92_sifted_bits": key.sifted_bits, "bbm92_qber_z": key.qber_by_basis["Z"],
                    "bbm92_qber_x": key.qber_by_basis["X"], "bbm92_key_fraction": key.key_fraction,
                    "bbm92_key_rate_bps": key.rate_bps})
    return out
