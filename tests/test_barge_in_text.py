"""Pure tier: which words, heard over her voice, are a request to stop."""

import numpy as np
import pytest

from assistant.audio import AudioChunk
from assistant.barge_in import RawWake, is_stop_phrase, wake_words, without_her_words
from assistant.wake import Detection

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


@pytest.mark.parametrize("name, words", [("hey_jarvis_v0.1", {"jarvis"}), ("alexa_v0.1", {"alexa"}),
                                         ("hey_mycroft", {"mycroft"}), ("ok-computer", {"computer"})])
def test_wake_words_of_a_model_name(name, words):
    assert wake_words(name) == words


class ScriptedWake:
    """Fires on the chunks listed in `fire_at` (by index); counts resets."""

    def __init__(self, fire_at):
        self.fire_at, self.n, self.resets = set(fire_at), 0, 0

    def process(self, chunk, threshold=None):
        self.n += 1
        return Detection("hey_jarvis_v0.1", 0.97, chunk.end_seconds) if self.n - 1 in self.fire_at else None

    def reset(self):
        self.resets += 1


def test_raw_wake_starts_afresh_each_turn_and_ignores_her_own_wake_word():
    chunk = AudioChunk(np.zeros(1280, np.int16), 0.0)
    wake = ScriptedWake(fire_at={1, 2})
    raw = RawWake(wake)
    first, second = object(), object()
    assert raw.process(chunk, first, "Once upon a time") is None and wake.resets == 1
    assert raw.process(chunk, first, "Once upon a time") is not None
    assert wake.resets == 1  # same turn: no reset
    # She says the wake word herself in this turn: a raw detection is hers, not the user's.
    assert raw.process(chunk, second, "People call me with Hey Jarvis.") is None and wake.resets == 2
