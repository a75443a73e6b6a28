"""msgpack encodings: cross-shard message batches and canonical bytes for digests.

Batch schema (version 1), one msgpack array per (window, source shard,
destination shard)::

    [1, window, [type_name, ...], [[dst, time_ps, src, seq, type_index, [field, ...]], ...]]

``dst`` and ``src`` are actor indices (the order actors were added to the
network), ``time_ps`` the delivery time, ``seq`` the sender's sequence number
and ``type_index`` a position in the batch's table of message type names
(``module.QualName``).  Field values are msgpack scalars and arrays; a nested
message is the extension type 1 holding ``[type_name, [field, ...]]``.  Arrays
decode as tuples, which is why messages hold tuples and never lists.  No
payload is ever pickled.
"""

from __future__ import annotations

import collections
import enum
from typing import Iterable

import msgpack

from .errors import PayloadError
from .messages import Message, _memo, message_class

__all__ = ["encode_batch", "decode_batch", "canonical_bytes", "record_fields", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_EXT_MESSAGE = 1
_ENCODED: dict[int, tuple] = {}  # id -> (message, its encoding): nested frozen messages, encoded once
_CANONICAL: dict[int, tuple] = {}  # id -> (frozen record, what stands for it), for digests of state


def _encode_message(obj: Message) -> msgpack.ExtType:
    return msgpack.ExtType(_EXT_MESSAGE, msgpack.packb([obj._qactors_name, obj._qactors_getter(obj)],
                                                       default=_default))


def _default(obj):
    if isinstance(obj, Message):  # frozen: a record seen before (pair records travel a lot) is encoded once
        return _memo(_ENCODED, obj, _encode_message)
    raise PayloadError(f"cannot encode a value of type {type(obj).__qualname__} in a message batch: {obj!r:.60}")


def _ext_hook(code, data):
    if code != _EXT_MESSAGE:
        raise PayloadError(f"unknown msgpack extension type {code} in a message batch (schema {SCHEMA_VERSION})")
    name, fields = msgpack.unpackb(data, use_list=False, ext_hook=_ext_hook)
    return message_class(name)(*fields)


def encode_batch(window: int, events: Iterable[tuple]) -> bytes:
    """Encode ``(dst, time_ps, src, seq, message)`` tuples as one batch."""
    names: dict[str, int] = {}
    rows = []
    for dst, t, src, seq, msg in events:
        name = msg._qactors_name
        ti = names.get(name)
        if ti is None:
            ti = names[name] = len(names)
        rows.append((dst, t, src, seq, ti, msg._qactors_getter(msg)))
    return msgpack.packb((SCHEMA_VERSION, window, tuple(names), rows), default=_default)


def decode_batch(data: bytes) -> tuple[int, list[tuple]]:
    """Decode a batch into its window number and ``(time_ps, dst, src, seq, message)`` heap entries."""
    version, window, names, rows = msgpack.unpackb(data, use_list=False, ext_hook=_ext_hook)
    if version != SCHEMA_VERSION:
        raise PayloadError(f"message batch has schema version {version}; this qactors reads {SCHEMA_VERSION}")
    classes = [message_class(n) for n in names]
    return window, [(t, dst, src, seq, classes[ti](*fields)) for dst, t, src, seq, ti, fields in rows]


def _canon_message(obj: Message) -> list:
    return ["__msg__", obj._qactors_name, obj._qactors_getter(obj)]


def record_fields(obj) -> dict:
    """A record's fields by name: its instance dict, or, for a class with ``__slots__`` and no dict,
    its slots in declaration order (base classes' first), so a record encodes alike either way when
    its slots are declared in the order its ``__init__`` used to set them."""
    fields = getattr(obj, "__dict__", None)
    if fields is not None:
        return fields
    names = _SLOT_NAMES.get(type(obj))
    if names is None:
        names = _SLOT_NAMES[type(obj)] = tuple(
            n for k in reversed(type(obj).__mro__) for n in k.__dict__.get("__slots__", ())
            if n not in ("__dict__", "__weakref__"))
    return {n: getattr(obj, n) for n in names}


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def _canon_object(obj) -> list:
    t = type(obj)
    return ["__obj__", f"{t.__module__}.{t.__qualname__}", record_fields(obj)]


def _canon_default(obj):
    """msgpack's hook for what it cannot pack itself (it walks lists, tuples, dicts and scalars, and
    their subclasses, in C): sets sorted by their elements' encodings (a set of strings iterates
    in a per-process hash order), messages and frozen records mapped once while remembered, enums
    by name, numpy values by dtype, shape and bytes, other objects by class name and attributes."""
    t = type(obj)
    if isinstance(obj, Message):
        return _memo(_CANONICAL, obj, _canon_message)
    if isinstance(obj, int):  # beyond 64 bits
        return ["__bigint__", str(obj)]
    if isinstance(obj, (set, frozenset)):
        return ["__set__", sorted(obj, key=_packb_canon)]
    if isinstance(obj, enum.Enum):
        return ["__enum__", f"{t.__module__}.{t.__qualname__}", obj.name]
    if isinstance(obj, collections.deque):
        return ["__seq__", "collections.deque", list(obj)]
    if t.__module__ == "numpy":
        import numpy as np
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                return ["__ndarray__", "object", list(obj.shape), obj.tolist()]
            return ["__ndarray__", str(obj.dtype), list(obj.shape), np.ascontiguousarray(obj).tobytes()]
        if isinstance(obj, np.generic):
            return obj.item()
    if (hasattr(obj, "__dict__") or hasattr(t, "__slots__")) and not callable(obj):
        params = getattr(t, "__dataclass_params__", None)
        if params is not None and params.frozen:
            return _memo(_CANONICAL, obj, _canon_object)
        return _canon_object(obj)
    name = f"{t.__module__}.{t.__qualname__}"
    raise PayloadError(f"cannot encode a value of type {name} for a digest: {obj!r:.60}", value_type=name)


def _packb_canon(obj) -> bytes:
    return msgpack.packb(obj, default=_canon_default)


def canonical_bytes(obj) -> bytes:
    """Encode ``obj`` (plain data, numpy arrays, sets, messages) to bytes that are
    identical in every process that holds an equal value.

    msgpack walks the containers itself and calls back only for what it cannot pack (sets,
    records, numpy values, other objects, integers beyond 64 bits)."""
    return msgpack.packb(obj, default=_canon_default)
