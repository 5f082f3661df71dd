"""Speaking a reply: LLM deltas -> speakable pieces -> TTS thread -> player thread -> speaker.

Contract: `Voice.speak(deltas, cancel, ...)` pulls the LLM's text deltas, cuts them into pieces
(`SentenceChunker`), synthesises each piece on a TTS thread and plays the audio in order on a
player thread, so the first piece is heard while the LLM is still writing. It returns a
`SpokenReply` with the whole text and the part that was actually heard: when `cancel` is
set (barge-in, shutdown) playback stops within one 50 ms write and `heard` ends at the word
being spoken then. A speculative reply (`gate`) is synthesised but never played unless the
gate opens. Every block that starts to sound is reported to `on_sound(start_t, audio, rate)`
(the echo canceller's reference).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from assistant.audio import Speaker
from assistant.config import TtsConfig
from assistant.text import SentenceChunker

FALLBACK_REPLY = "Sorry, I don't have an answer for that."


@dataclass
class TurnTimings:
    stt_seconds: float = 0.0
    llm_first_token_seconds: float | None = None
    first_sentence_seconds: float | None = None
    tts_first_audio_seconds: float | None = None
    response_latency_seconds: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


@dataclass
class SpokenReply:
    text: str  # the whole reply, cleaned for speech
    heard: str  # what had been played when it stopped (== text unless interrupted)
    interrupted: bool


def heard_part(pieces: list[str], played: dict[int, tuple[float, float]], stopped_at: float | None) -> str:
    """The words heard before `stopped_at`, given per piece (first sound, last sound) times.
    Within the piece being spoken, words are assumed evenly spread over its audio."""
    if stopped_at is None:
        return " ".join(pieces)
    heard: list[str] = []
    for index, piece in enumerate(pieces):
        if index not in played:
            break
        start, end = played[index]
        if stopped_at >= end:
            heard.append(piece)
            continue
        words = piece.split()
        fraction = max(0.0, (stopped_at - start) / max(end - start, 1e-6))
        heard.extend(words[: int(len(words) * fraction)])
        break
    return " ".join(heard)


class Voice:
    """Turns a stream of text into sound on a `Speaker` (see the module docstring)."""

    def __init__(self, tts, speaker: Speaker, config: TtsConfig, clock: Callable[[], float],
                 on_first_sound: Callable[[float], None] | None = None,
                 on_sound: Callable[[float, np.ndarray, int], None] | None = None,
                 on_end: Callable[[float], None] | None = None) -> None:
        self.tts = tts
        self.speaker = speaker
        self.config = config
        self.clock = clock
        self.on_first_sound = on_first_sound
        self.on_sound = on_sound
        self.on_end = on_end
        self._player: _Player | None = None  # the reply being spoken, if any
        self._lock = threading.Lock()

    def interject(self, audio: np.ndarray, on_start: Callable[[float], None] | None = None) -> bool:
        """Play `audio` (at the voice's sample rate) before the reply being prepared starts, at
        the next pause between its sentences, or right after its last one; `on_start(t)` is
        called when it starts to sound. False when no reply is being spoken (or it is already
        over): then the caller must play it itself."""
        with self._lock:
            player = self._player
            if player is None or player.closed:
                return False
            player.interjections.put((audio, on_start))
            return True

    def speak(self, deltas: Iterable[str], cancel: threading.Event, timings: TurnTimings | None = None,
              gate: Callable[[], bool] | None = None, fallback: str | None = FALLBACK_REPLY,
              on_first_sound: Callable[[float], None] | None = None,
              prelude: np.ndarray | None = None) -> SpokenReply:
        """`on_first_sound` (for this reply) is called with the time its first audio sounds,
        after the Voice's own `on_first_sound`. `prelude` (audio at the voice's rate, e.g. a
        chime) plays before the first words."""
        timings = timings or TurnTimings()
        started = time.perf_counter()
        c = self.config
        chunker = SentenceChunker(c.first_chunk_min_words, c.max_chunk_chars, c.first_chunk_max_words)
        player = _Player(self, cancel, timings, gate, on_first_sound)
        if prelude is not None:
            player.interjections.put((prelude, None))
        with self._lock:
            self._player = player
        player.start()
        try:
            for delta in deltas:
                if timings.llm_first_token_seconds is None:
                    timings.llm_first_token_seconds = time.perf_counter() - started
                for piece in chunker.feed(delta):
                    if timings.first_sentence_seconds is None:
                        timings.first_sentence_seconds = time.perf_counter() - started
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
                player.queue_piece(piece)
            if not player.pieces and fallback and not cancel.is_set():
                player.queue_piece(fallback)
        finally:
            player.finish()
            with self._lock:
                if self._player is player:
                    self._player = None
        if player.error is not None:
            raise player.error
        text = " ".join(player.pieces)
        interrupted = player.stopped_at is not None
        return SpokenReply(text, heard_part(player.pieces, player.played, player.stopped_at), interrupted)

    def say(self, text: str, cancel: threading.Event, prelude: np.ndarray | None = None) -> SpokenReply:
        """Speak a fixed line (errors, notices, announcements) through the same path."""
        return self.speak([text], cancel, fallback=None, prelude=prelude)


class _Player:
    """The TTS and playback threads of one reply: pieces in, audio out, in order."""

    def __init__(self, voice: Voice, cancel: threading.Event, timings: TurnTimings,
                 gate: Callable[[], bool] | None, on_first_sound: Callable[[float], None] | None = None) -> None:
        self.voice = voice
        self.on_first_sound = on_first_sound
        self.cancel = cancel
        self.timings = timings
        self.gate = gate
        self.pieces: list[str] = []
        self.played: dict[int, tuple[float, float]] = {}  # piece index -> (first sound, last sound)
        self.stopped_at: float | None = None
        self.error: Exception | None = None
        self.tts_idle = threading.Event()  # clear while pieces wait for or are in synthesis
        self.tts_idle.set()
        # (audio, on_start) to play between sentences: see Voice.interject
        self.interjections: queue.Queue[tuple[np.ndarray, Callable[[float], None] | None]] = queue.Queue()
        self.closed = False  # no more interjections are taken (under the Voice's lock)
        self._texts: queue.Queue[str | None] = queue.Queue()
        self._audio: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._synthesize, name="tts", daemon=True),
                         threading.Thread(target=self._play, name="player", daemon=True)]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def queue_piece(self, text: str) -> None:
        """Hand a piece to the voice (marks the voice busy until it is synthesised)."""
        with self._lock:
            self.pieces.append(text)
            self._pending += 1
            self.tts_idle.clear()
        self._texts.put(text)

    def finish(self) -> None:
        self._texts.put(None)
        for t in self._threads:
            t.join()

    def _piece_done(self) -> None:
        with self._lock:
            self._pending = max(0, self._pending - 1)
            if self._pending == 0:
                self.tts_idle.set()

    def _synthesize(self) -> None:
        tts = self.voice.tts
        try:
            if tts is None:  # text only (assistant chat without --speak)
                for _ in iter(self._texts.get, None):
                    self._piece_done()
                return
            pause = np.zeros(int(self.voice.config.sentence_pause_seconds * tts.sample_rate_hz), np.float32)
            previous = ""
            for index, piece in enumerate(iter(self._texts.get, None)):
                if self.cancel.is_set():
                    self._piece_done()
                    continue  # drain the queue; the LLM side stops on its own
                # A pause between sentences, not inside one that was cut early for speed.
                if previous.endswith((".", "!", "?", "…", ";", ":")) and len(pause):
                    self._audio.put((-1, pause))
                previous = piece
                piece_started = time.perf_counter()
                for block in tts.synthesize(piece):
                    if self.timings.tts_first_audio_seconds is None:
                        self.timings.tts_first_audio_seconds = time.perf_counter() - piece_started
                    self._audio.put((index, block))
                    if self.cancel.is_set():
                        break
                self._piece_done()
        except Exception as exc:
            self.error = exc
            self.cancel.set()
        finally:
            self.tts_idle.set()
            self._audio.put(None)

    def _play(self) -> None:
        v = self.voice
        rate = v.tts.sample_rate_hz if v.tts else 1
        end: float | None = None
        finished = False
        while True:
            item = self._audio.get()
            if item is None:
                finished = True
                break
            index, block = item
            if end is None and self.gate is not None and not self.gate():
                self.cancel.set()  # a speculative reply that was not confirmed: never heard
            if self.cancel.is_set():
                continue
            if (index == -1 or end is None) and not self.interjections.empty():  # before or between sentences
                end = self._play_interjections(end)

            def sounding(start: float, index: int = index, block: np.ndarray = block,
                         first: bool = end is None) -> None:
                if first:
                    for callback in (v.on_first_sound, self.on_first_sound):
                        if callback is not None:
                            callback(start)
                if v.on_sound is not None:
                    v.on_sound(start, block, rate)
                if index >= 0:
                    began = self.played.get(index, (start, start))[0]
                    self.played[index] = (began, start + len(block) / rate)

            start = v.speaker.play(block, rate, self.cancel, sounding)
            end = start + len(block) / rate
            if self.cancel.is_set():
                self.stopped_at = min(v.clock(), end)  # stopped during this block: heard up to now
                end = self.stopped_at
                break
        while not finished and self._audio.get() is not None:  # let the TTS thread finish
            pass
        with v._lock:
            self.closed = True
        if not self.cancel.is_set() and (end is not None or self.gate is None or self.gate()):
            end = self._play_interjections(end)
        if self.cancel.is_set() and self.stopped_at is None and end is not None:
            self.stopped_at = end
        if end is not None and v.on_end is not None:
            v.on_end(end)

    def _play_interjections(self, end: float | None) -> float | None:
        """Play what `Voice.interject` queued (not part of the reply's text); returns the new end."""
        v = self.voice
        rate = v.tts.sample_rate_hz if v.tts else 1
        while not self.interjections.empty() and not self.cancel.is_set():
            block, on_start = self.interjections.get()

            def sounding(start: float, block: np.ndarray = block, first: bool = end is None,
                         on_start: Callable[[float], None] | None = on_start) -> None:
                if first:
                    for callback in (v.on_first_sound, self.on_first_sound):
                        if callback is not None:
                            callback(start)
                if on_start is not None:
                    on_start(start)
                if v.on_sound is not None:
                    v.on_sound(start, block, rate)

            start = v.speaker.play(block, rate, self.cancel, sounding)
            end = start + len(block) / rate
        return end
