"""Pure tier: end-of-speech decisions as arithmetic."""

from assistant.vad import EndOfSpeech, Segment

CHUNK = 0.08


def feed(eos, pattern):
    """pattern: string of 's' (speech) and '.' (silence), one char per 80 ms chunk."""
    result = Segment.CONTINUE
    for n, ch in enumerate(pattern, 1):
        result = eos.process(CHUNK, ch == "s")
        if result is not Segment.CONTINUE:
            return result, n
    return result, len(pattern)


def test_ends_after_the_configured_silence():
    eos = EndOfSpeech(silence_seconds=0.48, min_speech_seconds=0.16)
    result, n = feed(eos, "ssssss" + "." * 20)
    assert result is Segment.END
    assert n == 6 + 6  # 0.48 s of silence = 6 chunks
    assert abs(eos.last_speech_end - 6 * CHUNK) < 1e-9


def test_pause_shorter_than_the_silence_does_not_end():
    eos = EndOfSpeech(silence_seconds=0.5)
    result, _ = feed(eos, "sssss....sssss....")
    assert result is Segment.CONTINUE


def test_no_speech_times_out():
    eos = EndOfSpeech(no_speech_timeout_seconds=1.0)
    result, n = feed(eos, "." * 30)
    assert result is Segment.NO_SPEECH and n == 13


def test_a_click_is_not_speech():
    eos = EndOfSpeech(min_speech_seconds=0.2, no_speech_timeout_seconds=2.0)
    result, _ = feed(eos, "s" + "." * 30)
    assert result is Segment.NO_SPEECH


def test_max_length_caps_a_monologue():
    eos = EndOfSpeech(max_utterance_seconds=2.0)
    result, n = feed(eos, "s" * 100)
    assert result is Segment.MAX_LENGTH and n == 25


def test_hesitation_waits_longer():
    eos = EndOfSpeech(silence_seconds=0.4, hesitation_silence_seconds=1.0)
    eos.hesitating = True
    result, n = feed(eos, "ssss" + "." * 30)
    assert result is Segment.END and n == 4 + 13
