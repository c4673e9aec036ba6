"""Generated sequence-to-sequence and sequence-classification tasks.

- ``reversal_task`` and ``sorting_task``: output the input symbols reversed or sorted
  (length-20 sequences over 10 symbols by default); train and test sequences are distinct.
- ``date_task``: a small translation task. Each source is a date written in one of
  ``DATE_FORMATS`` ("21 Nov 2026", "November 21, 2026", "21/11/2026", "2026.11.21", ...);
  the target is the ISO date "2026-11-21". The test dates are a held-out set of calendar
  dates never seen in training (in any format).
- ``classification_task``: a labelled token sequence (is symbol A more frequent than
  symbol B; or is the count of symbol A odd).

Token conventions (``Vocabulary``): id 0 is PAD, 1 is BOS, 2 is EOS, the symbols follow.
Sources are right-padded with PAD; targets are ``BOS y_1 .. y_T EOS`` then PAD, so teacher
forcing feeds ``tgt[:, :-1]`` and predicts ``tgt[:, 1:]``.

Every task also gives, per output step, the source positions that step should look at
(``Seq2SeqData.alignment``), to score cross-attention. For dates: each target digit points
at the source digit that produced it; when the source field is written differently (month
names, a day without its leading zero), at the whole field.

Randomness comes from the ``numpy.random.Generator`` (or seed) passed in.
"""

import datetime
from dataclasses import dataclass

import numpy as np

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Field codes: d (day, no leading zero), dd, mm, Mon (3 letters), Month, yyyy; the rest is
# literal text. No format is ambiguous (no mm/dd next to dd/mm).
DATE_FORMATS = {
    "d Mon yyyy": ("d", " ", "Mon", " ", "yyyy"),
    "d Month yyyy": ("d", " ", "Month", " ", "yyyy"),
    "Month d, yyyy": ("Month", " ", "d", ", ", "yyyy"),
    "Mon d yyyy": ("Mon", " ", "d", " ", "yyyy"),
    "dd/mm/yyyy": ("dd", "/", "mm", "/", "yyyy"),
    "dd.mm.yyyy": ("dd", ".", "mm", ".", "yyyy"),
    "yyyy.mm.dd": ("yyyy", ".", "mm", ".", "dd"),
    "dd-Mon-yyyy": ("dd", "-", "Mon", "-", "yyyy"),
}
_FIELD = {"d": "day", "dd": "day", "mm": "month", "Mon": "month", "Month": "month"}
_FIELD["yyyy"] = "year"
ISO_FIELDS = (("year", 0, 4), ("month", 5, 2), ("day", 8, 2))  # (field, start, digits)
SYMBOL_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


class Vocabulary:
    """Token ids for a list of symbols, after the specials PAD = 0, BOS = 1, EOS = 2.

    Args:
        symbols: the symbols (strings, usually single characters), in id order from 3.

    Attributes:
        tokens: every token, id order (specials first). pad_id, bos_id, eos_id.
    """

    pad_id, bos_id, eos_id = PAD, BOS, EOS

    def __init__(self, symbols):
        symbols = list(symbols)
        if len(set(symbols)) != len(symbols) or set(symbols) & set(SPECIALS):
            raise ValueError(f"vocabulary symbols must be distinct and not specials, got {symbols}")
        self.tokens = list(SPECIALS) + symbols
        self.index = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, symbols, bos: bool = False, eos: bool = False) -> list:
        """Ids of ``symbols`` (a string is read character by character), framed by BOS/EOS."""
        try:
            ids = [self.index[s] for s in symbols]
        except KeyError as error:
            raise ValueError(
                f"symbol {error.args[0]!r} is not in the vocabulary {self.tokens[3:]}"
            ) from None
        return [BOS] * bos + ids + [EOS] * eos

    def decode(self, ids, sep: str = "") -> str:
        """The symbols of ``ids`` joined by ``sep``: PAD and BOS skipped, stopping at EOS."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.tokens[i])
        return sep.join(out)

    def encode_batch(self, sequences, bos=False, eos=False, length=None) -> np.ndarray:
        """(N, length) int64 ids, right-padded with PAD (length: the longest by default)."""
        rows = [self.encode(s, bos, eos) for s in sequences]
        longest = max((len(r) for r in rows), default=0)
        length = longest if length is None else int(length)
        if longest > length:
            raise ValueError(f"a sequence has {longest} tokens, more than length={length}")
        out = np.full((len(rows), length), PAD, np.int64)
        for n, row in enumerate(rows):
            out[n, : len(row)] = row
        return out

    def decode_batch(self, ids, sep: str = "") -> list:
        """``decode`` of every row of a (N, T) id array."""
        return [self.decode(row, sep) for row in np.asarray(ids)]


@dataclass
class Seq2SeqData:
    """Source/target pairs of a sequence-to-sequence task.

    Attributes:
        src: (N, S) int64 source ids, right-padded with PAD.
        tgt: (N, T + 2) int64 target ids: BOS, the T target symbols, EOS, then PAD.
        src_vocab, tgt_vocab: the Vocabularies.
        alignment: (N, T + 1, S) bool, step t of ``tgt_out`` (the symbol predicted after
            reading ``tgt_in[:, :t + 1]``) -> the source positions that produced it (none
            for EOS, for separators, or where no single position does).
    """

    src: np.ndarray
    tgt: np.ndarray
    src_vocab: Vocabulary
    tgt_vocab: Vocabulary
    alignment: np.ndarray

    def __len__(self) -> int:
        return len(self.src)

    @property
    def tgt_in(self) -> np.ndarray:
        """The decoder input under teacher forcing: ``tgt[:, :-1]``."""
        return self.tgt[:, :-1]

    @property
    def tgt_out(self) -> np.ndarray:
        """What the decoder predicts: ``tgt[:, 1:]``."""
        return self.tgt[:, 1:]

    def source_texts(self) -> list:
        return self.src_vocab.decode_batch(self.src)

    def target_texts(self) -> list:
        return self.tgt_vocab.decode_batch(self.tgt)

    def subset(self, index) -> "Seq2SeqData":
        """The pairs at ``index`` (slice, ints or a boolean mask)."""
        return Seq2SeqData(
            self.src[index], self.tgt[index], self.src_vocab, self.tgt_vocab, self.alignment[index]
        )


def symbol_vocabulary(num_tokens: int = 10) -> Vocabulary:
    """The symbols '0'..'9', then 'a'..'z': ``num_tokens`` of them (2 to 36)."""
    if not 2 <= num_tokens <= len(SYMBOL_CHARS):
        raise ValueError(f"num_tokens must be in [2, {len(SYMBOL_CHARS)}], got {num_tokens}")
    return Vocabulary(SYMBOL_CHARS[:num_tokens])


# ---- reversal and sorting ------------------------------------------------------------------


def reversal_task(n_train, n_test, length=20, num_tokens=10, rng=None, min_length=None):
    """Reverse a sequence of symbols: "3141" -> "1413".

    Args:
        n_train, n_test: numbers of pairs; no test sequence occurs in the training set.
        length: the (longest) sequence length. min_length: draw lengths uniformly from
            [min_length, length] (default: all sequences have ``length`` symbols).
        num_tokens: symbols in the vocabulary (shared by source and target).
        rng: Generator or seed.

    Returns:
        (train, test) Seq2SeqData; the alignment of output t is source position L - 1 - t.
    """
    return _symbol_task("reverse", n_train, n_test, length, num_tokens, rng, min_length)


def sorting_task(n_train, n_test, length=20, num_tokens=10, rng=None, min_length=None):
    """Sort a sequence of symbols: "3141" -> "1134". Arguments as ``reversal_task``; the
    alignment of an output symbol is every source position holding that symbol."""
    return _symbol_task("sort", n_train, n_test, length, num_tokens, rng, min_length)


def _symbol_task(kind, n_train, n_test, length, num_tokens, rng, min_length):
    rng = np.random.default_rng(rng)
    vocab = symbol_vocabulary(num_tokens)
    min_length = length if min_length is None else int(min_length)
    if not 1 <= min_length <= length:
        raise ValueError(f"need 1 <= min_length <= length, got {min_length} and {length}")
    src = unique_sequences(n_train + n_test, length, num_tokens, rng, min_length) + 3
    src[src == 3 + num_tokens] = PAD  # drawn "past the end" marks padding
    lengths = (src != PAD).sum(axis=1)
    out = np.full_like(src, PAD)
    for n, (row, size) in enumerate(zip(src, lengths, strict=True)):
        out[n, :size] = row[:size][::-1] if kind == "reverse" else np.sort(row[:size])
    tgt = np.full((len(src), length + 2), PAD, np.int64)
    tgt[:, 0] = BOS
    tgt[:, 1 : length + 1] = out
    tgt[np.arange(len(src)), lengths + 1] = EOS
    alignment = _symbol_alignment(kind, src, tgt[:, 1:], lengths)
    data = Seq2SeqData(src, tgt, vocab, vocab, alignment)
    return data.subset(slice(0, n_train)), data.subset(slice(n_train, None))


def unique_sequences(n, length, num_tokens, rng, min_length=None) -> np.ndarray:
    """``n`` distinct random sequences as an (n, length) int64 array of values in
    [0, num_tokens), right-padded with the value ``num_tokens`` when lengths vary (uniform
    in [min_length, length])."""
    min_length = length if min_length is None else min_length
    capacity = sum(float(num_tokens) ** k for k in range(min_length, length + 1))
    if n > capacity:
        raise ValueError(
            f"cannot draw {n} distinct sequences: only {int(capacity)} exist with lengths "
            f"{min_length}..{length} over {num_tokens} symbols"
        )
    rows = np.empty((0, length), np.int64)
    while len(rows) < n:
        draw = rng.integers(0, num_tokens, (2 * (n - len(rows)) + 8, length))
        sizes = rng.integers(min_length, length + 1, len(draw))
        draw[np.arange(length) >= sizes[:, None]] = num_tokens
        rows = np.concatenate([rows, draw])
        _, first = np.unique(rows, axis=0, return_index=True)
        rows = rows[np.sort(first)]  # keep draw order: the sample stays uniform
    return rows[:n]


def _symbol_alignment(kind, src, tgt_out, lengths) -> np.ndarray:
    n, s = src.shape
    alignment = np.zeros((n, tgt_out.shape[1], s), bool)
    if kind == "sort":
        alignment = (tgt_out[:, :, None] == src[:, None, :]) & (src[:, None, :] != PAD)
        return alignment & (tgt_out[:, :, None] > EOS)
    steps = np.arange(tgt_out.shape[1])
    rows, cols = np.nonzero(steps[None, :] < lengths[:, None])
    alignment[rows, cols, lengths[rows] - 1 - cols] = True
    return alignment


# ---- dates ---------------------------------------------------------------------------------


def date_vocabularies():
    """(source, target) Vocabularies: every character the formats can write; digits and '-'."""
    chars = set("".join(MONTHS)) | set("0123456789") | set("".join(_literals()))
    return Vocabulary(sorted(chars)), Vocabulary("0123456789-")


def _literals():
    return [p for parts in DATE_FORMATS.values() for p in parts if p not in _FIELD]


def format_date(date: datetime.date, fmt: str):
    """``date`` written in format ``fmt`` (a key of DATE_FORMATS).

    Returns:
        (text, spans): spans maps 'day', 'month', 'year' to (start, text) in ``text``.
    """
    if fmt not in DATE_FORMATS:
        raise ValueError(f"unknown date format {fmt!r}; choose one of {list(DATE_FORMATS)}")
    values = {
        "d": str(date.day),
        "dd": f"{date.day:02d}",
        "mm": f"{date.month:02d}",
        "Mon": MONTHS[date.month - 1][:3],
        "Month": MONTHS[date.month - 1],
        "yyyy": f"{date.year:04d}",
    }
    text, spans = "", {}
    for part in DATE_FORMATS[fmt]:
        piece = values.get(part, part)
        if part in _FIELD:
            spans[_FIELD[part]] = (len(text), piece)
        text += piece
    return text, spans


def date_alignment(spans: dict, src_length: int) -> np.ndarray:
    """(11, src_length) bool: for each step of "yyyy-mm-dd" + EOS, the source positions of
    the digit that produced it; a field written with other characters or another number of
    digits (a month name, a day without its leading zero) aligns to all of its positions."""
    alignment = np.zeros((11, src_length), bool)
    for field, start, digits in ISO_FIELDS:
        src_start, text = spans[field]
        for k in range(digits):
            if text.isdigit() and len(text) == digits:
                alignment[start + k, src_start + k] = True
            else:
                alignment[start + k, src_start : src_start + len(text)] = True
    return alignment


def date_task(n_train, n_test, rng=None, held_out=0.1, years=(1950, 2049), formats=None):
    """Date normalisation: "21 Nov 2026", "November 21, 2026", ... -> "2026-11-21".

    Args:
        n_train, n_test: numbers of pairs, each a uniform (date, format) draw.
        rng: Generator or seed.
        held_out: fraction of the calendar dates reserved for the test set: no test date
            appears in training, in any format.
        years: (first, last) year of the dates, inclusive.
        formats: keys of DATE_FORMATS to use (default: all).

    Returns:
        (train, test) Seq2SeqData; sources padded to the longest in each set.
    """
    rng = np.random.default_rng(rng)
    formats = list(formats or DATE_FORMATS)
    first = datetime.date(years[0], 1, 1).toordinal()
    days = np.arange(first, datetime.date(years[1], 12, 31).toordinal() + 1)
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be a fraction in (0, 1), got {held_out}")
    days = rng.permutation(days)
    cut = int(round(held_out * len(days)))
    test = _date_pairs(days[:cut], n_test, formats, rng)
    return _date_pairs(days[cut:], n_train, formats, rng), test


def _date_pairs(days, n, formats, rng) -> Seq2SeqData:
    src_vocab, tgt_vocab = date_vocabularies()
    picked = rng.choice(days, n)
    styles = rng.integers(0, len(formats), n)
    texts, spans, targets = [], [], []
    for ordinal, style in zip(picked.tolist(), styles.tolist(), strict=True):
        date = datetime.date.fromordinal(ordinal)
        text, span = format_date(date, formats[style])
        texts.append(text)
        spans.append(span)
        targets.append(date.isoformat())
    src = src_vocab.encode_batch(texts)
    alignment = np.stack([date_alignment(s, src.shape[1]) for s in spans])
    tgt = tgt_vocab.encode_batch(targets, bos=True, eos=True)
    return Seq2SeqData(src, tgt, src_vocab, tgt_vocab, alignment)


# ---- sequence classification ---------------------------------------------------------------


def classification_task(n, length=20, num_tokens=10, kind="count", rng=None):
    """A labelled token-sequence task.

    Args:
        n: number of sequences. length, num_tokens: as ``reversal_task``.
        kind: 'count': label 1 when symbol '0' occurs more often than symbol '1' (sequences
            where they tie are redrawn, so the classes are balanced); 'parity': label 1 when
            symbol '0' occurs an odd number of times.
        rng: Generator or seed.

    Returns:
        (x (n, length) int64 token ids, y (n,) int64 labels, the Vocabulary).
    """
    if kind not in ("count", "parity"):
        raise ValueError(f"kind must be 'count' or 'parity', got {kind!r}")
    rng = np.random.default_rng(rng)
    vocab = symbol_vocabulary(num_tokens)
    rows = np.empty((0, length), np.int64)
    while len(rows) < n:
        draw = rng.integers(0, num_tokens, (n, length))
        if kind == "count":
            draw = draw[(draw == 0).sum(axis=1) != (draw == 1).sum(axis=1)]
        rows = np.concatenate([rows, draw])
    rows = rows[:n]
    count_a, count_b = (rows == 0).sum(axis=1), (rows == 1).sum(axis=1)
    y = (count_a > count_b) if kind == "count" else (count_a % 2 == 1)
    return rows + 3, y.astype(np.int64), vocab
