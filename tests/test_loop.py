"""Loop tier: the whole pipeline in file mode (--fast) with fakes for every model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fakes import FakeLlm, FakeStt, FakeTts, FakeVad, FakeWake, PassThroughEcho, RisingFakeWake, band_share, session_wav

from assistant.audio import read_audio
from assistant.config import load_config
from assistant.errors import LlmError
from assistant.events import EventBus, JsonlWriter
from assistant.filemode import FileSource, FileSpeaker, Timeline
from assistant.guard import safe_line
from assistant.persona import Conversation
from assistant.pipeline import ERROR_REPLY, FALLBACK_REPLY, Pipeline, Stages
from assistant.stt import Transcript


def run_session(tmp_path, parts, stt_texts, replies, echo=None, fast=True, wake=None, stt=None, wake_raw=None,
                **overrides):
    overrides = {"cues.wake": False, **overrides}  # the chime would be in the output; tested on its own
    config = load_config(None, [f"{k}={v}" for k, v in overrides.items()])
    session_wav(tmp_path / "in.wav", parts)
    timeline = Timeline(fast=fast)
    source = FileSource(tmp_path / "in.wav", timeline)
    speaker = FileSpeaker(tmp_path / "out.wav", timeline, source.rate_hz, source.duration_seconds)
    if echo is not None:
        source.echo_from(speaker, *echo)
    if echo is not None:  # her voice leaks into the mic: the real echo canceller removes it
        from assistant.aec import EchoCanceller

        canceller = EchoCanceller() if config.echo.cancellation else None
    else:
        canceller = PassThroughEcho() if config.echo.cancellation else None
    stages = Stages(llm=FakeLlm(replies), tts=FakeTts(), wake=wake or FakeWake(), vad=FakeVad(),
                    stt=stt or FakeStt(stt_texts), wake_raw=wake_raw,
                    echo=canceller)
    bus = EventBus(source.now)
    writer = JsonlWriter(tmp_path / "events.jsonl")
    bus.subscribe(writer)
    pipeline = Pipeline(config, stages, source, speaker, bus, Conversation("You are Samantha."))
    pipeline.run()
    speaker.close()
    writer.close()
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    out, rate = read_audio(tmp_path / "out.wav")
    return events, stages, pipeline, out, rate


def types(events, *wanted):
    return [e["type"] for e in events if e["type"] in wanted]


def test_one_turn_end_to_end(tmp_path):
    events, stages, pipeline, out, rate = run_session(
        tmp_path, [("silence", 1), ("wake", 0.5), ("speech", 1.5), ("silence", 3)],
        ["What is the capital of France?"], ["Paris is the capital. It is lovely in spring."])
    assert types(events, "wake", "speech_end", "transcript", "reply", "tts_start", "tts_end") == [
        "wake", "speech_end", "transcript", "tts_start", "tts_end", "reply"]
    by = {e["type"]: e for e in events}
    assert by["transcript"]["text"] == "What is the capital of France?"
    assert by["reply"]["text"] == "Paris is the capital. It is lovely in spring."
    assert stages.tts.spoken == ["Paris is the capital.", "It is lovely in spring."]
    # The output is on the input's timeline, at least as long, silent until the reply starts.
    assert len(out) >= 5.0 * rate - 1
    start = by["tts_start"]["t"]
    assert by["speech_end"]["last_speech_t"] <= by["speech_end"]["t"] <= start
    assert np.abs(out[: int((start - 0.01) * rate)]).max() == 0
    assert np.abs(out[int(start * rate): int((start + 0.2) * rate)]).max() > 0.1
    assert abs(by["tts_end"]["t"] - (start + len(np.nonzero(out)[0]) / rate)) < 0.3
    # The LLM got the persona and the question.
    assert stages.llm.prompts[0][0]["role"] == "system"
    assert stages.llm.prompts[0][-1]["content"] == "What is the capital of France?"
    assert by["reply"]["response_latency_seconds"] == pytest.approx(start - by["speech_end"]["last_speech_t"], abs=1e-3)


def test_follow_up_turn_sees_history(tmp_path):
    events, stages, *_ = run_session(
        tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 3), ("wake", 0.5), ("speech", 1), ("silence", 3)],
        ["My name is Ana.", "What is my name?"], ["Nice to meet you, Ana.", "Your name is Ana."])
    assert types(events, "reply").count("reply") == 2
    second = stages.llm.prompts[1]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[1]["content"] == "My name is Ana."


def test_nothing_said_after_the_wake_word_starts_no_turn(tmp_path):
    events, stages, *_ = run_session(tmp_path, [("wake", 0.5), ("silence", 7)], [], [],
                                     **{"listen.no_speech_timeout_seconds": 3})
    assert [e["code"] for e in events if e["type"] == "error"] == ["no_speech"]
    assert stages.llm.prompts == [] and stages.stt.heard == []


def test_empty_transcript_starts_no_llm_turn(tmp_path):
    events, stages, *_ = run_session(tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 3)], [""], [])
    assert stages.llm.prompts == []
    assert "reply" not in types(events, "reply")


def test_wake_is_heard_again_after_she_finished(tmp_path):
    events, *_ = run_session(
        tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 4), ("wake", 0.5), ("speech", 1), ("silence", 3)],
        ["One.", "Two."], ["First.", "Second."], **{"follow_up.seconds": 0})
    assert len(types(events, "wake")) == 2 and len(types(events, "reply")) == 2


def test_llm_failure_is_reported_spoken_and_the_next_turn_works(tmp_path):
    events, stages, *_ = run_session(
        tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 5), ("wake", 0.5), ("speech", 1), ("silence", 3)],
        ["One.", "Two."], [LlmError("boom"), "Second answer."])
    assert [e["code"] for e in events if e["type"] == "error"] == ["llm_failed"]
    assert " ".join(stages.tts.spoken[:2]) == ERROR_REPLY
    assert [e["text"] for e in events if e["type"] == "reply"] == ["Second answer."]


def test_empty_or_unspeakable_reply_is_retried_then_replaced(tmp_path):
    events, stages, *_ = run_session(tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 3)],
                                     ["Hm?"], ["<think>nothing</think> 😀 **", "<think>still nothing</think>"])
    assert " ".join(stages.tts.spoken) == safe_line("Hm?") != FALLBACK_REPLY
    assert [(e["reason"], e["action"]) for e in events if e["type"] == "guard"] == [
        ("empty", "regenerated"), ("empty", "replaced")]


def test_input_ending_mid_speech_still_gets_an_answer(tmp_path):
    events, *_ = run_session(tmp_path, [("wake", 0.5), ("speech", 1.2)], ["Quick question"], ["Sure."])
    assert types(events, "transcript", "reply") == ["transcript", "reply"]


@pytest.mark.parametrize("seconds", [0.0, 0.5])
def test_preroll_is_part_of_the_utterance(tmp_path, seconds):
    _, stages, *_ = run_session(tmp_path, [("silence", 1), ("wake", 0.5), ("speech", 1), ("silence", 2)],
                                ["Hi."], ["Hello."], **{"wake.preroll_seconds": seconds})
    # speech (1 s) + the silence before the speculative STT (0.08 s) + pre-roll;
    # with no pre-roll the detecting chunk is lost
    expected = 1.0 + 0.08 + seconds - (0.08 if seconds == 0 else 0)
    assert abs(stages.stt.heard[0] - expected) <= 0.17  # chunk boundaries: within two chunks


def test_a_pause_mid_question_cancels_the_speculative_answer(tmp_path):
    events, stages, pipeline, out, rate = run_session(
        tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 0.3), ("speech", 1), ("silence", 3)],
        ["What is the", "What is the capital of France?"], None)
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["What is the capital of France?"]
    assert [e["text"] for e in events if e["type"] == "reply"] == ["That was a 6 word question."]
    # The stale answer may have been synthesised ahead, but only the right one was played.
    assert len(types(events, "tts_start")) == 1
    played_seconds = np.count_nonzero(out) / rate
    assert abs(played_seconds - 0.05 * len("That was a 6 word question.".split())) < 0.03
    assert len(stages.stt.heard) == 2
    assert [m["content"] for m in pipeline.conversation.messages("x")[1:-1]] == [
        "What is the capital of France?", "That was a 6 word question."]


def test_a_soft_last_sound_the_vad_misses_is_transcribed_too(tmp_path):
    """A speculative transcript must not be cut before a quiet final consonant (CI once heard
    "What is the capital of Fran?"): a chunk the VAD calls silence but that is loud for this
    request neither starts a speculation nor keeps one."""
    plain = [("silence", 0.5), ("wake", 0.5), ("speech", 1), ("silence", 3)]
    _, without, *_ = run_session(tmp_path, plain, ["Hi."], ["Hello."])
    events, with_tail, *_ = run_session(tmp_path, plain[:3] + [("soft", 0.24)] + plain[3:], ["Hi."], ["Hello."])
    assert len(with_tail.stt.heard) == 1 and with_tail.stt.heard[0] >= without.stt.heard[0] + 0.24 - 1e-6
    assert [e["speculative"] for e in events if e["type"] == "speech_end"] == [True]


def test_words_ending_mid_sentence_get_a_longer_silence(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 0.7), ("speech", 1), ("silence", 3)]
    events, *_ = run_session(tmp_path, parts, ["Remind me to buy milk and", "Remind me to buy milk and eggs."],
                             None)
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Remind me to buy milk and eggs."]
    # Without the hesitation rule the first half alone would have been answered.
    events, *_ = run_session(tmp_path, parts, ["Remind me to buy milk.", "Eggs."], None)
    # (then "Eggs." comes as a follow-up, in the window after her reply)
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Remind me to buy milk.", "Eggs."]


def test_speculation_can_be_switched_off(tmp_path):
    events, stages, *_ = run_session(tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 3)], ["Hi."], ["Hello."],
                                     **{"listen.speculative_silence_seconds": 5})
    assert [e["speculative"] for e in events if e["type"] == "speech_end"] == [False]
    assert abs(stages.stt.heard[0] - (0.08 * 4 + 1.0 + 0.5)) <= 0.09


def test_nothing_is_written_by_default_and_debug_recording_saves_when_asked(tmp_path, monkeypatch):
    from assistant.recording import DebugRecorder

    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.rglob("*"))
    run_session(tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 3)], ["Hi."], ["Hello."])
    written = {p.name for p in set(tmp_path.rglob("*")) - before}
    assert written == {"in.wav", "out.wav", "events.jsonl"}  # only what the test itself asked for

    config = load_config(None)
    session_wav(tmp_path / "in.wav", [("wake", 0.5), ("speech", 1), ("silence", 3)])
    timeline = Timeline(fast=True)
    source = FileSource(tmp_path / "in.wav", timeline)
    bus = EventBus(source.now)
    recorder = DebugRecorder(tmp_path / "debug")
    bus.subscribe(recorder)
    stages = Stages(llm=FakeLlm(["Hello."]), tts=FakeTts(), wake=FakeWake(), vad=FakeVad(), stt=FakeStt(["Hi."]))
    speaker = FileSpeaker(tmp_path / "o.wav", timeline, source.rate_hz, source.duration_seconds)
    Pipeline(config, stages, source, speaker, bus, Conversation("x"), recorder).run()
    files = sorted(p.name for p in (tmp_path / "debug").iterdir())
    assert len(files) == 2 and files[0].endswith(".wav") and files[1] == "transcripts.jsonl"
    assert [json.loads(x)["type"] for x in (tmp_path / "debug" / "transcripts.jsonl").read_text().splitlines()] \
        == ["transcript", "reply"]


def test_a_pause_after_the_wake_word_drops_the_wake_phrase_tail(tmp_path):
    # The fake wake fires on the first chunk after the tone; a tail of "wake" audio would be in the pre-roll.
    _, stages, *_ = run_session(tmp_path, [("wake", 0.5), ("silence", 0.4), ("speech", 1), ("silence", 2)],
                                ["Hi."], ["Hello."], **{"wake.preroll_seconds": 0.5})
    # one quiet chunk + the request (1 s) + the silence before the speculative STT (0.08 s)
    assert abs(stages.stt.heard[0] - (0.08 + 1.0 + 0.08)) <= 0.17


def test_bench_comparison_flags_regressions():
    from assistant.bench import compare

    before = {"date": "d", "response_latency_s": {"median": 0.7, "p90": 0.8}, "tts_speed_x_real_time": 20.0}
    now = {"response_latency_s": {"median": 0.72, "p90": 1.2}, "tts_speed_x_real_time": 10.0}
    lines = compare(now, before)
    flagged = [line.split()[0] + " " + line.split()[1] for line in lines if "REGRESSION" in line]
    assert flagged == ["response_latency_s p90", "tts_speed_x_real_time 20.000"]


LONG = " ".join(f"Sentence number {i} is here." for i in range(1, 30))  # about 20 s of fake speech


def last_sound(out, rate, after):
    loud = np.nonzero(np.abs(out[int(after * rate):]) > 0.01)[0]
    return after + loud[-1] / rate if len(loud) else None


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "real-time"])
def test_wake_word_interrupts_a_long_answer(tmp_path, fast):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 3), ("wake", 0.5), ("speech", 1), ("silence", 4)]
    events, stages, pipeline, out, rate = run_session(tmp_path, parts, ["Tell me a story.", "What time is it?"],
                                                      [LONG, "It is noon."], fast=fast)
    interrupts = [e for e in events if e["type"] == "interrupt"]
    assert [e["reason"] for e in interrupts] == ["wake"]
    # Playback stopped within 0.2 s of the end of the interrupting wake phrase (at 6.0 s).
    stop_t = interrupts[0]["t"]
    assert stop_t - 6.0 <= 0.2
    first_reply_end = last_sound(out[: int((stop_t + 0.5) * rate)], rate, 0.0)
    assert first_reply_end <= 6.0 + 0.2
    replies = [e for e in events if e["type"] == "reply"]
    assert replies[0]["interrupted"] and replies[0]["heard"] and len(replies[0]["heard"]) < len(LONG) / 3
    assert replies[1]["text"] == "It is noon." and not replies[1]["interrupted"]
    # The history holds only what was heard, marked as cut off outside the text the model sees.
    history = pipeline.conversation.turns
    assert history[0].interrupted and LONG not in history[0].assistant and "(" not in history[0].assistant
    assert history[0].assistant == replies[0]["heard"]
    assert history[1].user == "What time is it?"


def test_a_wake_word_in_her_first_seconds_interrupts_once_it_scores_clearly(tmp_path):
    # While the echo canceller settles (her first 2 s of speech) a wake word must score 0.8; the
    # real model's score rises over a phrase's last chunks (0.6, then 0.95): the weak first score
    # must not use up the phrase (it once reset the model, and the wake word was lost).
    parts = [("wake", 0.5), ("speech", 1), ("silence", 1), ("wake", 0.5), ("speech", 1), ("silence", 4)]
    events, *_ = run_session(tmp_path, parts, ["Tell me a story.", "What time is it?"],
                             [LONG, "It is noon."], wake=RisingFakeWake())
    interrupts = [e for e in events if e["type"] == "interrupt"]
    assert [e["reason"] for e in interrupts] == ["wake"] and interrupts[0]["t"] - 3.0 <= 0.2
    assert [e["score"] for e in events if e["type"] == "wake"] == [0.6, 0.95]  # 0.5 when she is silent
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Tell me a story.", "What time is it?"]


class DampedWake(FakeWake):
    """Hears the first wake word only: later ones, said over her voice, the echo canceller dampened."""

    def process(self, chunk, threshold=None):
        detection = super().process(chunk, threshold)
        if detection is not None:
            self.fired = getattr(self, "fired", 0) + 1
        return detection if getattr(self, "fired", 0) <= 1 else None


def test_a_wake_word_the_echo_canceller_dampened_is_heard_on_the_raw_microphone(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 3), ("wake", 0.5), ("speech", 1), ("silence", 4)]
    raw = FakeWake()
    events, *_ = run_session(tmp_path, parts, ["Tell me a story.", "What time is it?"], [LONG, "It is noon."],
                             wake=DampedWake(), wake_raw=raw)
    interrupts = [e for e in events if e["type"] == "interrupt"]
    assert [e["reason"] for e in interrupts] == ["wake"] and interrupts[0]["t"] - 6.0 <= 0.2
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Tell me a story.", "What time is it?"]
    # Without the raw detector the second wake word is lost, and she talks on.
    events, *_ = run_session(tmp_path, parts, ["Tell me a story.", "What time is it?"], [LONG, "It is noon."],
                             wake=DampedWake())
    assert [e for e in events if e["type"] == "interrupt"] == []


class WakeHeardAsStop(FakeStt):
    """Listening while she speaks, takes the start of the wake word for "Shut up." (tiny.en,
    primed with the stop phrases, once did that to "Hey Jarvis" said over her voice)."""

    def transcribe(self, samples, prompt=None):
        if prompt is not None and band_share(samples, 1000.0) > 0.5:
            return Transcript("Shut up.", len(samples) / 16000, 0.01)
        return super().transcribe(samples, prompt)


def test_a_wake_word_taken_for_a_stop_phrase_still_wakes_her(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 3), ("wake", 0.5), ("speech", 1), ("silence", 4)]
    events, *_ = run_session(tmp_path, parts, [], [LONG, "It is noon."],
                             stt=WakeHeardAsStop(["Tell me a story.", "What time is it?"]),
                             **{"follow_up.seconds": 0})
    interrupts = [e for e in events if e["type"] == "interrupt"]
    assert [(e["reason"], e.get("heard")) for e in interrupts] == [("stop", "Shut up.")]
    assert interrupts[0]["t"] < 6.0  # she stopped before the wake word ended...
    assert len([e for e in events if e["type"] == "wake"]) == 2  # ...and it still woke her
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Tell me a story.", "What time is it?"]
    assert [e["text"] for e in events if e["type"] == "reply"][-1] == "It is noon."


def test_after_a_mistaken_stop_the_raw_microphone_still_hears_the_wake_word(tmp_path):
    # The stop listener took the start of the wake word for "Shut up." and the echo-cancelled
    # detector missed the phrase: the raw-microphone detector goes on for the rest of it.
    parts = [("wake", 0.5), ("speech", 1), ("silence", 3), ("wake", 0.5), ("speech", 1), ("silence", 4)]
    events, *_ = run_session(tmp_path, parts, [], [LONG, "It is noon."], wake=DampedWake(), wake_raw=FakeWake(),
                             stt=WakeHeardAsStop(["Tell me a story.", "What time is it?"]),
                             **{"follow_up.seconds": 0})
    assert [e["reason"] for e in events if e["type"] == "interrupt"] == ["stop"]
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Tell me a story.", "What time is it?"]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "real-time"])
def test_stop_phrase_interrupts_and_she_listens(tmp_path, fast):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 3), ("stop", 0.5), ("silence", 2),
             ("speech", 1), ("silence", 4)]  # after "stop", a follow-up without the wake word
    events, stages, pipeline, out, rate = run_session(tmp_path, parts, ["Tell me a story.", "Thanks."],
                                                      [LONG, "You're welcome."], fast=fast)
    interrupts = [e for e in events if e["type"] == "interrupt"]
    assert [e["reason"] for e in interrupts] == ["stop"] and interrupts[0]["heard"] == "Stop."
    assert interrupts[0]["t"] - 5.5 <= 0.2  # the stop phrase ended at 5.5 s
    assert last_sound(out[: int(6.5 * rate)], rate, 0.0) <= 5.5 + 0.2
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Tell me a story.", "Thanks."]
    assert pipeline.conversation.turns[0].interrupted and not pipeline.conversation.turns[1].interrupted


def test_her_own_voice_leaking_back_is_cancelled(tmp_path):
    # Her (fake) voice is mixed back into the microphone 40 ms later at -15 dB: loud enough to
    # look like the wake word and like speech to the fakes if the echo canceller did not remove it.
    parts = [("wake", 0.5), ("speech", 1), ("silence", 12), ("wake", 0.5), ("speech", 1), ("silence", 12)]
    replies = [" ".join(["word"] * 60), " ".join(["word"] * 60)]
    events, stages, *_ = run_session(tmp_path, parts, ["One.", "Two."], replies, echo=(0.04, -15.0),
                                     **{"follow_up.seconds": 0})
    assert len(types(events, "wake")) == 2
    assert types(events, "interrupt") == []
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["One.", "Two."]


def test_without_echo_cancellation_the_microphone_is_muted_while_she_speaks(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 12)]
    events, *_ = run_session(tmp_path, parts, ["One."], [" ".join(["word"] * 60)], echo=(0.04, -15.0),
                             **{"echo.cancellation": False, "follow_up.seconds": 0})
    assert types(events, "interrupt") == []  # muted instead: no barge-in without echo cancellation
    assert len(types(events, "wake")) == 1


def test_follow_up_window(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 2), ("speech", 1), ("silence", 9), ("speech", 1),
             ("silence", 3)]
    events, stages, *_ = run_session(tmp_path, parts, ["Hi.", "And you?", "Ignored"], ["Hello.", "Fine."])
    # The second question, 2 s after her reply, needs no wake word; the third (after the window) is ignored.
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Hi.", "And you?"]
    opened = [e for e in events if e["type"] == "follow_up"]
    assert [e["open"] for e in opened][:3] == [True, True, False]
    assert len(types(events, "wake")) == 1


def test_a_cough_in_the_follow_up_window_starts_nothing(tmp_path):
    parts = [("wake", 0.5), ("speech", 1), ("silence", 2), ("speech", 0.16), ("silence", 8)]
    events, stages, *_ = run_session(tmp_path, parts, ["Hi.", "cough"], ["Hello."])
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Hi."]


def test_wake_cue_plays_at_the_wake_word(tmp_path):
    events, stages, pipeline, out, rate = run_session(
        tmp_path, [("silence", 1), ("wake", 0.5), ("silence", 0.5), ("speech", 1), ("silence", 3)],
        ["Hi."], ["Hello."], **{"cues.wake": True})
    wake_t = next(e["t"] for e in events if e["type"] == "wake")
    chime = out[int(wake_t * rate): int((wake_t + 0.3) * rate)]
    assert np.abs(chime).max() > 0.05  # audible
    assert np.abs(out[: int((wake_t - 0.01) * rate)]).max() == 0


def test_wake_word_said_in_the_follow_up_window_is_still_a_wake(tmp_path):
    # "Hey Jarvis", a pause longer than the end-of-speech silence, then the question: the pause
    # must not end the request that the follow-up window started on the wake word's sound.
    parts = [("wake", 0.5), ("speech", 1), ("silence", 2), ("wake", 0.5), ("silence", 0.8), ("speech", 1),
             ("silence", 4)]
    events, *_ = run_session(tmp_path, parts, ["Hi.", "What time is it?"], ["Hello.", "Noon."])
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Hi.", "What time is it?"]
    assert len(types(events, "wake")) == 2


def test_a_stop_phrase_as_the_whole_request_gets_silence_and_closes_the_window(tmp_path):
    # "Hi." -> "Hello.", then in the follow-up window "Never mind.": no answer, and the window
    # closes, so speech 1.5 s later (still inside the window it had) is not a request.
    parts = [("wake", 0.5), ("speech", 1), ("silence", 2), ("speech", 1), ("silence", 1.5), ("speech", 1),
             ("silence", 4)]
    events, stages, *_ = run_session(tmp_path, parts, ["Hi.", "Never mind.", "Ignored"], ["Hello.", "Oops."])
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["Hi.", "Never mind."]
    assert [e["heard"] for e in events if e["type"] == "dismissed"] == ["Never mind."]
    assert stages.tts.spoken == ["Hello."] and len(stages.llm.prompts) == 1
    closes = [e for e in events if e["type"] == "follow_up" and not e["open"]]
    dismissed_t = next(e["t"] for e in events if e["type"] == "dismissed")
    assert closes and closes[0]["t"] >= dismissed_t - 0.5


def test_wake_word_then_stop_says_nothing(tmp_path):
    events, stages, pipeline, out, rate = run_session(tmp_path, [("wake", 0.5), ("speech", 1), ("silence", 4)],
                                                      ["Hey Jarvis. Stop."], ["Sure, I'll stop."])
    assert types(events, "dismissed") == ["dismissed"]
    assert stages.tts.spoken == [] and stages.llm.prompts == [] and np.abs(out).max() == 0
    assert not [e for e in events if e["type"] == "follow_up" and e["open"]]
