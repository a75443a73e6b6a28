"""The README's minimal example: two actors ping-ponging over a 20 km fibre link.

Run it with ``python examples/quickstart.py`` (add ``ray`` as an argument to run
the same network on two Ray shards and compare the digests).
"""

import sys

import qactors
from qactors import US, Actor, Message, Network, handler, message


@message
class Ping(Message):
    hops: int


class Player(Actor):
    def __init__(self, actor_id: str, peer: str, serve: bool = False):
        super().__init__(actor_id)
        self.peer, self.serve, self.returned = peer, serve, 0

    def on_start(self) -> None:
        if self.serve:
            self.send(self.peer, Ping(0), delay_ps=100 * US)

    @handler(Ping)
    def on_ping(self, msg: Ping, sender: str) -> None:
        self.returned += 1
        self.send(sender, Ping(msg.hops + 1), delay_ps=100 * US)  # 20 km of fibre is ~98 us


def build() -> Network:
    net = Network()
    net.add_actor(Player("alice", "bob", serve=True))
    net.add_actor(Player("bob", "alice"))
    net.connect("alice", "bob", latency_ps=98 * US)
    return net


if __name__ == "__main__":
    result = qactors.run(build(), until_ps=10_000 * US, seed=1)
    print(f"{result.events} events, alice returned {result.states['alice']['returned']}, "
          f"bob returned {result.states['bob']['returned']}, digest {result.digest[:16]}")
    if sys.argv[1:] == ["ray"]:
        remote = qactors.run(build(), until_ps=10_000 * US, seed=1, backend="ray:2")
        print(f"ray with 2 shards: digest {remote.digest[:16]}, identical: {remote.digest == result.digest}")
