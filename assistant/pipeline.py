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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.audio import CHUNK_SECONDS, AudioChunk, AudioSource, PreRoll, Speaker
from assistant.config import Config
from assistant.errors import AssistantError
from assistant.events import EventBus
from assistant.llm import ChatMessage
from assistant.persona import Conversation
from assistant.recording import DebugRecorder
from assistant.stt import Transcript
from assistant.text import SentenceChunker
from assistant.vad import EndOfSpeech, Segment
from assistant.wake import Detection

log = logging.getLogger(__name__)

# Within this long after a wake word, a pause of WAKE_PAUSE_CHUNKS silent chunks separates the
# wake phrase from the request.
WAKE_TAIL_SECONDS = 1.0
WAKE_PAUSE_CHUNKS = 3
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


_CONTINUATIONS = {"and", "but", "or", "so", "because", "the", "a", "an", "to", "of", "with", "um", "uh",
                  "like", "if", "then", "my", "your", "for", "in", "on", "at"}


def ends_mid_sentence(text: str) -> bool:
    """True when a transcript looks unfinished ("...and", a trailing comma or ellipsis)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith((",", "...", "…", "-", "—")):
        return True
    last = re.sub(r"[^\w']", "", stripped.split()[-1].lower())
    return last in _CONTINUATIONS


@dataclass
class _Turn:
    """One request being answered. `confirmed` is set when the end of speech is certain;
    until then the turn is speculative and must stay invisible and silent."""

    audio: np.ndarray
    last_speech_t: float
    cancel: threading.Event = field(default_factory=threading.Event)
    confirmed: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread = field(default=None)  # type: ignore[assignment]
    hesitant: bool = False
    held: bool = False  # this turn paused a simulated clock (fast file mode) and must release it
    _text: str | None = None
    _stt_seconds: float = 0.0
    _emitted: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_confirmed(self) -> bool:
        """Block until confirmed (True) or cancelled (False)."""
        while not self.confirmed.wait(0.01):
            if self.cancel.is_set():
                return False
        return True

    def set_transcript(self, text: str, stt_seconds: float, bus: EventBus) -> None:
        with self._lock:
            self._text, self._stt_seconds = text, stt_seconds
        self.emit_transcript(bus)

    def emit_transcript(self, bus: EventBus) -> None:
        """Emit the transcript once, when it is both known and confirmed (either thread)."""
        with self._lock:
            if self._emitted or self._text is None or not self.confirmed.is_set():
                return
            self._emitted = True
        bus.emit("transcript", text=self._text, stt_seconds=round(self._stt_seconds, 3))


class Pipeline:
    """The live loop over any `AudioSource` and `Speaker` (see the module docstring)."""

    def __init__(self, config: Config, stages: Stages, source: AudioSource, speaker: Speaker,
                 bus: EventBus, conversation: Conversation, recorder: DebugRecorder | None = None) -> None:
        self.config = config
        self.recorder = recorder
        self.stages = stages
        self.source = source
        self.speaker = speaker
        self.bus = bus
        self.conversation = conversation
        self.state = State.LISTENING
        self._preroll = PreRoll(config.wake.preroll_seconds)
        self._utterance: list[AudioChunk] = []
        self._lead_cut = 0  # index in _utterance where the request starts (after the wake phrase)
        self._silent_chunks = 0
        self._eos: EndOfSpeech | None = None
        self._wake_model = ""
        self._turn: _Turn | None = None  # the confirmed turn being answered
        self._spec: _Turn | None = None  # a speculative turn started during the end-of-speech silence
        self._abandoned: list[_Turn] = []
        self._prewarm_thread: threading.Thread | None = None
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
            for turn in (self._turn, self._spec):
                if turn is not None:
                    if self._stop.is_set() or not turn.confirmed.is_set():
                        turn.cancel.set()
                    turn.thread.join()
            if self._prewarm_thread is not None:
                self._prewarm_thread.join(timeout=5.0)

    def stop(self) -> None:
        """Ask the loop to end soon: cancels the current turn and closes the source."""
        self._stop.set()
        for turn in (self._turn, self._spec):
            if turn is not None:
                turn.cancel.set()
        self.source.close()

    def _set_state(self, state: State) -> None:
        if state is not self.state or state is State.LISTENING:
            self.state = state
            self.bus.emit("state", state=state.value)

    def _on_chunk(self, chunk: AudioChunk) -> None:
        if self._turn is not None:
            if self._turn.thread.is_alive():
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
        self._lead_cut = 0
        self._silent_chunks = 0
        self.stages.vad.reset()
        c = self.config.listen
        self._eos = EndOfSpeech(c.silence_seconds, c.no_speech_timeout_seconds, c.max_utterance_seconds,
                                c.min_speech_seconds, c.hesitation_silence_seconds)
        self._set_state(State.RECORDING)

    def _record(self, chunk: AudioChunk) -> None:
        eos = self._eos
        assert eos is not None
        self._utterance.append(chunk)
        was_started = eos.started
        is_speech = self.stages.vad.probability(chunk.samples) >= self.config.listen.speech_threshold
        result = eos.process(CHUNK_SECONDS, is_speech)
        self._silent_chunks = 0 if is_speech else self._silent_chunks + 1
        if eos.elapsed <= WAKE_TAIL_SECONDS and self._silent_chunks == WAKE_PAUSE_CHUNKS:
            # A pause right after the wake word: what the pre-roll and detection kept before it
            # is the end of the wake phrase ("...vis"), which Whisper would mishear as words.
            self._lead_cut = len(self._utterance) - 1  # keep one quiet chunk before the request
            eos.restart()
            if self._spec is not None:
                self._spec.cancel.set()
                self._abandoned.append(self._spec)
                self._spec = None
            return
        if eos.started and not was_started:
            self.bus.emit("speech_start", t=chunk.end_seconds)
        if result is not Segment.CONTINUE:
            self._end_utterance(result, chunk.end_seconds)
            return
        spec = self._spec
        if spec is not None and is_speech:
            # The user went on talking: the speculative transcript is stale.
            spec.cancel.set()
            self._abandoned.append(spec)
            self._spec = None
            eos.hesitating = False
        elif spec is not None and spec.hesitant:
            eos.hesitating = True  # the words so far end mid-sentence: give the user longer
        elif (spec is None and eos.started and eos.silence_run + 1e-9 >= self.config.listen.speculative_silence_seconds
              and not any(t.thread.is_alive() for t in self._abandoned)):
            self._abandoned.clear()
            # A simulated clock (fast file mode) stands still while the speculative STT runs, so
            # what it finds (e.g. a hesitation) applies to the same input position every run.
            self.source.hold()
            self._spec = self._start_turn(chunk.end_seconds - eos.silence_run, confirmed=False)

    def _start_turn(self, last_speech_t: float, confirmed: bool) -> _Turn:
        audio = np.concatenate([c.samples for c in self._utterance[self._lead_cut:]])
        turn = _Turn(audio=audio, last_speech_t=last_speech_t)
        if confirmed:
            turn.confirmed.set()
        turn.thread = threading.Thread(target=self._run_turn, args=(turn,), name="turn", daemon=True)
        turn.thread.start()
        return turn

    def _end_utterance(self, result: Segment, t: float) -> None:
        assert self._eos is not None
        eos, self._eos = self._eos, None
        chunks = self._utterance[self._lead_cut:]
        spec, self._spec = self._spec, None
        if result is Segment.NO_SPEECH:
            self._utterance = []
            self.bus.emit("error", t=t, code="no_speech", message="I didn't hear a request after the wake word.")
            self._needs_reset = True
            self._mute_until = t
            return
        first = chunks[0].start_seconds if chunks else t
        # last_speech_t: end of the last speech chunk (eos counts from the first chunk after the pre-roll).
        last_speech_t = t - (eos.elapsed - eos.last_speech_end)
        self.bus.emit("speech_end", t=t, last_speech_t=round(last_speech_t, 3),
                      seconds=round(len(chunks) * CHUNK_SECONDS, 3), truncated=result is Segment.MAX_LENGTH,
                      start_t=round(first, 3), speculative=spec is not None)
        self._set_state(State.THINKING)
        if self.recorder is not None:
            self.recorder.save_utterance(np.concatenate([c.samples for c in chunks]), t)
        self.source.hold()
        if spec is not None:
            spec.held = True
            spec.confirmed.set()
            spec.emit_transcript(self.bus)
            self._turn = spec
        else:
            turn = self._start_turn(last_speech_t, confirmed=True)
            turn.held = True
            self._turn = turn
        self._utterance = []

    # ---- one turn ----------------------------------------------------------------------
    def _run_turn(self, turn: _Turn) -> None:
        """STT, then the reply. A speculative turn (not yet `confirmed`) may run ahead through
        STT, the LLM and TTS, but nothing is shown, played or remembered until it is confirmed;
        a cancelled one leaves no trace."""
        timings = TurnTimings()
        try:
            try:
                transcript = self.stages.stt.transcribe(turn.audio)
            finally:
                if not turn.confirmed.is_set():
                    self.source.release()  # the hold taken when this speculative turn started
            timings.stt_seconds = transcript.inference_seconds
            text = strip_wake_words(transcript.text, self._wake_model)
            turn.hesitant = ends_mid_sentence(text)
            turn.set_transcript(text, transcript.inference_seconds, self.bus)
            if not text:
                if turn.wait_confirmed():
                    self.bus.emit("error", code="no_speech", message="I couldn't make out any words.")
                return
            self.respond(text, turn.cancel, timings, turn.last_speech_t, gate=turn.wait_confirmed)
        except AssistantError as exc:
            log.warning("turn failed: %s", exc)
            if turn.wait_confirmed():
                self.bus.emit("error", code=exc.code, message=exc.message)
                self._say(ERROR_REPLY, turn.cancel)
        except Exception as exc:  # the loop recovers to listening instead of dying
            log.exception("turn failed")
            if turn.wait_confirmed():
                self.bus.emit("error", code="internal", message=str(exc))
        finally:
            if turn.held:
                self.source.release()
            if turn.confirmed.is_set() and not self._stop.is_set():
                self._prewarm()

    def _prewarm(self) -> None:
        """Warm the LLM with the next prompt's prefix in the background, so a history step
        (persona + remaining turns re-evaluated) is paid while the user is quiet."""
        prefill = getattr(self.stages.llm, "prefill", None)
        if prefill is None:
            return
        prefix = self.conversation.prefix()
        self._prewarm_thread = threading.Thread(target=prefill, args=(prefix,), name="prewarm", daemon=True)
        self._prewarm_thread.start()

    def respond(self, text: str, cancel: threading.Event, timings: TurnTimings | None = None,
                last_speech_t: float | None = None, gate: Callable[[], bool] | None = None) -> str:
        """Answer one user message (typed or transcribed): prompt, stream, speak, remember.

        `gate` (speculative turns) blocks until the turn is confirmed and returns False if it
        was cancelled instead; nothing is played or remembered before it returns True."""
        timings = timings or TurnTimings()
        reply = self.speak_reply(self.conversation.messages(text), cancel, timings, last_speech_t, gate)
        if gate is not None and not gate():
            return ""
        self.conversation.record(text, reply)
        self.bus.emit("reply", text=reply, **timings.as_dict())
        return reply

    def speak_reply(self, messages: list[ChatMessage], cancel: threading.Event, timings: TurnTimings,
                    last_speech_t: float | None = None, gate: Callable[[], bool] | None = None) -> str:
        """Stream the LLM's reply into the voice; returns the reply text (cleaned, as spoken)."""
        started = time.perf_counter()
        sentences: queue.Queue[str | None] = queue.Queue()
        c = self.config.tts
        chunker = SentenceChunker(c.first_chunk_min_words, c.max_chunk_chars, c.first_chunk_max_words)
        player = _Player(self, cancel, sentences, timings, started, last_speech_t, gate)
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
                    player.queue_piece(piece)
                # The LLM is pulled token by token: while the voice has a piece to synthesise it
                # gets the cores (2 cores cannot run both at full speed; oversubscribed threads
                # collapse throughput), and the next token waits. Speech is slower than either.
                while not player.tts_idle.wait(0.02) and not cancel.is_set():
                    pass
                if cancel.is_set():
                    break
            for piece in chunker.flush():
                if timings.first_sentence_seconds is None:
                    timings.first_sentence_seconds = time.perf_counter() - started
                spoken.append(piece)
                player.queue_piece(piece)
            if not spoken and not cancel.is_set():
                spoken.append(FALLBACK_REPLY)
                player.queue_piece(FALLBACK_REPLY)
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
        player.queue_piece(text)
        sentences.put(None)
        player.join()


class _Player:
    """TTS and playback threads of one reply: sentences in, audio out, in order."""

    def __init__(self, pipeline: Pipeline, cancel: threading.Event, sentences: queue.Queue[str | None],
                 timings: TurnTimings, started: float, last_speech_t: float | None,
                 gate: Callable[[], bool] | None = None) -> None:
        self.p = pipeline
        self.gate = gate
        self.cancel = cancel
        self.sentences = sentences
        self.timings = timings
        self.started = started
        self.last_speech_t = last_speech_t
        self.audio: queue.Queue[np.ndarray | None] = queue.Queue()
        self.tts_idle = threading.Event()  # clear while pieces wait for or are in synthesis
        self.tts_idle.set()
        self._pending = 0
        self._pending_lock = threading.Lock()
        self.error: Exception | None = None
        self._threads = [threading.Thread(target=self._synthesize, name="tts", daemon=True),
                         threading.Thread(target=self._play, name="player", daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def queue_piece(self, text: str) -> None:
        """Hand a piece of the reply to the voice (marks the voice busy until it is done)."""
        with self._pending_lock:
            self._pending += 1
            self.tts_idle.clear()
        self.sentences.put(text)

    def _piece_done(self) -> None:
        with self._pending_lock:
            self._pending = max(0, self._pending - 1)
            if self._pending == 0:
                self.tts_idle.set()

    def join(self) -> None:
        for t in self._threads:
            t.join()

    def _synthesize(self) -> None:
        tts = self.p.stages.tts
        if tts is None:  # text only (assistant chat without --speak)
            for _ in iter(self.sentences.get, None):
                self._piece_done()
            self.audio.put(None)
            return
        pause = np.zeros(int(self.p.config.tts.sentence_pause_seconds * tts.sample_rate_hz), dtype=np.float32)
        try:
            previous = ""
            for sentence in iter(self.sentences.get, None):
                if self.cancel.is_set():
                    self._piece_done()
                    continue  # drain the queue; the LLM side stops on its own
                # A pause between sentences, not inside one that was cut early for speed.
                if previous.endswith((".", "!", "?", "…", ";", ":")) and len(pause):
                    self.audio.put(pause)
                previous = sentence
                sentence_started = time.perf_counter()
                for block in tts.synthesize(sentence):
                    if self.timings.tts_first_audio_seconds is None:
                        self.timings.tts_first_audio_seconds = time.perf_counter() - sentence_started
                    self.audio.put(block)
                    if self.cancel.is_set():
                        break
                self._piece_done()
        except Exception as exc:
            self.error = exc
            self.cancel.set()
        finally:
            self.tts_idle.set()
            self.audio.put(None)

    def _play(self) -> None:
        rate = self.p.stages.tts.sample_rate_hz if self.p.stages.tts else 1
        end = None

        def first_sound(start: float) -> None:
            self.p._set_state(State.SPEAKING)
            self.p.bus.emit("tts_start", t=start)
            if self.last_speech_t is not None:
                self.timings.response_latency_seconds = start - self.last_speech_t

        while (block := self.audio.get()) is not None:
            if end is None and self.gate is not None and not self.gate():
                self.cancel.set()  # a speculative turn that was not confirmed: never heard
            if self.cancel.is_set():
                continue
            start = self.p.speaker.play(block, rate, self.cancel, first_sound if end is None else None)
            end = start + len(block) / rate
            self.p._speaking_until = end
        if end is not None:
            self.p.bus.emit("tts_end", t=end)
