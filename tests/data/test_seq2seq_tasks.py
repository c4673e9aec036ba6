"""Sequence-to-sequence tasks: the token vocabulary, reversal and sorting pairs, the date
normalisation task (targets, held-out dates, alignment to the source) and the sequence
classification task."""

import datetime

import numpy as np
import pytest

from nnlab.data.seq2seq_tasks import (
    BOS,
    DATE_FORMATS,
    EOS,
    MONTHS,
    PAD,
    Vocabulary,
    classification_task,
    date_alignment,
    date_task,
    format_date,
    reversal_task,
    sorting_task,
    unique_sequences,
)

# strptime twins of DATE_FORMATS (C locale month names), an independent parser of the sources
STRPTIME = {
    "d Mon yyyy": "%d %b %Y",
    "d Month yyyy": "%d %B %Y",
    "Month d, yyyy": "%B %d, %Y",
    "Mon d yyyy": "%b %d %Y",
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
    "yyyy.mm.dd": "%Y.%m.%d",
    "dd-Mon-yyyy": "%d-%b-%Y",
}

# ---- vocabulary ---------------------------------------------------------------------------


def test_vocabulary_puts_specials_first_and_round_trips():
    vocab = Vocabulary("abc")
    assert vocab.tokens == ["<pad>", "<bos>", "<eos>", "a", "b", "c"] and len(vocab) == 6
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id) == (PAD, BOS, EOS) == (0, 1, 2)
    assert vocab.encode("cab", bos=True, eos=True) == [1, 5, 3, 4, 2]
    assert vocab.decode([1, 5, 3, 4, 2, 3, 3]) == "cab"  # stops at EOS
    assert vocab.decode([5, 0, 3]) == "ca"  # PAD skipped
    assert vocab.decode([5, 3], sep=" ") == "c a"


def test_vocabulary_batches_are_right_padded():
    vocab = Vocabulary("ab")
    ids = vocab.encode_batch(["ab", "b", ""], eos=True)
    np.testing.assert_array_equal(ids, [[3, 4, 2], [4, 2, 0], [2, 0, 0]])
    assert ids.dtype == np.int64
    assert vocab.decode_batch(ids) == ["ab", "b", ""]
    assert vocab.encode_batch(["a"], length=4).tolist() == [[3, 0, 0, 0]]
    with pytest.raises(ValueError, match="3 tokens, more than length=2"):
        vocab.encode_batch(["aba"], length=2)


def test_vocabulary_rejects_unknown_and_duplicate_symbols():
    with pytest.raises(ValueError, match=r"symbol 'z' is not in the vocabulary \['a', 'b'\]"):
        Vocabulary("ab").encode("az")
    with pytest.raises(ValueError, match="distinct"):
        Vocabulary("aa")
    with pytest.raises(ValueError, match="not specials"):
        Vocabulary(["<eos>"])


# ---- reversal and sorting -----------------------------------------------------------------


def test_reversal_targets_are_the_reversed_sources_framed_by_bos_eos():
    train, test = reversal_task(300, 100, length=20, num_tokens=10, rng=0)
    assert train.src.shape == (300, 20) and train.tgt.shape == (300, 22)
    assert test.src.shape == (100, 20)
    assert train.src.min() >= 3 and train.src.max() <= 12  # ten symbols after the specials
    np.testing.assert_array_equal(train.tgt[:, 0], BOS)
    np.testing.assert_array_equal(train.tgt[:, 21], EOS)
    np.testing.assert_array_equal(train.tgt[:, 1:21], train.src[:, ::-1])
    assert [t[::-1] for t in test.source_texts()] == test.target_texts()
    np.testing.assert_array_equal(train.tgt_in, train.tgt[:, :-1])
    np.testing.assert_array_equal(train.tgt_out, train.tgt[:, 1:])


def test_symbol_tasks_are_seeded_and_test_sequences_are_unseen():
    train, test = reversal_task(2000, 1000, length=5, num_tokens=6, rng=3)
    again, _ = reversal_task(2000, 1000, length=5, num_tokens=6, rng=3)
    np.testing.assert_array_equal(train.src, again.src)
    seen = {tuple(row) for row in train.src}
    assert not any(tuple(row) in seen for row in test.src)
    assert len(seen) == 2000  # distinct within the training set too (of 6^5 = 7776)


def test_reversal_alignment_points_at_the_mirrored_source_position():
    train, _ = reversal_task(50, 1, length=7, num_tokens=5, rng=1, min_length=2)
    lengths = (train.src != PAD).sum(axis=1)
    assert set(lengths.tolist()) > {2, 7}  # lengths vary, sources right-padded
    for src, out, align, n in zip(train.src, train.tgt_out, train.alignment, lengths, strict=True):
        assert out[:n].tolist() == src[:n][::-1].tolist() and out[n] == EOS
        assert (src[n:] == PAD).all()
        steps, positions = np.nonzero(align)
        np.testing.assert_array_equal(steps, np.arange(n))  # one position per symbol, none at EOS
        np.testing.assert_array_equal(positions, n - 1 - np.arange(n))
        np.testing.assert_array_equal(src[positions], out[steps])


def test_sorting_targets_and_alignment_to_every_equal_symbol():
    train, _ = sorting_task(40, 1, length=8, num_tokens=4, rng=2)
    np.testing.assert_array_equal(train.tgt[:, 1:9], np.sort(train.src, axis=1))
    for src, out, align in zip(train.src, train.tgt_out, train.alignment, strict=True):
        for t in range(8):
            np.testing.assert_array_equal(np.flatnonzero(align[t]), np.flatnonzero(src == out[t]))
        assert not align[8].any()  # EOS


def test_unique_sequences_are_distinct_and_capacity_is_checked():
    rows = unique_sequences(200, 3, 6, np.random.default_rng(0))
    assert len({tuple(r) for r in rows}) == 200 and rows.max() < 6
    everything = unique_sequences(36, 2, 6, np.random.default_rng(0))
    assert len({tuple(r) for r in everything}) == 36  # every one of the 6^2 sequences
    with pytest.raises(ValueError, match="cannot draw 37 distinct sequences: only 36 exist"):
        unique_sequences(37, 2, 6, np.random.default_rng(0))


# ---- dates ---------------------------------------------------------------------------------


def test_format_date_writes_the_issue_examples():
    day = datetime.date(2026, 11, 21)
    texts = {fmt: format_date(day, fmt)[0] for fmt in DATE_FORMATS}
    assert texts["d Mon yyyy"] == "21 Nov 2026"
    assert texts["Month d, yyyy"] == "November 21, 2026"
    assert texts["dd/mm/yyyy"] == "21/11/2026"
    assert texts["Mon d yyyy"] == "Nov 21 2026"
    assert texts["yyyy.mm.dd"] == "2026.11.21"
    text, spans = format_date(datetime.date(2026, 3, 5), "Month d, yyyy")
    assert text == "March 5, 2026"
    assert spans == {"month": (0, "March"), "day": (6, "5"), "year": (9, "2026")}
    with pytest.raises(ValueError, match="unknown date format 'mm/dd'"):
        format_date(day, "mm/dd")


def test_date_alignment_by_hand():
    text, spans = format_date(datetime.date(2026, 11, 5), "d Mon yyyy")
    assert text == "5 Nov 2026"
    align = date_alignment(spans, 12)  # source padded to 12
    expected = {0: [6], 1: [7], 2: [8], 3: [9], 5: [2, 3, 4], 6: [2, 3, 4], 8: [0], 9: [0]}
    for step in range(11):  # "2026-11-05" + EOS
        assert np.flatnonzero(align[step]).tolist() == expected.get(step, []), step


def test_date_targets_are_the_iso_dates_of_the_sources():
    train, test = date_task(400, 200, rng=0)
    for data in (train, test):
        assert data.tgt.shape[1] == 12  # BOS + 10 characters + EOS
        np.testing.assert_array_equal(data.tgt[:, 0], BOS)
        np.testing.assert_array_equal(data.tgt[:, 11], EOS)
        for source, target in zip(data.source_texts(), data.target_texts(), strict=True):
            parsed = set()
            for fmt in STRPTIME.values():
                try:
                    parsed.add(datetime.datetime.strptime(source, fmt).date().isoformat())
                except ValueError:
                    continue
            assert parsed == {target}, source


def test_held_out_dates_never_occur_in_training():
    train, test = date_task(5000, 1000, rng=1, held_out=0.1)
    train_dates, test_dates = set(train.target_texts()), set(test.target_texts())
    assert not train_dates & test_dates
    assert len(test_dates) > 800  # drawn from ~3650 held-out dates
    years = {int(d[:4]) for d in train_dates | test_dates}
    assert min(years) == 1950 and max(years) == 2049


def test_date_alignment_points_at_the_source_characters_of_each_digit():
    train, _ = date_task(400, 10, rng=4)
    months = {name[:3]: k + 1 for k, name in enumerate(MONTHS)}
    months.update({name: k + 1 for k, name in enumerate(MONTHS)})
    for source, target, align in zip(
        train.source_texts(), train.target_texts(), train.alignment, strict=True
    ):
        for step in range(11):
            positions = np.flatnonzero(align[step])
            if step in (4, 7, 10):  # '-', '-', EOS
                assert positions.size == 0
                continue
            wanted = target[:4] if step < 4 else target[5:7] if step < 7 else target[8:10]
            field = _field_at(source, positions[0])
            if field.isdigit() and len(field) == len(wanted):  # digit for digit
                assert positions.size == 1 and source[positions[0]] == target[step]
            else:  # a month name, or a day without its leading zero: the whole field
                assert source[positions[0] : positions[-1] + 1] == field
                assert positions.size == len(field)
                assert (months[field] if field in months else int(field)) == int(wanted)


def _field_at(text: str, position: int) -> str:
    """The run of letters or digits of ``text`` around ``position``."""
    start = end = position
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


# ---- classification ------------------------------------------------------------------------


def test_count_classification_labels_and_balance():
    x, y, vocab = classification_task(2000, length=12, num_tokens=5, rng=0)
    assert x.shape == (2000, 12) and x.min() >= 3 and x.max() <= 7
    count_a, count_b = (x == 3).sum(axis=1), (x == 4).sum(axis=1)
    assert (count_a != count_b).all()  # ties redrawn
    np.testing.assert_array_equal(y, count_a > count_b)
    assert 0.45 < y.mean() < 0.55
    assert vocab.decode(x[0]) == "".join(str(v - 3) for v in x[0])


def test_parity_classification_labels():
    x, y, _ = classification_task(500, length=9, num_tokens=3, kind="parity", rng=1)
    np.testing.assert_array_equal(y, (x == 3).sum(axis=1) % 2)
    assert 0.4 < y.mean() < 0.6
    with pytest.raises(ValueError, match="kind must be 'count' or 'parity', got 'sum'"):
        classification_task(5, kind="sum")
