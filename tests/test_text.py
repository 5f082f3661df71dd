"""Pure tier: cleaning replies for speech and cutting a token stream into sentences."""

import pytest

from assistant.text import SentenceChunker, chunk_stream, clean_for_speech


@pytest.mark.parametrize(
    "raw, spoken",
    [
        ("**Paris** is the capital.", "Paris is the capital."),
        ("# Heading\nSome text", "Heading Some text"),
        ("- apples\n- pears", "apples pears"),
        ("1. first\n2. second", "first second"),
        ("Use `ls` to list.", "Use ls to list."),
        ("See [the docs](https://example.com/x).", "See the docs."),
        ("Go to https://www.example.com/path?q=1 now", "Go to example.com now"),
        ("<think>secret plan</think>Hello there.", "Hello there."),
        ("Hello <think>unfinished reasoning", "Hello"),
        ("I love it 😀🎉!", "I love it!"),
        ("a\x00b\x07c", "abc"),
        ("```python\nprint(1)\n```\nDone.", "Done."),
        ("50% & more", "50 percent and more"),
        ("", ""),
        ("   ", ""),
        ("***", ""),
        ("😀", ""),
        ("<|im_start|>system hi", "system hi"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "a, b. 1, 2."),
    ],
)
def test_clean_for_speech(raw, spoken):
    assert clean_for_speech(raw) == spoken


def test_first_piece_is_cut_at_a_clause_and_later_at_sentences():
    tokens = ["Well", ",", " I", " think", " that", " Paris", ",", " the", " capital", ",", " is",
              " lovely", ".", " It", " has", " a", " tower", ",", " you", " know", "."]
    pieces = list(chunk_stream(tokens, first_min_words=3))
    assert pieces == ["Well, I think that Paris,", "the capital, is lovely.", "It has a tower, you know."]


def test_pieces_are_emitted_as_soon_as_complete():
    chunker = SentenceChunker(first_min_words=2)
    assert chunker.feed("Hello there") == []
    assert chunker.feed(". How are") == ["Hello there."]
    assert chunker.feed(" you?") == []  # no following space yet: could be "you?!"
    assert chunker.flush() == ["How are you?"]


def test_think_block_split_across_tokens_is_dropped():
    tokens = ["<th", "ink>", "Let me. Think. Hard.", "</thi", "nk>", "Sure", ". Done", "."]
    assert list(chunk_stream(tokens)) == ["Sure.", "Done."]


def test_abbreviations_and_decimals_do_not_end_a_sentence():
    assert list(chunk_stream(["Dr. Smith paid 3.5 dollars. Then left."], first_min_words=50)) == [
        "Dr. Smith paid 3.5 dollars.", "Then left."]


def test_long_text_is_split_at_spaces():
    text = "word " * 200
    pieces = list(chunk_stream([text], max_chars=100))
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == text.split()


def test_unspeakable_stream_yields_nothing():
    assert list(chunk_stream(["**", "😀", "  ", "<think>x</think>"])) == []


def test_first_piece_without_punctuation_is_cut_after_max_words():
    tokens = ["The", " capital", " of", " France", " is", " Paris", " and", " it", " is", " lovely", "."]
    assert list(chunk_stream(tokens, first_max_words=5)) == ["The capital of France is", "Paris and it is lovely."]
    # Only the first piece; a clause boundary inside the limit wins.
    assert list(chunk_stream(["Well, I think so. And then more words come after this one."], first_max_words=2)) \
        == ["Well, I think so.", "And then more words come after this one."]
    assert list(chunk_stream(tokens, first_max_words=0)) == ["The capital of France is Paris and it is lovely."]
