"""Real-model tier: barge-in and self-hearing with the real wake word, VAD, STT, LLM, voice and
echo canceller, her own voice mixed back into the microphone as on a desk (file mode)."""

from __future__ import annotations

import pytest
from conftest import require_models
from speech import piper, session, silence

from assistant.config import load_config
from assistant.events import EventBus
from assistant.filemode import FileSource, FileSpeaker, Timeline
from assistant.loading import load_stages
from assistant.persona import Conversation
from assistant.pipeline import Pipeline

pytestmark = pytest.mark.real
STORY = "Tell me a long story about a dragon and a knight."


@pytest.fixture(scope="module")
def stages():
    require_models()
    # A fixed seed: each reply is a function of its prompt, whatever ran before in this module
    # (CI once got a short first story, so her "Hey Jarvis" interruption found her silent).
    config = load_config(None, ["llm.model_path=models/SmolLM2-135M-Instruct.Q4_1.gguf", "llm.seed=3"])
    return load_stages(config, prefix=[{"role": "system", "content": "You are Samantha."}])


def run(tmp_path, stages, parts, echo=(0.04, -15.0), fast=True, **overrides):
    overrides = {"llm.model_path": "models/SmolLM2-135M-Instruct.Q4_1.gguf", "llm.seed": 3,
                 "llm.max_reply_tokens": 200, "cues.wake": False, **overrides}
    config = load_config(None, [f"{k}={v}" for k, v in overrides.items()])
    from assistant.aec import EchoCanceller

    stages.echo = EchoCanceller()  # a fresh canceller per session
    stages.llm.max_reply_tokens = config.llm.max_reply_tokens
    wav = session(tmp_path / "in.wav", parts)
    timeline = Timeline(fast=fast)
    source = FileSource(wav, timeline)
    speaker = FileSpeaker(tmp_path / "out.wav", timeline, source.rate_hz, source.duration_seconds)
    if echo is not None:
        source.echo_from(speaker, *echo)
    bus = EventBus(source.now)
    pipeline = Pipeline(config, stages, source, speaker, bus, Conversation("You are Samantha. Tell long stories."))
    pipeline.run()
    speaker.close()
    return [(e.type, e.t, e.data) for e in bus.history], pipeline


def timeline(events) -> str:
    """The session's events, one per line, for a failure message."""
    return "\n".join(f"{t:7.2f} {k} {str(d)[:160]}" for k, t, d in events)


def of(events, kind):
    return [(t, d) for k, t, d in events if k == kind]


@pytest.mark.parametrize("delay_s, gain_db", [(0.02, -10.0), (0.04, -15.0), (0.06, -20.0)])
def test_she_does_not_hear_herself(tmp_path, stages, delay_s, gain_db):
    questions = ["What is your favourite colour?", STORY, "Where do dragons live?"]
    parts = [silence(0.5)]
    for q in questions:
        parts += [piper("Hey Jarvis."), silence(0.3), piper(q), silence(14.0)]
    events, pipeline = run(tmp_path, stages, parts, echo=(delay_s, gain_db),
                           **{"follow_up.seconds": 0, "llm.max_reply_tokens": 25})
    assert len(of(events, "wake")) == 3, "her voice woke her, or a real wake word was missed"
    assert of(events, "interrupt") == []
    transcripts = [d["text"] for _, d in of(events, "transcript")]
    assert len(transcripts) == 3, transcripts
    for heard, asked in zip(transcripts, questions, strict=True):
        assert set(heard.lower().split()) & set(asked.lower().split()), (heard, asked)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "real-time"])
def test_wake_word_and_stop_interrupt_a_long_answer(tmp_path, stages, fast):
    wake, stop = piper("Hey Jarvis."), piper("Stop!")
    # Each interruption comes about 2 s into her answer (it starts ~0.7 s after the question):
    # a long story is still going then whatever the model samples. Once, in CI, the wake word
    # 2 s later than now found no answer to interrupt (its events were not kept then; now
    # they are in the failure message).
    parts = [silence(0.5), wake, silence(0.3), piper(STORY), silence(2.0),
             wake, silence(0.3), piper("Tell me another long story about a princess."), silence(2.5),
             stop, silence(3.0)]
    events, pipeline = run(tmp_path, stages, parts, fast=fast, **{"follow_up.seconds": 0})
    interrupts = of(events, "interrupt")
    log = timeline(events)
    assert len(interrupts) == 2 and interrupts[1][1]["reason"] == "stop", log
    # The wake word stops her: as a wake word, or, when the stop listener took its start for a
    # stop phrase ("Shut up."), as a stop followed by the wake word's own detection.
    rate = 16000
    wake_end = (len(parts[0]) + len(parts[1]) + len(parts[2]) + len(parts[3]) + len(parts[4]) + len(wake)) / rate
    (first_t, first), wakes = interrupts[0], [t for t, _ in of(events, "wake")]
    assert first["reason"] == "wake" or any(first_t < t <= wake_end + 0.2 for t in wakes), log
    # Playback stops within 0.2 s of the end of the interrupting phrase.
    stop_end = sum(len(p) for p in parts[:-1]) / rate
    assert first_t - wake_end <= 0.2, log
    assert interrupts[1][0] - stop_end <= 0.2, log
    replies = [d for _, d in of(events, "reply")]
    assert replies[0]["interrupted"] and replies[1]["interrupted"]
    history = pipeline.conversation.turns
    assert len(history) == 2 and all(t.interrupted and "(" not in t.assistant for t in history)
    assert "princess" in history[1].user.lower()


def test_follow_up_without_the_wake_word(tmp_path, stages):
    wake = piper("Hey Jarvis.")
    parts = [silence(0.5), wake, silence(0.3), piper("What is the capital of France?"),
             silence(6.0), piper("And what about Italy?"),  # in the window: no wake word needed
             silence(4.5), wake, silence(0.5), piper("What is the capital of Spain?"),  # wake word anyway
             silence(14.0), piper("Are you still there?"), silence(4.0)]  # after the window: ignored
    events, _ = run(tmp_path, stages, parts, **{"follow_up.seconds": 6, "llm.max_reply_tokens": 12})
    transcripts = [d["text"].lower() for _, d in of(events, "transcript")]
    assert len(transcripts) == 3, transcripts
    # Which three were heard is the point here, not tiny.en's spelling: once in about ten runs it
    # heard piper's "France" as "friends".
    assert "capital of" in transcripts[0] and "italy" in transcripts[1] and "spain" in transcripts[2], transcripts


def test_after_an_interrupted_answer_no_marker_is_written_or_said(tmp_path, stages):
    """The old history marker "(interrupted)" was copied by the model into later replies and
    spoken. Now the flag lives outside the text: the next two answers carry no marker, and
    the output audio after the interruption does not say one."""
    from assistant.audio import read_audio

    wake = piper("Hey Jarvis.")
    parts = [silence(0.5), wake, silence(0.3), piper(STORY), silence(2.0),
             wake, silence(0.3), piper("What is your favourite colour?"), silence(14.0),
             wake, silence(0.3), piper("Where do dragons live?"), silence(14.0)]
    events, pipeline = run(tmp_path, stages, parts, **{"follow_up.seconds": 0, "llm.max_reply_tokens": 30})
    log = timeline(events)
    interrupts = of(events, "interrupt")
    replies = [d for _, d in of(events, "reply")]
    # The story is interrupted; the next two answers usually end on their own (a long one may
    # still be going at the next wake word, CI once: that is an interruption too, not a failure).
    assert interrupts and len(replies) == 3 and replies[0]["interrupted"], log
    history = pipeline.conversation.turns
    assert history[0].interrupted and len(history) == 3, log
    for reply in replies[1:]:
        assert reply["text"], log
        assert "interrupt" not in reply["text"].lower() and not set("()[]*") & set(reply["text"]), reply
    out, rate = read_audio(tmp_path / "out.wav")
    after = out[int((interrupts[0][0] + 0.5) * rate):]
    from assistant.audio import resample

    heard = stages.stt.transcribe((resample(after, rate, 16000) * 32767).astype("int16")).text
    assert heard.strip() and "interrupt" not in heard.lower(), heard


@pytest.mark.parametrize("phrase", ["Stop.", "Never mind."])
def test_a_stop_phrase_as_the_whole_request_gets_no_reply_audio(tmp_path, stages, phrase):
    """ "Hey Jarvis. Stop." when she is silent: no answer ("Sure, I'll stop." was spoken). A
    one-syllable "Stop." right after the wake word may be taken for the wake phrase's tail
    (then: "no request after the wake word", also silent); "Never mind." is heard and dismissed."""
    from assistant.audio import read_audio

    parts = [silence(0.5), piper("Hey Jarvis."), silence(0.3), piper(phrase), silence(4.0)]
    events, _ = run(tmp_path, stages, parts, echo=None)
    log = timeline(events)
    dismissed = [d["heard"] for _, d in of(events, "dismissed")]
    no_request = [d for _, d in of(events, "error") if d["code"] == "no_speech"]
    assert of(events, "wake") and (dismissed or (phrase == "Stop." and no_request)), log
    assert not of(events, "reply") and not of(events, "tts_start"), log
    out, _ = read_audio(tmp_path / "out.wav")
    assert float(abs(out).max()) == 0.0, log
