import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qactors.core import Message, PayloadError, check_payload, message, message_fields
from qactors.core.codec import canonical_bytes, decode_batch, encode_batch


@message
class Herald(Message):
    pair: int
    ok: bool
    fidelity: float


@message
class Wrapper(Message):
    inner: Herald
    tag: str
    extra: tuple


@message
class Empty(Message):
    pass


@message
class Anything(Message):
    value: object


def test_messages_are_frozen_slotted_dataclasses():
    h = Herald(1, True, 0.9)
    assert dataclasses.is_dataclass(h)
    assert not hasattr(h, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.pair = 2
    assert message_fields(h) == (1, True, 0.9)
    assert message_fields(Empty()) == ()


def test_message_decorator_rejects_non_messages():
    with pytest.raises(TypeError, match="subclass of qactors.Message"):
        message(type("Plain", (), {}))


@pytest.mark.parametrize("value, needle", [
    ([1, 2], "type builtins.list (use a tuple)"),
    (np.float64(0.5), "numpy.float64 (convert with float()"),
    (1 << 70, "outside the 64-bit range"),
    ((1, {2: 3}), "builtins.dict"),
    ({"a"}, "builtins.set"),
])
def test_unserialisable_payloads_are_named(value, needle):
    with pytest.raises(PayloadError) as err:
        check_payload(Anything(value))
    text = str(err.value)
    assert "field 'value' of message Anything" in text and needle in text
    assert "allowed:" in text


def test_non_message_payload_is_rejected():
    with pytest.raises(PayloadError, match="@message-decorated"):
        check_payload({"kind": "herald"})


def test_payload_check_accepts_allowed_values():
    check_payload(Wrapper(Herald(-(1 << 63), False, float("inf")), "x", (None, b"\x00", (1.5, "s"), (1 << 64) - 1)))


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(1 << 63), (1 << 64) - 1),
                    st.floats(allow_nan=False), st.text(max_size=8), st.binary(max_size=8))
values = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.tuples(inner), max_leaves=6)


@settings(max_examples=200, deadline=None)
@given(pair=st.integers(-(1 << 63), (1 << 63) - 1), ok=st.booleans(), f=st.floats(allow_nan=False),
       tag=st.text(max_size=10), extra=st.tuples(values, values))
def test_batches_round_trip_to_equal_messages(pair, ok, f, tag, extra):
    msgs = [Herald(pair, ok, f), Wrapper(Herald(pair, ok, f), tag, extra), Empty()]
    entries = [(i + 10, 100 + i, 3, i, m) for i, m in enumerate(msgs)]
    window, decoded = decode_batch(encode_batch(7, entries))
    assert window == 7
    assert decoded == [(t, dst, src, seq, m) for dst, t, src, seq, m in entries]
    assert [type(e[4]) for e in decoded] == [Herald, Wrapper, Empty]


def test_canonical_bytes_do_not_depend_on_set_order():
    a = {"zeta", "alpha", "mid", "b"}
    b = set(sorted(a, reverse=True))
    assert canonical_bytes({"s": a}) == canonical_bytes({"s": b})
    assert canonical_bytes({"x": 1, "y": 2}) != canonical_bytes({"y": 2, "x": 1})  # dict order is state
    assert canonical_bytes(np.arange(3)) != canonical_bytes(np.arange(3, dtype=np.int32))
    assert canonical_bytes([1 << 80]) != canonical_bytes([1 << 81])


def test_undecorated_subclass_of_a_message_is_rejected():
    class Louder(Herald):
        pass
    with pytest.raises(PayloadError, match="not decorated with @message itself"):
        check_payload(Louder(1, True, 0.5))
    from qactors.core import handler
    with pytest.raises(TypeError, match="not decorated with @message itself"):
        handler(Louder)


def test_a_redefined_message_class_is_caught_at_send():
    def make():
        @message
        class Twin(Message):
            x: int
        return Twin
    old, new = make(), make()
    check_payload(new(1))
    with pytest.raises(PayloadError, match="was redefined after this class was created"):
        check_payload(old(1))


def test_messages_cannot_hide_logic_in_the_constructor():
    with pytest.raises(TypeError, match="defines __post_init__"):
        @message
        class Derived(Message):
            a: int

            def __post_init__(self):
                pass
    with pytest.raises(TypeError, match="init=False or keyword-only"):
        @message
        class Hidden(Message):
            a: int = dataclasses.field(default=0, init=False)


def test_canonical_bytes_see_inside_container_subclasses():
    from collections import Counter, OrderedDict, deque, namedtuple
    assert canonical_bytes(Counter("ab")) != canonical_bytes(Counter("aab"))
    assert canonical_bytes(deque([1, 2])) != canonical_bytes(deque([1]))
    assert canonical_bytes(OrderedDict(a=1)) != canonical_bytes(OrderedDict(a=2))
    point = namedtuple("Point", "x y")
    assert canonical_bytes(point(1, 2)) != canonical_bytes(point(1, 3))
    objects = np.array([1, "a"], dtype=object)
    assert canonical_bytes(objects) == canonical_bytes(np.array([1, "a"], dtype=object))  # no pointers hashed
    with pytest.raises(PayloadError, match="cannot encode a value of type builtins.function"):
        canonical_bytes({"f": lambda: 0})


def test_a_message_found_fit_is_marked_but_stays_an_equal_plain_record():
    """The check marks a message it passed (so a record nested in many messages is checked once);
    the mark is not a field: equality, hashing, pickling, the wire and digests ignore it, and a
    new message holding a bad value next to a marked record still fails."""
    import pickle
    inner = Herald(3, True, 0.5)
    outer = Wrapper(inner, "t", (1, 2.0))
    check_payload(outer)
    assert outer._qactors_fit and inner._qactors_fit
    twin = Wrapper(Herald(3, True, 0.5), "t", (1, 2.0))
    assert outer == twin and hash(outer) == hash(twin) and canonical_bytes(outer) == canonical_bytes(twin)
    back = pickle.loads(pickle.dumps(outer))
    assert back == outer and not hasattr(back, "_qactors_fit")  # checked again wherever it lands
    assert decode_batch(encode_batch(0, [(1, 5, 2, 1, outer)]))[1][0][4] == outer
    with pytest.raises(PayloadError, match=r"field 'extra' of message Wrapper holds .*list"):
        check_payload(Wrapper(inner, "t", (1, [2])))
