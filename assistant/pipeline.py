"""The voice loop: wake word -> end of speech -> STT -> LLM (streamed) -> sentences -> TTS -> speaker.

Concurrency model (one, written down): the main thread owns the loop and the state machine
and consumes microphone chunks; per chunk it runs only the cheap models (echo canceller,
wake word, VAD; a short STT of a possible stop phrase while she speaks). A finished
utterance starts one *turn* thread: STT, then the LLM stream, whose pieces go to a TTS
thread and a player thread (speaking.py), so the first clause is heard while the LLM is
still writing. A turn owns a `cancel` event that reaches all three (barge-in, shutdown).

Her own voice: with echo cancellation (default) the microphone keeps listening while she
speaks, with what the speaker plays as the reference, so the wake word or a stop phrase
interrupts her (barge-in) and her voice is not heard as the user. Without it, the
microphone is muted while she speaks and for `listen.mute_tail_seconds` after.

After a reply, a follow-up window lets the user go on without the wake word.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from assistant import malloc
from assistant.aec import PlaybackReference
from assistant.announcements import Announcer, Due
from assistant.audio import CHUNK_SECONDS, AudioChunk, AudioSource, PreRoll, Speaker, rms_dbfs
from assistant.barge_in import RawWake, StopListener
from assistant.config import Config
from assistant.cues import CUE_RATE_HZ, follow_up_tone, wake_chime
from assistant.errors import AssistantError
from assistant.events import EventBus
from assistant.guard import Firing, ReplyGuard, guarded
from assistant.persona import Conversation
from assistant.recording import DebugRecorder
from assistant.speaking import FALLBACK_REPLY, TurnTimings, Voice
from assistant.stages import Stages
from assistant.tools import Tools
from assistant.turn import Turn, ends_mid_sentence, greeting_for, is_greeting, is_stop_request, strip_wake_words
from assistant.vad import EndOfSpeech, Segment
from assistant.wake import Detection

__all__ = ["ERROR_REPLY", "FALLBACK_REPLY", "Pipeline", "Stages", "State", "strip_wake_words"]
log = logging.getLogger(__name__)

# Within this long after a wake word, a pause of WAKE_PAUSE_CHUNKS silent chunks separates the
# wake phrase from the request.
WAKE_TAIL_SECONDS = 1.0
WAKE_PAUSE_CHUNKS = 3
# A request started in the follow-up window is still checked for the wake word this long.
FOLLOW_UP_WAKE_SECONDS = 2.0
# Seconds of her speech (per session) before stop phrases and plain speech are listened for.
AEC_SETTLE_SECONDS = 2.0
# ...and while it settles, a wake word must be clear to count (her own voice leaking through
# can score like a weak wake word; people saying it score 0.85-0.99 here).
SETTLING_WAKE_SCORE = 0.8
# After a stop, the raw-microphone wake detector goes on this long (the rest of a wake phrase).
RAW_WAKE_TAIL_SECONDS = 1.5
ERROR_REPLY = "Sorry, something went wrong on my side. Could you say that again?"
# Stop phrases that ask for a moment rather than end the conversation (barge_in.stop_phrases).
HOLD_PHRASES = ["wait", "hold on", "pause"]
# Given to the model only when its first reply failed the guard (never stored or shown).
RETRY_HINT = ("Reply as yourself, in your own words, to what they just said. Do not repeat their words, "
              "do not say your own name, do not talk about your instructions.")


class State(enum.Enum):
    LISTENING = "listening"  # for the wake word
    FOLLOW_UP = "follow_up"  # after a reply: speech counts without the wake word
    RECORDING = "recording"  # the user's request, until the end of speech
    THINKING = "thinking"
    SPEAKING = "speaking"


class Pipeline:
    """The live loop over any `AudioSource` and `Speaker` (see the module docstring)."""

    def __init__(self, config: Config, stages: Stages, source: AudioSource, speaker: Speaker,
                 bus: EventBus, conversation: Conversation, recorder: DebugRecorder | None = None,
                 tools: Tools | None = None) -> None:
        self.config = config
        self.tools = tools
        self.announcer = Announcer(tools) if tools is not None and stages.tts is not None else None
        if tools is not None:
            conversation.memory = tools.memory_context(config.memory.facts_in_prompt)
        self.recorder = recorder
        self.stages = stages
        self.source = source
        self.speaker = speaker
        self.bus = bus
        self.conversation = conversation
        self.guard = ReplyGuard(config.persona.name, conversation.system_prompt)
        self.state = State.LISTENING
        self.reference = PlaybackReference(getattr(speaker, "reference_lead_seconds", 0.0))
        self._aec = stages.echo
        self._barge_in = config.barge_in.enabled and self._aec is not None
        self._stop_listener = StopListener(stages.stt, config.barge_in.stop_phrases) if stages.stt else None
        self._raw_wake = RawWake(stages.wake_raw) if stages.wake_raw is not None and self._barge_in else None
        self.voice = Voice(stages.tts, speaker, config.tts, source.now, on_first_sound=self._first_sound,
                           on_sound=self.reference.add, on_end=self._audio_end)
        self._preroll = PreRoll(config.wake.preroll_seconds)
        self._recent: deque[tuple[AudioChunk, bool]] = deque(maxlen=10)  # follow-up / barge-in pre-roll
        self._utterance: list[AudioChunk] = []
        self._levels: deque[float] = deque(maxlen=32)  # dBFS of the last 2.5 s of chunks
        self._lead_cut = 0  # index in _utterance where the request starts (after the wake phrase)
        self._silent_chunks = 0
        self._from_wake = True
        self._eos: EndOfSpeech | None = None
        self._wake_model = ""
        self._turn: Turn | None = None  # the confirmed turn being answered
        self._spec: Turn | None = None  # a speculative turn started during the end-of-speech silence
        self._abandoned: list[Turn] = []  # cancelled turns whose threads may still be finishing
        self._prewarm_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._mute_until = 0.0
        self._needs_reset = False
        self._speaking_until = 0.0
        self._follow_up_until = 0.0
        self._speech_run = 0.0
        self._await_silence = False
        self._keep_wake_audio = False  # after a stop: a wake word under way may still fire
        self._raw_tail: tuple[Turn, float] | None = None  # (stopped turn, until): see _raw_wake_tail
        self._far_seconds = 0.0  # how long she has spoken with the echo canceller listening
        self.on_level: Callable[[float], None] | None = None  # microphone loudness per chunk (status panel)

    # ---- main loop -------------------------------------------------------------------
    def run(self) -> None:
        """Run until the source ends (file mode) or `stop()`; always waits for the last reply."""
        if self.stages.wake is not None:
            self.stages.wake.new_session()
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
            for turn in (self._turn, self._spec, *self._abandoned):
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
        raw = chunk
        if self.on_level is not None:
            self.on_level(float(np.sqrt(np.mean(np.square(raw.samples / 32768.0)))))
        if self._aec is not None:
            chunk = self._aec.process(chunk, self.reference.window(chunk.start_seconds, len(chunk.samples)))
        self._levels.append(rms_dbfs(chunk.samples))
        if self.announcer is not None:
            self._announce_due(chunk.start_seconds)
        turn = self._turn
        if turn is not None:
            if not turn.done.is_set():
                if self._barge_in:
                    self._listen_while_speaking(chunk, raw, turn)
                return  # otherwise muted while thinking and speaking
            self._turn = None
            self._after_turn(turn, chunk.start_seconds)
        if chunk.start_seconds < self._mute_until:
            return
        if self._needs_reset:
            self._needs_reset = False
            if not self._keep_wake_audio:
                self.stages.wake.reset()
            self._keep_wake_audio = False
            self.stages.vad.reset()
            self._preroll.drain()
            self._recent.clear()
            self._speech_run = 0.0
            self._set_state(State.FOLLOW_UP if self._follow_up_until > chunk.start_seconds else State.LISTENING)
        if self.state is State.FOLLOW_UP and chunk.start_seconds >= self._follow_up_until:
            self.bus.emit("follow_up", t=chunk.start_seconds, open=False)
            self._cue(follow_up_tone(False, self.config.cues.volume), self.config.cues.follow_up)
            self._set_state(State.LISTENING)
        if self.state in (State.LISTENING, State.FOLLOW_UP):
            self._preroll.append(chunk)
            detection = self.stages.wake.process(chunk)
            if detection is None and self._raw_tail is not None:
                detection = self._raw_wake_tail(chunk, raw)
            if detection is not None:
                self._on_wake(detection)
            elif self.state is State.FOLLOW_UP:
                self._follow_up_listen(chunk)
        elif self.state is State.RECORDING:
            self._record(chunk)

    def _is_speech(self, chunk: AudioChunk) -> bool:
        return self.stages.vad.probability(chunk.samples) >= self.config.listen.speech_threshold

    def _track_speech(self, chunk: AudioChunk) -> bool:
        """VAD on a chunk outside a request: keep it (with its verdict) as a possible start of
        one, and count how long the current run of speech is."""
        is_speech = self._is_speech(chunk)
        self._recent.append((chunk, is_speech))
        self._speech_run = self._speech_run + CHUNK_SECONDS if is_speech else 0.0
        return is_speech

    def _after_turn(self, turn: Turn, t: float) -> None:
        """A turn ended by itself: reset the detectors, open the follow-up window."""
        self._needs_reset = True
        end = max(self._speaking_until, t)
        if self._aec is None:
            self._mute_until = end + self.config.listen.mute_tail_seconds
        if turn.dismissed and self._follow_up_until > t:  # "never mind": she is done listening too
            self._follow_up_until = 0.0
            self.bus.emit("follow_up", t=t, open=False)
        window = self.config.follow_up.question_seconds if turn.reply.rstrip().endswith("?") \
            else self.config.follow_up.seconds
        if turn.reply and window > 0:
            self._open_follow_up(end, window)

    def _open_follow_up(self, t: float, seconds: float) -> None:
        self._follow_up_until = t + seconds
        self.bus.emit("follow_up", t=t, open=True, seconds=seconds)
        self._cue(follow_up_tone(True, self.config.cues.volume), self.config.cues.follow_up)

    def _follow_up_listen(self, chunk: AudioChunk) -> None:
        """In the follow-up window, enough speech starts a request without the wake word."""
        if self._await_silence:  # the rest of a stop phrase is not a new request
            self._await_silence = self._is_speech(chunk)
            return
        self._track_speech(chunk)
        if self._speech_run + 1e-9 >= self.config.follow_up.min_speech_seconds:
            self._begin_request(list(self._recent), from_wake=False)

    # ---- timers and reminders ----------------------------------------------------------
    def _announce_due(self, t: float) -> None:
        """Say what is due: now when idle, between her sentences when she is answering,
        after the user has finished when they are speaking."""
        assert self.announcer is not None
        due = self.announcer.due(t)
        if not due:
            return
        if self._turn is None and self.state in (State.LISTENING, State.FOLLOW_UP):
            turn = Turn(np.zeros(0, np.int16), t)
            turn.confirmed.set()
            self.source.hold()  # like a request: a simulated clock waits for her words
            turn.held = True
            turn.thread = threading.Thread(target=self._announce, args=(turn, due), name="turn", daemon=True)
            self._turn = turn
            turn.thread.start()
        elif self._turn is not None and self.state in (State.THINKING, State.SPEAKING):
            threading.Thread(target=self._interject, args=(due,), name="interject", daemon=True).start()
        else:
            for d in due:
                self.announcer.retry(d)

    def _chime(self) -> np.ndarray:
        return Announcer.chime(self.config.cues.volume, self.stages.tts.sample_rate_hz)

    def _sounding(self, due: list[Due]):  # noqa: ANN202 - Callable[[float], None]
        """The callback for when an announcement starts to sound: tell the terminal and events."""
        def sounding(start: float) -> None:
            for d in due:
                self.bus.emit("timer_due", t=start, kind=d.timer.kind, label=d.timer.label, text=d.text)
        return sounding

    def _announce(self, turn: Turn, due: list[Due]) -> None:
        for d in due:
            self.announcer.done(d)
        try:
            turn.reply = self.voice.speak([" ".join(d.text for d in due)], turn.cancel, fallback=None,
                                          prelude=self._chime(), on_first_sound=self._sounding(due)).text
        except Exception:
            log.exception("announcement failed")
        finally:
            turn.done.set()
            self.source.release()

    def _interject(self, due: list[Due]) -> None:
        try:
            speech = self.stages.tts.synthesize_all(" ".join(d.text for d in due))
        except Exception:
            log.exception("announcement failed")
            speech = np.zeros(0, np.float32)
        if len(speech) and self.voice.interject(np.concatenate([self._chime(), speech]), self._sounding(due)):
            for d in due:
                self.announcer.done(d)
        else:  # her reply ended meanwhile: said when she is idle
            for d in due:
                self.announcer.retry(d)

    # ---- barge-in ----------------------------------------------------------------------
    def _listen_while_speaking(self, chunk: AudioChunk, raw: AudioChunk, turn: Turn) -> None:
        """While she speaks: the wake word, a stop phrase or (optionally) any speech stops her.
        `chunk` is echo-cancelled, `raw` is the microphone as it is (see barge_in.py)."""
        if self.state is not State.SPEAKING:
            # Thinking (under a second): the models get the cores; there is nothing to stop yet.
            return
        settling = self._far_seconds < AEC_SETTLE_SECONDS
        # While settling, a weaker score is not a detection at all: it must not reset the model
        # (the same phrase usually scores higher 80 ms later).
        threshold = SETTLING_WAKE_SCORE if settling else None
        detection = self.stages.wake.process(chunk, threshold)
        if detection is None and self._raw_wake is not None:
            detection = self._raw_wake.process(raw, turn, turn.spoken_so_far, threshold)
            if detection is not None:
                log.info("wake word heard on the raw microphone over her voice")
                self.stages.wake.reset()  # its part of the phrase must not fire again
        if detection is not None:
            self._interrupt(turn, "wake", detection.t)
            self._on_wake(detection)
            return
        if settling:
            # The echo canceller adapts to the room during her first seconds of speech; until
            # then her voice can leak through and sound like the user (seen through real devices).
            self._far_seconds += CHUNK_SECONDS
            return
        is_speech = self._track_speech(chunk)
        if self.config.barge_in.on_speech and self._speech_run + 1e-9 >= self.config.barge_in.min_speech_seconds:
            self._interrupt(turn, "speech", chunk.end_seconds)
            self._begin_request(list(self._recent), from_wake=False)
            return
        if self._stop_listener is not None:
            if self._stop_listener.feed(raw, is_speech, turn.spoken_so_far) == "stop":
                self._interrupt(turn, "stop", chunk.end_seconds, heard=self._stop_listener.last_heard)
                self._needs_reset = True
                self._await_silence = True
                # The stop listener decides on partial phrases, and the start of "Hey Jarvis"
                # said over her voice once came out as "Shut up.": she stops at once, and the
                # wake model keeps what it heard so the wake word, if it was one, still fires.
                self._keep_wake_audio = True
                if self._raw_wake is not None:  # ...on either signal (see _raw_wake_tail)
                    self._raw_tail = (turn, chunk.end_seconds + RAW_WAKE_TAIL_SECONDS)
                self._open_follow_up(chunk.end_seconds, self.config.follow_up.seconds)

    def _raw_wake_tail(self, chunk: AudioChunk, raw: AudioChunk) -> Detection | None:
        """Just after a stop: the raw-microphone detector hears the rest of a phrase that may be
        the wake word (the echo-cancelled signal can stay dampened for a moment after her voice
        stops). Same turn, so its audio so far is kept."""
        assert self._raw_tail is not None and self._raw_wake is not None
        turn, until = self._raw_tail
        if chunk.start_seconds >= until:
            self._raw_tail = None
            return None
        detection = self._raw_wake.process(raw, turn, turn.spoken_so_far)
        if detection is not None:
            self._raw_tail = None
            self.stages.wake.reset()
        return detection

    def _interrupt(self, turn: Turn, reason: str, t: float, heard: str = "") -> None:
        turn.interrupted_at = t
        turn.cancel.set()
        # Her voice stops when the player sees the cancel, about now; that can be well after
        # the chunk that decided (t) when a stop-phrase transcription held up the loop (seen:
        # 0.25 s). Until then her echo goes on, and the canceller needs its reference.
        self.reference.cut(max(t, self.source.now()))
        self.bus.emit("interrupt", t=t, reason=reason, **({"heard": heard} if heard else {}))
        self._abandoned.append(turn)
        self._turn = None
        self._speech_run = 0.0
        if self._stop_listener is not None:
            self._stop_listener.reset()
        self._set_state(State.LISTENING)

    # ---- the request --------------------------------------------------------------------
    def _on_wake(self, detection: Detection) -> None:
        self._raw_tail = None
        self.bus.emit("wake", t=detection.t, model=detection.model, score=round(detection.score, 3))
        self._wake_model = detection.model
        self._cue(wake_chime(self.config.cues.volume), self.config.cues.wake)
        self._begin_request([(c, False) for c in self._preroll.drain()], from_wake=True)

    def _begin_request(self, recent: list[tuple[AudioChunk, bool]], from_wake: bool) -> None:
        """Start recording a request; `recent` chunks (with their VAD verdicts) come first."""
        c = self.config.listen
        self._eos = EndOfSpeech(c.silence_seconds, c.no_speech_timeout_seconds, c.max_utterance_seconds,
                                c.min_speech_seconds, c.hesitation_silence_seconds)
        self._utterance = [chunk for chunk, _ in recent]
        if not from_wake:  # these chunks are the start of the request: count them
            for _, is_speech in recent:
                self._eos.process(CHUNK_SECONDS, is_speech)
        self._from_wake = from_wake
        self._speech_start_sent = False
        self._lead_cut = 0
        self._silent_chunks = 0
        self._speech_levels: list[float] = []  # dBFS of the request's speech chunks
        self._quietest = min(self._levels, default=0.0)  # dBFS: the room's noise before the request
        self._recent.clear()
        self._speech_run = 0.0
        self.stages.vad.reset()
        self._set_state(State.RECORDING)

    def _record(self, chunk: AudioChunk) -> None:
        eos = self._eos
        assert eos is not None
        if not self._from_wake and eos.elapsed < FOLLOW_UP_WAKE_SECONDS:
            # A request begun in the follow-up window may start with the wake word after all:
            # then it is a wake, and the pause after it must not end the request.
            detection = self.stages.wake.process(chunk)
            if detection is not None:
                self._cancel_spec()
                self._on_wake(detection)
                return
        self._utterance.append(chunk)
        was_started = eos.started
        is_speech = self._is_speech(chunk)
        level = self._levels[-1]
        self._quietest = min(self._quietest, level)
        if is_speech:
            self._speech_levels.append(level)
        trailing = not is_speech and self._sounds_like_more(level)
        result = eos.process(CHUNK_SECONDS, is_speech)
        self._silent_chunks = 0 if is_speech else self._silent_chunks + 1
        if self._from_wake and eos.elapsed <= WAKE_TAIL_SECONDS and self._silent_chunks == WAKE_PAUSE_CHUNKS:
            # A pause right after the wake word: what the pre-roll and detection kept before it
            # is the end of the wake phrase ("...vis"), which Whisper would mishear as words.
            self._lead_cut = len(self._utterance) - 1  # keep one quiet chunk before the request
            eos.restart()
            self._cancel_spec()
            return
        if eos.started and not was_started and not self._speech_start_sent:
            self._speech_start_sent = True
            self.bus.emit("speech_start", t=chunk.end_seconds)
        if result is not Segment.CONTINUE:
            self._end_utterance(result, chunk.end_seconds)
            return
        spec = self._spec
        if spec is not None and (is_speech or trailing):
            self._cancel_spec()  # the user went on talking: the speculative transcript is stale
            eos.hesitating = False
        elif spec is not None and spec.hesitant:
            eos.hesitating = True  # the words so far end mid-sentence: give the user longer
        elif (spec is None and not trailing and eos.started
              and eos.silence_run + 1e-9 >= self.config.listen.speculative_silence_seconds
              and not any(t.thread.is_alive() for t in self._abandoned)):
            self._abandoned.clear()
            # A simulated clock (fast file mode) stands still while the speculative STT runs, so
            # what it finds (e.g. a hesitation) applies to the same input position every run.
            self.source.hold()
            self._spec = self._start_turn(chunk.end_seconds - eos.silence_run, confirmed=False)

    def _sounds_like_more(self, level_db: float) -> bool:
        """A chunk the VAD calls silence that is still loud for this request: a soft last sound.
        (The "-ce" of a piper "France?" came about 15 dB under its vowels and the VAD missed it;
        a speculative transcript cut before it read "What is the capital of Fran?".) Loud means
        within 20 dB of the request's median speech level and 10 dB above its quietest chunk,
        so steady room noise is not taken for more words."""
        if not self._speech_levels:
            return False
        return level_db > float(np.median(self._speech_levels)) - 20.0 and level_db > self._quietest + 10.0

    def _cancel_spec(self) -> None:
        if self._spec is not None:
            self._spec.cancel.set()
            self._abandoned.append(self._spec)
            self._spec = None

    def _start_turn(self, last_speech_t: float, confirmed: bool) -> Turn:
        audio = np.concatenate([c.samples for c in self._utterance[self._lead_cut:]])
        turn = Turn(audio=audio, last_speech_t=last_speech_t)
        if confirmed:
            turn.confirmed.set()
        turn.thread = threading.Thread(target=self._run_turn, args=(turn, list(self._abandoned)), name="turn",
                                       daemon=True)
        turn.thread.start()
        return turn

    def _end_utterance(self, result: Segment, t: float) -> None:
        assert self._eos is not None
        eos, self._eos = self._eos, None
        chunks = self._utterance[self._lead_cut:]
        spec, self._spec = self._spec, None
        if result is Segment.NO_SPEECH:
            self._utterance = []
            if self._from_wake:
                self.bus.emit("error", t=t, code="no_speech", message="I didn't hear a request after the wake word.")
            self._needs_reset = True
            self._mute_until = t
            return
        first = chunks[0].start_seconds if chunks else t
        # last_speech_t: end of the last speech chunk (eos counts from the first chunk it was given).
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
    def _run_turn(self, turn: Turn, earlier: list[Turn]) -> None:
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
            for other in earlier:  # an interrupted reply must be in the history before this one
                other.thread.join()
            turn.reply = self.respond(text, turn.cancel, timings, turn.last_speech_t, turn)
        except AssistantError as exc:
            log.warning("turn failed: %s", exc)
            if turn.wait_confirmed():
                self.bus.emit("error", code=exc.code, message=exc.message)
                self.voice.say(ERROR_REPLY, turn.cancel)
        except Exception as exc:  # the loop recovers to listening instead of dying
            log.exception("turn failed")
            if turn.wait_confirmed():
                self.bus.emit("error", code="internal", message=str(exc))
        finally:
            if turn.confirmed.is_set() and not self._stop.is_set():
                self._prewarm()
            threading.Thread(target=malloc.trim, name="trim", daemon=True).start()  # see malloc.py
            turn.done.set()
            if turn.held:
                self.source.release()

    def respond(self, text: str, cancel: threading.Event, timings: TurnTimings | None = None,
                last_speech_t: float | None = None, turn: Turn | None = None) -> str:
        """Answer one user message (typed or transcribed): prompt, stream, guard, speak, remember.

        For a speculative `turn`, nothing is played or remembered unless it is confirmed.
        A stop phrase said as the whole request ("stop", "never mind") gets silence and closes
        the follow-up window. Every LLM reply passes the reply guard (guard.py) before it is
        spoken or stored. After an interruption only the part that was heard is remembered."""
        timings = timings or TurnTimings()
        gate = turn.wait_confirmed if turn is not None else None

        def measure_latency(start: float) -> None:
            if last_speech_t is not None:
                timings.response_latency_seconds = start - last_speech_t

        if is_stop_request(text, self.config.barge_in.stop_phrases):
            if gate is not None and not gate():
                return ""
            # "Never mind" ends the conversation; "wait" / "hold on" asks for a moment: the
            # follow-up window stays as it was.
            if turn is not None and not is_stop_request(text, HOLD_PHRASES):
                turn.dismissed = True
            self.bus.emit("dismissed", heard=text)
            return ""
        tool_reply, note, asked = None, "", None
        if self.tools is not None and self.tools.recognises(text):
            if gate is not None and not gate():
                return ""  # a tool acts only on a confirmed request, never speculatively
            tool_reply = self.tools.handle(text)
        journal = self.tools.journal if self.tools is not None else None
        if tool_reply is not None:
            self.bus.emit("tool", tool=tool_reply.tool, ok=tool_reply.ok, said=tool_reply.say)
            deltas: Iterator[str] = iter([tool_reply.say])
        else:
            # A question for today is asked only on a confirmed greeting (a speculative one
            # might be dropped, and the question with it), and marked asked once heard.
            due = self._come_back(text, journal) if gate is None or gate() else None
            if due is not None:
                asked, greeting = due
                deltas = iter([greeting])
            else:
                note = self._note_for(text, journal)
                deltas = self._llm_reply(text, note, cancel)
        if turn is not None:
            deltas = turn.track(deltas)
        try:
            spoken = self.voice.speak(deltas, cancel, timings, gate, on_first_sound=measure_latency)
        finally:
            close = getattr(deltas, "close", None)
            if close is not None:  # ends the LLM's generation now, not when garbage is collected
                close()
        if gate is not None and not gate():
            return ""
        if asked is not None and spoken.heard:
            self._journal_call(journal.mark_asked, asked)
        if tool_reply is None and journal is not None:
            self._journal_call(journal.note, text, self.tools.now())
        if spoken.interrupted and turn is not None and turn.interrupted_at is not None:
            if spoken.heard:  # nothing heard: she did not answer, and the history says nothing
                self.conversation.record(text, spoken.heard, interrupted=True, context=note)
            self.bus.emit("reply", text=spoken.text, heard=spoken.heard, interrupted=True, **timings.as_dict())
            return ""  # no follow-up window after an interruption: the interrupt decides what comes next
        self.conversation.record(text, spoken.text, context=note)
        self.bus.emit("reply", text=spoken.text, interrupted=False, **timings.as_dict())
        return spoken.text

    def _note_for(self, text: str, journal) -> str:  # noqa: ANN001 - journal.Journal | None
        """The system note given with `text`: what she remembers that bears on it ("" when
        nothing does). (A mood hint here, "They are having a hard time. Begin with a kind
        word...", was read out word for word by the 0.5B model in the companion bench; the
        guard's tone check does that job instead.)"""
        if journal is None:
            return ""
        return self._journal_call(journal.context_for, text, self.tools.now()) or ""

    def _llm_reply(self, text: str, note: str, cancel: threading.Event) -> Iterator[str]:
        """The LLM's reply through the guard: the prompt (persona, examples, history, `note`),
        one retry with another sample when the guard fails it."""
        if self.tools is not None:
            self.conversation.memory = self.tools.memory_context(self.config.memory.facts_in_prompt)
        messages = self.conversation.messages(text, note)

        def attempt(n: int) -> Iterator[str]:
            if n == 0:
                return self.stages.llm.stream(messages, cancel=cancel)
            # The retry: the same prompt with a reminder of who speaks, which also gives a
            # seeded model a different sample (its seed follows the prompt).
            retry = [*messages[:-1], {"role": "system", "content": RETRY_HINT}, messages[-1]]
            return self.stages.llm.stream(retry, cancel=cancel)

        def fired(firing: Firing) -> None:
            self.bus.emit("guard", reason=firing.verdict.reason, action=firing.action, attempt=firing.attempt,
                          seconds=round(firing.seconds, 3), text=firing.verdict.detail[:200])

        return guarded(attempt, text, self.guard, fired, cancelled=cancel.is_set, note=note)

    def _come_back(self, text: str, journal) -> tuple[int, str] | None:  # noqa: ANN001
        """On a greeting, the first of the day: a question about something the user mentioned
        for today or yesterday ("How did the dentist go?"), as (entry id, what to say). None:
        answer as usual."""
        if journal is None or not is_greeting(text, self.config.persona.name):
            return None
        due = self._journal_call(journal.due_question, self.tools.now())
        if due is None:
            return None
        entry_id, question = due
        return entry_id, f"{greeting_for(self.tools.now())} {question}"

    @staticmethod
    def _journal_call(method, *args):  # noqa: ANN001, ANN205 - a Journal method and its arguments
        """Memory is never worth a failed turn: a storage error is logged and the turn goes on."""
        try:
            return method(*args)
        except AssistantError as exc:
            log.warning("memory: %s", exc)
            return None

    def _first_sound(self, start: float) -> None:
        self._set_state(State.SPEAKING)
        self.bus.emit("tts_start", t=start)

    def _audio_end(self, end: float) -> None:
        self._speaking_until = end
        self.bus.emit("tts_end", t=end)

    def _cue(self, sound: np.ndarray, enabled: bool) -> None:
        """Play a short cue without blocking the loop (it is in the echo reference too)."""
        if not enabled or self.stages.tts is None or not len(sound):
            return

        asked = self.source.now()

        def play() -> None:
            try:
                self.speaker.play(sound, CUE_RATE_HZ, threading.Event(),
                                  lambda start: self.reference.add(start, sound, CUE_RATE_HZ), at=asked)
            except Exception:
                log.debug("cue failed", exc_info=True)

        threading.Thread(target=play, name="cue", daemon=True).start()

    def _prewarm(self) -> None:
        """Warm the LLM with the next prompt's prefix in the background, so a history step
        (persona + remaining turns re-evaluated) is paid while the user is quiet."""
        prefill = getattr(self.stages.llm, "prefill", None)
        if prefill is None:
            return
        prefix = self.conversation.prefix()
        self._prewarm_thread = threading.Thread(target=prefill, args=(prefix,), name="prewarm", daemon=True)
        self._prewarm_thread.start()
