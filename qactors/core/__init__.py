"""Core runtime: actors, typed messages, integer-picosecond time, random streams,
the network description and the event kernel every backend shares."""

from .actor import Actor, PlainData, TimerHandle, handler
from .errors import (ActorError, ConfigurationError, LatencyError, NoRouteError, PayloadError,
                     QactorsError, ShardLostError, UnhandledMessageError, UnknownActorError)
from .kernel import Kernel, combine_digests
from .messages import Message, check_payload, message, message_fields
from .network import Network
from .rng import actor_generator, shared_generator
from .time import MS, NS, PS, S, US, format_ps, to_ps

__all__ = [
    "Actor", "PlainData", "TimerHandle", "handler", "Message", "message", "message_fields", "check_payload",
    "Network", "Kernel", "combine_digests", "actor_generator", "shared_generator",
    "PS", "NS", "US", "MS", "S", "to_ps", "format_ps",
    "QactorsError", "ConfigurationError", "LatencyError", "UnknownActorError", "NoRouteError",
    "PayloadError", "UnhandledMessageError", "ActorError", "ShardLostError",
]
