"""Pure tier: which words, heard over her voice, are a request to stop."""

import pytest

from assistant.barge_in import is_stop_phrase, without_her_words

PHRASES = ["stop", "wait", "never mind", "cancel", "be quiet", "quiet", "enough", "shut up", "hold on", "pause"]


@pytest.mark.parametrize("text, expected", [
    ("Stop.", True), ("Stop!", True), ("okay stop", True), ("Stop please.", True), ("No, wait.", True),
    ("Never mind.", True), ("Be quiet!", True), ("Hold on a second", True), ("Stop and river.", True),
    ("Start.", True),  # tiny.en's usual mishearing of "Stop!" over her voice
    ("", False), ("Hey Jarvis.", False), ("Never.", False),
    ("I wanted to ask you about the bus stop near my house", False),  # a long sentence is not a stop
    ("stopwatch", False),
])
def test_is_stop_phrase(text, expected):
    assert is_stop_phrase(text, PHRASES) is expected


def test_her_own_words_are_set_aside_even_stop_words():
    her = "Once upon a time a dragon told the knight to wait by the river"
    assert without_her_words("dragon river", her) == ""
    assert without_her_words("the river stop", her) == "stop"
    assert without_her_words("I can't wait", her) == "i can't"  # her "wait" leaking through
    assert without_her_words("What time is it", her) == "what is it"
