"""Typed messages: one frozen, slotted dataclass per kind.

Declare a message kind with the :func:`message` decorator::

    @message
    class Herald(Message):
        pair_id: int
        success: bool

Fields may hold ``None``, ``bool``, ``int`` (signed or unsigned 64-bit),
``float``, ``str``, ``bytes``, tuples of these and other messages.  The
restriction is what lets every message cross a process boundary as msgpack
(see :mod:`qactors.core.codec`) without pickle, and decode to an equal value,
so a run gives the same answer whichever process each actor lives in.  The
check runs on every send, on every backend, so a payload that would break on
a cluster breaks on a laptop too.
"""

from __future__ import annotations

import dataclasses
import importlib
import zlib
from operator import attrgetter
from typing import Callable, TypeVar

from .errors import PayloadError

__all__ = ["Message", "message", "message_fields", "replace", "check_payload", "message_class", "registered_messages",
           "is_message_class"]

_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 64) - 1
_SCALARS = frozenset({type(None), bool, int, float, str, bytes})
ALLOWED_TYPES = "None, bool, int (64-bit), float, str, bytes, tuple of these, or a Message"

_REGISTRY: dict[str, type] = {}

T = TypeVar("T", bound=type)


class Message:
    """Base class of every message kind.  Subclass it and decorate with :func:`message`."""

    # Set (to True) on an instance once its fields were found fit to travel: messages are frozen, so
    # it stays fit, and a record nested in many messages (pair records, their noise) is checked once.
    # Not a field: equality, hashing, pickling and the wire ignore it.
    __slots__ = ("_qactors_fit",)
    _qactors_name: str = ""
    _qactors_code: int = 0  # CRC-32 of the name: the type in the kernel's digest trace
    _qactors_fields: tuple[str, ...] = ()
    _qactors_getter: Callable[["Message"], tuple] = staticmethod(lambda m: ())
    _qactors_check: Callable[["Message"], bool] = staticmethod(lambda m: True)  # its fields fit (see message)


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def message(cls: T) -> T:
    """Turn a :class:`Message` subclass into a frozen, slotted dataclass and register it.

    Raises:
        TypeError: if ``cls`` does not derive from :class:`Message`.
    """
    if not (isinstance(cls, type) and issubclass(cls, Message)):
        raise TypeError(f"@message needs a subclass of qactors.Message, got {cls!r}")
    if "__post_init__" in vars(cls):
        # decoding on another shard calls the constructor again: a __post_init__ would run twice
        raise TypeError(f"message {cls.__qualname__} defines __post_init__; messages are plain records, "
                        f"compute derived values before constructing them")
    cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
    for f in dataclasses.fields(cls):
        if not f.init or f.kw_only:
            raise TypeError(f"field {f.name!r} of message {cls.__qualname__} is init=False or keyword-only; "
                            f"message fields must be plain positional fields")
    names = tuple(f.name for f in dataclasses.fields(cls))
    if not names:
        getter = lambda m: ()  # noqa: E731
    elif len(names) == 1:
        one = attrgetter(names[0])
        getter = lambda m: (one(m),)  # noqa: E731
    else:
        getter = attrgetter(*names)
    cls._qactors_name = _type_name(cls)
    cls._qactors_code = zlib.crc32(cls._qactors_name.encode())
    cls._qactors_fields = names
    cls._qactors_getter = staticmethod(getter)
    cls._qactors_check = staticmethod(_field_check(names))
    _REGISTRY[cls._qactors_name] = cls
    return cls


def _field_check(names: tuple[str, ...]) -> Callable[[Message], bool]:
    """A function telling whether a message with fields ``names`` can travel (``_fits`` of every field),
    written out field by field: the check runs on every send, and a loop over a tuple of the fields
    costs about twice as much.  Field names are identifiers (dataclasses checks them)."""
    lines = ["def check(m):"]
    for name in names:
        lines += [f"    v = m.{name}", "    t = type(v)",
                  "    if t is int:", "        if not LO <= v <= HI: return False",
                  "    elif t not in SCALARS and not fits(v): return False"]
    lines.append("    return True")
    scope = {"LO": _INT_MIN, "HI": _INT_MAX, "SCALARS": _SCALARS, "fits": _fits}
    exec("\n".join(lines), scope)  # noqa: S102 -- the source is built above from checked identifiers only
    return scope["check"]


def message_fields(msg: Message) -> tuple:
    """The field values of ``msg`` in declaration order."""
    return msg._qactors_getter(msg)


def replace(msg: Message, **changes) -> Message:
    """A copy of ``msg`` with ``changes`` to its fields (messages are frozen; as :func:`dataclasses.replace`).

    Raises:
        TypeError: a name in ``changes`` is not a field of the message.
    """
    cls = type(msg)
    unknown = sorted(set(changes) - set(cls._qactors_fields))
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {unknown[0]!r}; its fields are {list(cls._qactors_fields)}")
    return cls(**{**dict(zip(cls._qactors_fields, cls._qactors_getter(msg))), **changes})


def registered_messages() -> dict[str, type]:
    """A copy of the name -> class table of every message kind declared in this process."""
    return dict(_REGISTRY)


def register_messages(classes) -> None:
    """Add message classes received from another process (a Ray shard gets the driver's table)."""
    for cls in classes:
        _REGISTRY[cls._qactors_name] = cls


def message_class(name: str) -> type:
    """Look up a message kind by its wire name, importing its module if needed.

    Raises:
        PayloadError: if no such message kind exists.
    """
    cls = _REGISTRY.get(name)
    if cls is None:
        module, _, qualname = name.rpartition(".")
        try:
            importlib.import_module(module)
        except ImportError:
            pass
        cls = _REGISTRY.get(name)
        if cls is None:
            raise PayloadError(
                f"unknown message type {name!r}: it was not declared with @message in this process "
                f"and its module {module!r} could not provide it", type_name=name)
    return cls


def is_message_class(cls: object) -> bool:
    """True if ``cls`` is the registered class of a @message-decorated kind."""
    return _REGISTRY.get(getattr(cls, "_qactors_name", None)) is cls


def message_class_problem(cls: object) -> str | None:
    """Why ``cls`` cannot be used as a message kind, or None if it can."""
    if is_message_class(cls):
        return None
    if not (isinstance(cls, type) and issubclass(cls, Message)):
        return f"{getattr(cls, '__name__', cls)!r} is not a Message subclass"
    if "_qactors_name" not in vars(cls):
        return (f"{cls.__qualname__} derives from a message kind but is not decorated with @message itself; "
                f"on another shard it would arrive as its parent")
    return (f"{cls.__qualname__} was redefined after this class was created (another class now holds the "
            f"wire name {cls._qactors_name!r}); re-create the message with the current class")


def check_payload(msg: object) -> None:
    """Raise :class:`PayloadError` unless ``msg`` is a message whose fields can cross processes."""
    cls = type(msg)
    if _REGISTRY.get(getattr(cls, "_qactors_name", None)) is not cls:
        problem = message_class_problem(cls)
        raise PayloadError(
            f"messages must be instances of a @message-decorated Message subclass: {problem} ({msg!r:.80})",
            value_type=cls.__name__)
    if not cls._qactors_check(msg):
        _raise_field_problem(msg)  # one field does not fit: find it and say why
    object.__setattr__(msg, "_qactors_fit", True)  # forwarded or nested later: not checked again


def _raise_field_problem(msg: Message) -> None:
    for name, v in zip(msg._qactors_fields, msg._qactors_getter(msg)):
        problem = _find_problem(v)
        if problem is not None:
            raise PayloadError(
                f"field {name!r} of message {type(msg).__name__} holds {problem}; allowed: {ALLOWED_TYPES}",
                message_type=type(msg).__name__, field=name)


# Caches of the codec (encodings of nested records, their digest forms).  Keyed by identity, holding
# the object so the id cannot be reused while the entry lives; bounded, cleared when full.
_CACHE_LIMIT = 1 << 14


def _memo(cache: dict, obj: object, fn):
    """``fn(obj)`` for an immutable ``obj``, computed once while ``cache`` remembers it."""
    hit = cache.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = fn(obj)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[id(obj)] = (obj, value)
    return value


def _nested_problem(v: Message) -> str | None:
    for item in v._qactors_getter(v):
        if _fits(item):
            continue
        p = _find_problem(item)
        if p is not None:
            return f"{p} inside a nested {type(v).__name__}"
    return None


def _fits(v: object) -> bool:
    """``_find_problem(v) is None``, without building the description: the fast path of every send."""
    t = type(v)
    if t in _SCALARS:
        return t is not int or _INT_MIN <= v <= _INT_MAX
    if t is tuple:
        for item in v:
            ti = type(item)
            if ti in _SCALARS:
                if ti is int and not _INT_MIN <= item <= _INT_MAX:
                    return False
            elif not _fits(item):
                return False
        return True
    if isinstance(v, Message):
        return _fit_message(v)
    return False


def _fit_message(v: Message) -> bool:
    """Whether ``v``'s fields can cross processes; a message found fit is marked, so it (and a record
    nested in many messages) is checked once."""
    try:
        return v._qactors_fit
    except AttributeError:
        pass
    cls = type(v)
    if _REGISTRY.get(getattr(cls, "_qactors_name", None)) is not cls or not cls._qactors_check(v):
        return False
    object.__setattr__(v, "_qactors_fit", True)
    return True


def _find_problem(v: object) -> str | None:
    t = type(v)
    if t in _SCALARS:
        if t is int and not _INT_MIN <= v <= _INT_MAX:
            return f"the integer {v}, outside the 64-bit range [{_INT_MIN}, {_INT_MAX}]"
        return None
    if t is tuple:
        for item in v:
            p = _find_problem(item)
            if p is not None:
                return f"{p} inside a tuple"
        return None
    if isinstance(v, Message) and is_message_class(type(v)):
        return _nested_problem(v)
    hint = ""
    if t is list:
        hint = " (use a tuple)"
    elif t.__module__ == "numpy":
        hint = " (convert with float(), int() or tuple())"
    return f"a value of type {t.__module__}.{t.__qualname__}{hint}: {v!r:.60}"
