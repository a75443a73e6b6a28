"""Random streams that do not depend on where an actor runs.

* Each actor draws from its own stream, derived from ``(seed, actor id)`` with
  :class:`numpy.random.SeedSequence`.  No global generator is ever used, so
  moving an actor to another process or shard never changes what it draws.
* Values two actors must agree on without talking (which Bell state a
  purification round lands in, a correlated measurement outcome) come from a
  counter-based generator keyed by ``(seed, key parts...)``: both ends build
  :func:`shared_generator` with the same key and read the same numbers.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .errors import ConfigurationError

__all__ = ["actor_generator", "shared_generator", "check_seed"]


def check_seed(seed: object) -> int:
    """Return ``seed`` if it is a non-negative int below 2**63, else raise ConfigurationError."""
    if type(seed) is not int or not 0 <= seed < (1 << 63):
        raise ConfigurationError(
            f"seed must be an integer in [0, 2**63), got {seed!r}", field="seed", value=seed)
    return seed


def _key_words(parts: tuple) -> list[int]:
    h = hashlib.blake2b(digest_size=32, person=b"qactors-key")
    for p in parts:
        if type(p) is str:
            h.update(b"s" + len(p.encode()).to_bytes(4, "little") + p.encode())
        elif type(p) is int:
            b = str(p).encode()
            h.update(b"i" + len(b).to_bytes(4, "little") + b)
        else:
            raise TypeError(f"random-stream key parts must be str or int, got {type(p).__name__} ({p!r:.40})")
    d = h.digest()
    return [int.from_bytes(d[i:i + 8], "little") for i in range(0, 32, 8)]


class _StateWords(ISeedSequence):
    """Hands a bit generator the words its SeedSequence would give, and keeps nothing.

    A PCG64 keeps the SeedSequence it was seeded from (for spawning, which actors never do):
    about 600 bytes per actor, half of what each actor's stream costs.  Seeding through this
    one shared, emptied-after-use object gives the very same stream without that."""

    __slots__ = ("words",)

    def __init__(self) -> None:
        self.words = None

    def generate_state(self, n_words, dtype=np.uint32):
        words, self.words = self.words, None
        if words is None or n_words != len(words) or np.dtype(dtype) != words.dtype:
            raise RuntimeError("qactors.core.rng: a bit generator asked for state it was not prepared for")
        return words


_WORDS = _StateWords()


def actor_generator(seed: int, actor_id: str) -> np.random.Generator:
    """The private random stream of actor ``actor_id`` in a run with ``seed``: PCG64 seeded by
    ``SeedSequence([seed, *key words of ("actor", actor_id)])``."""
    _WORDS.words = np.random.SeedSequence([seed, *_key_words(("actor", actor_id))]).generate_state(4, np.uint64)
    return np.random.Generator(np.random.PCG64(_WORDS))


def shared_generator(seed: int, *key: str | int) -> np.random.Generator:
    """A counter-based generator (Philox) keyed by ``(seed, *key)``.

    Two actors that call this with equal arguments get generators that
    produce identical sequences, wherever they run.  Use a key that names the
    shared object and the purpose, e.g. ``("pair", 17, "purify", 2)``.

    >>> a = shared_generator(7, "pair", 3, "measure").random()
    >>> b = shared_generator(7, "pair", 3, "measure").random()
    >>> a == b
    True
    """
    words = _key_words(("shared", seed, *key))
    return np.random.Generator(np.random.Philox(key=np.array(words[:2], dtype=np.uint64)))
