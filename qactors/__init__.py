"""qactors: a quantum-internet simulator built from actors that talk over
latency-modelled messages, running in one process or on a Ray cluster with
identical results.

>>> import qactors
>>> from qactors import Actor, Message, Network, handler, message, US
>>> @message
... class Hello(Message):
...     n: int
>>> class Echo(Actor):
...     def __init__(self, actor_id, peer=None):
...         super().__init__(actor_id)
...         self.peer, self.heard = peer, 0
...     def on_start(self):
...         if self.peer:
...             self.send(self.peer, Hello(1), delay_ps=5 * US)
...     @handler(Hello)
...     def on_hello(self, msg, sender):
...         self.heard += msg.n
...         self.send(sender, Hello(msg.n + 1), delay_ps=5 * US)
>>> net = Network()
>>> _ = net.add_actor(Echo("a", peer="b")); _ = net.add_actor(Echo("b"))
>>> net.connect("a", "b", latency_ps=5 * US)
>>> result = qactors.run(net, until_ps=50 * US, seed=1)
>>> result.events, result.states["a"]["heard"] + result.states["b"]["heard"]
(9, 45)
"""

from .backends import LocalBackend, RunResult, make_backend
from .core import *  # noqa: F401,F403  (re-export the public core API)
from .core import __all__ as _core_all
from .backends.checkpoint import Checkpoint, CheckpointPlan, read_checkpoint
from .simulation import fork, resume, run

__version__ = "0.1.0"

__all__ = ["run", "resume", "fork", "Checkpoint", "CheckpointPlan", "read_checkpoint", "LocalBackend", "RayBackend", "RunResult", "make_backend", "__version__", *_core_all]


def __getattr__(name):
    if name == "RayBackend":
        from .backends.ray_backend import RayBackend
        return RayBackend
    raise AttributeError(name)
