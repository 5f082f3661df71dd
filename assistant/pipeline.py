"""The voice loop: wake word -> end of speech -> STT -> LLM (streamed) -> sentences -> TTS -> speaker.

Concurrency model (one, written down): the main thread owns the loop and the state machine
and consumes microphone chunks; it never blocks on a model except the cheap per-chunk wake
word and VAD. A finished utterance starts one *turn* thread that runs STT and then the LLM
stream; the LLM's sentences go through a queue to a TTS thread, whose audio goes through a
queue to a player thread, so the first clause is heard while the LLM is still generating.
A turn owns a `cancel` event that reaches all three (shutdown; barge-in later).
While a turn runs and for `listen.mute_tail_seconds` after the last audio, the microphone
is muted for wake word and VAD, and both are reset afterwards, so her own voice can
neither wake her nor be transcribed.
"""

from __future__ import annotations

import enum
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.audio import CHUNK_SECONDS, AudioChunk, AudioSource, PreRoll, Speaker
from assistant.config import Config
from assistant.errors import AssistantError
from assistant.events import EventBus
from assistant.llm import ChatMessage
from assistant.persona import Conversation
from assistant.stt import Transcript
from assistant.text import SentenceChunker
from assistant.vad import EndOfSpeech, Segment
from assistant.wake import Detection

log = logging.getLogger(__name__)

FALLBACK_REPLY = "Sorry, I don't have an answer for that."
ERROR_REPLY = "Sorry, something went wrong on my side. Could you say that again?"


class State(enum.Enum):
    LISTENING = "listening"  # for the wake word
    RECORDING = "recording"  # the user's request, until the end of speech
    THINKING = "thinking"
    SPEAKING = "speaking"


class WakeDetector(Protocol):
    def process(self, chunk: AudioChunk) -> Detection | None: ...
    def reset(self) -> None: ...


class SpeechProbability(Protocol):
    def probability(self, samples: np.ndarray) -> float: ...
    def reset(self) -> None: ...


class Transcriber(Protocol):
    def transcribe(self, samples: np.ndarray) -> Transcript: ...


class ChatStream(Protocol):
    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None) -> Iterator[str]: ...


class Synthesizer(Protocol):
    sample_rate_hz: int

    def synthesize(self, text: str) -> Iterator[np.ndarray]: ...


@dataclass
class Stages:
    """The models of the loop; `assistant chat` runs without the audio ones (None)."""

    llm: ChatStream
    tts: Synthesizer | None = None
    wake: WakeDetector | None = None
    vad: SpeechProbability | None = None
    stt: Transcriber | None = None


@dataclass
class TurnTimings:
    stt_seconds: float = 0.0
    llm_first_token_seconds: float | None = None
    first_sentence_seconds: float | None = None
    tts_first_audio_seconds: float | None = None
    response_latency_seconds: float | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float | None]:
        return {k: (round(v, 3) if isinstance(v, float) else v)
                for k, v in vars(self).items() if k != "extra"} | self.extra


def strip_wake_words(text: str, wake_model: str) -> str:
    """Drop the wake phrase (e.g. "Hey Jarvis,") that the pre-roll may put at the start."""
    words = {w for w in re.split(r"[_\W\d]+", wake_model.lower()) if w and w != "v"}
    tokens = text.split()
    while tokens and re.sub(r"\W", "", tokens[0].lower()) in words:
        tokens.pop(0)
    return " ".join(tokens).lstrip(" ,.!?")


class Pipeline:
    """The live loop over any `AudioSource` and `Speaker` (see the module docstring)."""

    def __init__(self, config: Config, stages: Stages, source: AudioSource, speaker: Speaker,
                 bus: EventBus, conversation: Conversation) -> None:
        self.config = config
        self.stages = stages
        self.source = source
        self.speaker = speaker
        self.bus = bus
        self.conversation = conversation
        self.state = State.LISTENING
        self._preroll = PreRoll(config.wake.preroll_seconds)
        self._utterance: list[AudioChunk] = []
        self._eos: EndOfSpeech | None = None
        self._wake_model = ""
        self._turn: threading.Thread | None = None
        self._cancel = threading.Event()
        self._stop = threading.Event()
        self._mute_until = 0.0
        self._needs_reset = False
        self._speaking_until = 0.0

    # ---- main loop -------------------------------------------------------------------
    def run(self) -> None:
        """Run until the source ends (file mode) or `stop()`; always waits for the last reply."""
        self.bus.emit("ready")
        self._set_state(State.LISTENING)
        try:
            for chunk in self.source.chunks():
                if self._stop.is_set():
                    break
                self._on_chunk(chunk)
            if not self._stop.is_set() and self.state is State.RECORDING and self._eos is not None:
                self._end_utterance(Segment.END if self._eos.started else Segment.NO_SPEECH, self.source.now())
        finally:
            if self._stop.is_set():
                self._cancel.set()
            if self._turn is not None:
                self._turn.join()

    def stop(self) -> None:
        """Ask the loop to end soon: cancels the current turn and closes the source."""
        self._stop.set()
        self._cancel.set()
        self.source.close()

    def _set_state(self, state: State) -> None:
        if state is not self.state or state is State.LISTENING:
            self.state = state
            self.bus.emit("state", state=state.value)

    def _on_chunk(self, chunk: AudioChunk) -> None:
        if self._turn is not None:
            if self._turn.is_alive():
                return  # muted while thinking and speaking
            self._turn = None
            self._mute_until = max(self._speaking_until, chunk.start_seconds) + self.config.listen.mute_tail_seconds
            self._needs_reset = True
        if chunk.start_seconds < self._mute_until:
            return
        if self._needs_reset:
            self._needs_reset = False
            self.stages.wake.reset()
            self.stages.vad.reset()
            self._preroll.drain()
            self._set_state(State.LISTENING)
        if self.state is State.LISTENING:
            self._preroll.append(chunk)
            detection = self.stages.wake.process(chunk)
            if detection is not None:
                self._on_wake(detection)
        elif self.state is State.RECORDING:
            self._record(chunk)

    def _on_wake(self, detection: Detection) -> None:
        self.bus.emit("wake", t=detection.t, model=detection.model, score=round(detection.score, 3))
        self._wake_model = detection.model
        self._utterance = self._preroll.drain()
        self.stages.vad.reset()
        c = self.config.listen
        self._eos = EndOfSpeech(c.silence_seconds, c.no_speech_timeout_seconds, c.max_utterance_seconds,
                                c.min_speech_seconds, c.hesitation_silence_seconds)
        self._set_state(State.RECORDING)

    def _record(self, chunk: AudioChunk) -> None:
        assert self._eos is not None
        self._utterance.append(chunk)
        was_started = self._eos.started
        is_speech = self.stages.vad.probability(chunk.samples) >= self.config.listen.speech_threshold
        result = self._eos.process(CHUNK_SECONDS, is_speech)
        if self._eos.started and not was_started:
            self.bus.emit("speech_start", t=chunk.end_seconds)
        if result is not Segment.CONTINUE:
            self._end_utterance(result, chunk.end_seconds)

    def _end_utterance(self, result: Segment, t: float) -> None:
        assert self._eos is not None
        eos, self._eos = self._eos, None
        chunks, self._utterance = self._utterance, []
        if result is Segment.NO_SPEECH:
            self.bus.emit("error", t=t, code="no_speech", message="I didn't hear a request after the wake word.")
            self._needs_reset = True
            self._mute_until = t
            return
        first = chunks[0].start_seconds if chunks else t
        recorded = len(chunks) * CHUNK_SECONDS
        # last_speech_t: end of the last speech chunk (eos counts from the first chunk after the pre-roll).
        last_speech_t = t - (eos.elapsed - eos.last_speech_end)
        self.bus.emit("speech_end", t=t, last_speech_t=round(last_speech_t, 3), seconds=round(recorded, 3),
                      truncated=result is Segment.MAX_LENGTH, start_t=round(first, 3))
        audio = np.concatenate([c.samples for c in chunks])
        self._cancel = threading.Event()
        self._set_state(State.THINKING)
        self.source.hold()
        self._turn = threading.Thread(target=self._run_turn, args=(audio, last_speech_t, self._cancel),
                                      name="turn", daemon=True)
        self._turn.start()

    # ---- one turn ----------------------------------------------------------------------
    def _run_turn(self, audio: np.ndarray, last_speech_t: float, cancel: threading.Event) -> None:
        timings = TurnTimings()
        try:
            transcript = self.stages.stt.transcribe(audio)
            timings.stt_seconds = transcript.inference_seconds
            text = strip_wake_words(transcript.text, self._wake_model)
            self.bus.emit("transcript", text=text, stt_seconds=round(transcript.inference_seconds, 3))
            if not text:
                self.bus.emit("error", code="no_speech", message="I couldn't make out any words.")
                return
            self.respond(text, cancel, timings, last_speech_t)
        except AssistantError as exc:
            log.warning("turn failed: %s", exc)
            self.bus.emit("error", code=exc.code, message=exc.message)
            self._say(ERROR_REPLY, cancel)
        except Exception as exc:  # the loop recovers to listening instead of dying
            log.exception("turn failed")
            self.bus.emit("error", code="internal", message=str(exc))
        finally:
            self.source.release()

    def respond(self, text: str, cancel: threading.Event, timings: TurnTimings | None = None,
                last_speech_t: float | None = None) -> str:
        """Answer one user message (typed or transcribed): prompt, stream, speak, remember."""
        timings = timings or TurnTimings()
        reply = self.speak_reply(self.conversation.messages(text), cancel, timings, last_speech_t)
        self.conversation.record(text, reply)
        self.bus.emit("reply", text=reply, **timings.as_dict())
        return reply

    def speak_reply(self, messages: list[ChatMessage], cancel: threading.Event, timings: TurnTimings,
                    last_speech_t: float | None = None) -> str:
        """Stream the LLM's reply into the voice; returns the reply text (cleaned, as spoken)."""
        started = time.perf_counter()
        sentences: queue.Queue[str | None] = queue.Queue()
        c = self.config.tts
        chunker = SentenceChunker(c.first_chunk_min_words, c.max_chunk_chars)
        player = _Player(self, cancel, sentences, timings, started, last_speech_t)
        player.start()
        spoken: list[str] = []
        try:
            for delta in self.stages.llm.stream(messages, cancel=cancel):
                if timings.llm_first_token_seconds is None:
                    timings.llm_first_token_seconds = time.perf_counter() - started
                for piece in chunker.feed(delta):
                    if timings.first_sentence_seconds is None:
                        timings.first_sentence_seconds = time.perf_counter() - started
                    spoken.append(piece)
                    sentences.put(piece)
                if cancel.is_set():
                    break
            for piece in chunker.flush():
                spoken.append(piece)
                sentences.put(piece)
            if not spoken and not cancel.is_set():
                spoken.append(FALLBACK_REPLY)
                sentences.put(FALLBACK_REPLY)
        finally:
            sentences.put(None)
            player.join()
        if player.error is not None:
            raise player.error
        return " ".join(spoken)

    def _say(self, text: str, cancel: threading.Event) -> None:
        """Speak a fixed line (errors, notices) through the same TTS and speaker path."""
        sentences: queue.Queue[str | None] = queue.Queue()
        player = _Player(self, cancel, sentences, TurnTimings(), time.perf_counter(), None)
        player.start()
        sentences.put(text)
        sentences.put(None)
        player.join()


class _Player:
    """TTS and playback threads of one reply: sentences in, audio out, in order."""

    def __init__(self, pipeline: Pipeline, cancel: threading.Event, sentences: queue.Queue[str | None],
                 timings: TurnTimings, started: float, last_speech_t: float | None) -> None:
        self.p = pipeline
        self.cancel = cancel
        self.sentences = sentences
        self.timings = timings
        self.started = started
        self.last_speech_t = last_speech_t
        self.audio: queue.Queue[np.ndarray | None] = queue.Queue()
        self.error: Exception | None = None
        self._threads = [threading.Thread(target=self._synthesize, name="tts", daemon=True),
                         threading.Thread(target=self._play, name="player", daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def join(self) -> None:
        for t in self._threads:
            t.join()

    def _synthesize(self) -> None:
        tts = self.p.stages.tts
        if tts is None:  # text only (assistant chat without --speak)
            for _ in iter(self.sentences.get, None):
                pass
            self.audio.put(None)
            return
        pause = np.zeros(int(self.p.config.tts.sentence_pause_seconds * tts.sample_rate_hz), dtype=np.float32)
        try:
            for n, sentence in enumerate(iter(self.sentences.get, None)):
                if self.cancel.is_set():
                    continue  # drain the queue; the LLM side stops on its own
                if n and len(pause):
                    self.audio.put(pause)
                sentence_started = time.perf_counter()
                for block in tts.synthesize(sentence):
                    if self.timings.tts_first_audio_seconds is None:
                        self.timings.tts_first_audio_seconds = time.perf_counter() - sentence_started
                    self.audio.put(block)
                    if self.cancel.is_set():
                        break
        except Exception as exc:
            self.error = exc
            self.cancel.set()
        finally:
            self.audio.put(None)

    def _play(self) -> None:
        rate = self.p.stages.tts.sample_rate_hz if self.p.stages.tts else 1
        first = True
        end = None
        while (block := self.audio.get()) is not None:
            if self.cancel.is_set():
                continue
            start = self.p.speaker.play(block, rate, self.cancel)
            end = start + len(block) / rate
            self.p._speaking_until = end
            if first:
                first = False
                self.p._set_state(State.SPEAKING)
                self.p.bus.emit("tts_start", t=start)
                if self.last_speech_t is not None:
                    self.timings.response_latency_seconds = start - self.last_speech_t
        if end is not None:
            self.p.bus.emit("tts_end", t=end)
