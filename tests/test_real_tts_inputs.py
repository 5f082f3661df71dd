"""Every reply is made speakable before piper: a table of nasty LLM outputs, each spoken by the
real voice through the real reply path (`Voice.speak`: chunker, cleaning, piper) without an
exception; text with nothing speakable in it gives no audio and no error."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import PROJECT, require_models

from assistant.config import TtsConfig
from assistant.speaking import Voice

pytestmark = pytest.mark.real

NASTY = [
    "**Bold** and *italic* and __underlined__ words.",
    "# Heading\n## Subheading\nSome text.",
    "- first item\n- second item\n* third item",
    "1. one\n2. two\n3. three",
    "Here is code:\n```python\nprint('hi')\nfor i in range(3): pass\n```\nDone.",
    "Use `pip install numpy` to install it.",
    "See [the docs](https://example.com/docs?a=1&b=2) for more.",
    "Visit https://www.example.org/a/very/long/path/that/goes/on/and/on?query=string#fragment now.",
    "Email me at someone@example.com please.",
    "<think>The user wants a greeting. I should be brief.</think>Hello there!",
    "<think>unclosed reasoning that never ends",
    "I love this! 😀🎉👍🏽 It's great ❤️",
    "👨‍👩‍👧‍👦",
    "| col1 | col2 |\n|---|---|\n| a | b |",
    "It is 20°C outside and the wind is 15 km/h.",
    "That costs $10.99, or €9, or £8.",
    "Water boils at 212°F.",
    "The file is 3.5 GB and the photo is 2 MB.",
    "x^2 + y^2 = z^2",
    "50% of 200 is 100 & that's that.",
    "C++ and C# are languages; so is F#.",
    "NUL\x00in\x00the\x00middle",
    "Bell\x07 and escape\x1b[31m codes\x1b[0m",
    "Zero\u200bwidth\u200cjoiners\u200d here.",
    "中文字符和English混合",
    "Привет, мир!",
    "مرحبا بالعالم",
    "Ελληνικά γράμματα",
    "Café, naïve, façade, jalapeño.",
    "...",
    "!!!???",
    "",
    "   \n\t  ",
    "<|im_start|>assistant<|im_end|>",
    "[INST] do something [/INST]",
    "<b>bold</b> <i>html</i> <br/> tags",
    "A" * 400,
    "word " * 300,
    "This is a very long sentence without any punctuation that just keeps going and going " * 8,
    "Numbers: 1,234,567.89 and 3.14159 and -42 and 1e10.",
    "Time 10:30, date 2026-11-26, ratio 3:1.",
    "Quotes “curly” ‘single’ «guillemets» and — dashes – too.",
    "Tab\tseparated\tvalues",
    "\\n literal backslashes \\t and /slashes/",
    "~~strikethrough~~ and ==highlight==",
    "> a block quote\n> over two lines",
    "Ellipsis… and more…",
    "🙂",
    "Mr. Smith met Dr. Jones at 5 p.m. on St. Patrick's Day.",
    "ALL CAPS SHOUTING TEXT!!!",
]


class CollectingSpeaker:
    """Takes the audio the voice plays (the sound card is not what is tested here)."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.t = 0.0

    def play(self, audio, rate_hz, cancel, on_start=None, at=None) -> float:  # noqa: ANN001
        start = self.t
        if on_start is not None:
            on_start(start)
        self.blocks.append(audio)
        self.t += len(audio) / rate_hz
        return start

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def tts():
    require_models()
    from assistant.tts import TextToSpeech

    return TextToSpeech(PROJECT / "models" / "piper" / "en_US-joe-medium.onnx", threads=2)


def test_the_table_is_big_enough():
    assert len(NASTY) >= 40


@pytest.mark.parametrize("text", NASTY, ids=[repr(t[:30]) for t in NASTY])
def test_nasty_reply_is_spoken_without_error(tts, text):
    from assistant.text import clean_for_speech

    speaker = CollectingSpeaker()
    voice = Voice(tts, speaker, TtsConfig(), clock=lambda: speaker.t)
    spoken = voice.speak(iter([text[i:i + 7] for i in range(0, len(text), 7)]), threading.Event(), fallback=None)
    audio = np.concatenate(speaker.blocks) if speaker.blocks else np.zeros(0, np.float32)
    assert np.all(np.isfinite(audio))
    for bad in ("```", "<think>", "http", "**", "<|", "\x00", "😀"):
        assert bad not in spoken.text
    if clean_for_speech(text):
        assert len(audio) > 0 and np.abs(audio).max() > 0.01, spoken.text
    else:
        assert len(audio) == 0 and spoken.text == ""


def test_a_very_long_reply_starts_with_a_short_piece(tts):
    """The first piece sent to the voice is short, so the first audio is not delayed by the rest."""
    speaker = CollectingSpeaker()
    voice = Voice(tts, speaker, TtsConfig(), clock=lambda: speaker.t)
    text = "This is a very long sentence without any punctuation that just keeps going and going " * 8
    first_block = []
    original = tts.synthesize

    def spy(piece):
        first_block.append(piece)
        return original(piece)

    tts.synthesize = spy
    try:
        voice.speak(iter(text.split(" ")), threading.Event())
    finally:
        tts.synthesize = original
    assert len(first_block[0].split()) <= TtsConfig().first_chunk_max_words
    assert all(len(p) <= TtsConfig().max_chunk_chars for p in first_block)
