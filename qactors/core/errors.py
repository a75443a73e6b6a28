"""Exception types raised by the qactors runtime.

Every error names what went wrong, the offending value and what would be
accepted.  They all derive from :class:`QactorsError` and pickle with their
details intact, so an error raised inside a Ray shard reaches the driver
unchanged.
"""

from __future__ import annotations

__all__ = [
    "QactorsError",
    "ConfigurationError",
    "LatencyError",
    "UnknownActorError",
    "NoRouteError",
    "PayloadError",
    "UnhandledMessageError",
    "ActorError",
    "ShardLostError",
]


def _rebuild(cls, args, state):
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class QactorsError(Exception):
    """Base class of every error the runtime raises on purpose."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.__dict__.update(details)

    def __reduce__(self):
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ConfigurationError(QactorsError, ValueError):
    """A network, backend or run setting is invalid; raised before anything runs."""


class LatencyError(QactorsError, ValueError):
    """A latency or delay is not a positive integer number of picoseconds, or a
    message was sent faster than the modelled path between two actors allows."""


class UnknownActorError(QactorsError, KeyError):
    """A message was addressed to an actor id that the network does not contain."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class NoRouteError(QactorsError):
    """Two actors have no chain of declared links between them, so no message
    can travel from one to the other."""


class PayloadError(QactorsError, TypeError):
    """A message field holds a value that cannot cross a process boundary."""


class UnhandledMessageError(QactorsError):
    """An actor received a message type it has no handler for."""


class ActorError(QactorsError):
    """A handler (or ``on_start``) raised.  Names the actor, the message type,
    the simulated time and the original exception; ``remote_traceback`` holds
    the handler's traceback as text."""


class ShardLostError(QactorsError):
    """A shard process of a Ray run died (killed, out of memory, its node lost) more often than the
    run's restart budget allows."""
