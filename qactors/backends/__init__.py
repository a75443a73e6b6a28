"""Backends: where and how the actors of a network run.

``local`` needs no Ray; the Ray backends import Ray only when asked for.
"""

from __future__ import annotations

from ..core.errors import ConfigurationError
from .base import Backend, RunResult
from .local import LocalBackend
from .partition import Partition, partition, per_actor_partition

__all__ = ["Backend", "RunResult", "LocalBackend", "RayBackend", "make_backend",
           "Partition", "partition", "per_actor_partition", "BACKEND_NAMES"]

BACKEND_NAMES = ("local", "ray", "ray:K", "ray-per-actor")


def __getattr__(name):
    if name == "RayBackend":
        from .ray_backend import RayBackend
        return RayBackend
    raise AttributeError(name)


def make_backend(spec) -> Backend:
    """A backend from a name: ``"local"``, ``"ray"`` (2 shards), ``"ray:K"`` or
    ``"ray-per-actor"``; an object with a ``run`` method is returned as is."""
    if hasattr(spec, "run"):
        return spec
    if spec == "local":
        return LocalBackend()
    if isinstance(spec, str):
        from .ray_backend import RayBackend
        if spec == "ray":
            return RayBackend(shards=2)
        if spec == "ray-per-actor":
            return RayBackend(per_actor=True)
        if spec.startswith("ray:") and spec[4:].isdigit() and int(spec[4:]) >= 1:
            return RayBackend(shards=int(spec[4:]))
    raise ConfigurationError(
        f"backend {spec!r} is not known; allowed: {', '.join(BACKEND_NAMES)} (K a positive integer) "
        f"or a backend object", field="backend", value=spec)
