"""Real audio devices through PortAudio (sounddevice). The only module importing sounddevice.

Contract: `Microphone` delivers 16 kHz mono int16 80 ms chunks whatever the device's own
rate (it opens at 16 kHz when allowed, otherwise at the device's default rate and
resamples). The audio callback only copies into a bounded queue; when the consumer falls
behind, the oldest audio is dropped and counted. `DeviceSpeaker` plays float32 audio,
resampled to the device's rate when needed; a failed write is logged and the stream reopened,
never fatal. Problems raise `AudioDeviceError` with a line
that names the device and lists the ones that exist.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from assistant.audio import CHUNK_SAMPLES, CHUNK_SECONDS, SAMPLE_RATE_HZ, AudioChunk, float_to_int16, resample
from assistant.errors import AudioDeviceError

log = logging.getLogger(__name__)
STARTUP_SECONDS = 5.0  # how long a freshly opened stream may take to deliver its first block


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library itself is missing
        raise AudioDeviceError(
            "The PortAudio library is not installed, so no audio device can be opened.",
            hint="Install it with `sudo apt-get install libportaudio2` (Debian/Ubuntu), then try again.",
        ) from exc
    return sounddevice


def list_devices() -> list[dict[str, Any]]:
    """Every PortAudio device with its index, name, channel counts and default rate."""
    sd = _sd()
    try:
        devices = sd.query_devices()
    except Exception as exc:
        raise AudioDeviceError(f"Cannot list audio devices: {exc}") from exc
    return [
        {"index": i, "name": d["name"], "inputs": d["max_input_channels"], "outputs": d["max_output_channels"],
         "default_rate_hz": int(d["default_samplerate"])}
        for i, d in enumerate(devices)
    ]


def _describe(devices: list[dict[str, Any]], kind: str) -> str:
    names = [f"{d['index']}: {d['name']}" for d in devices if d[kind] > 0]
    return "; ".join(names) if names else "none"


def resolve_device(wanted: str | int | None, kind: str) -> int | None:
    """Map a configured device (None = system default, an index, or part of a name) to an index.

    `kind` is "inputs" or "outputs". Never silently falls back to another device."""
    sd = _sd()
    devices = list_devices()
    word = "microphone" if kind == "inputs" else "speaker"
    key = "audio.input_device" if kind == "inputs" else "audio.output_device"
    usable = [d for d in devices if d[kind] > 0]
    if not usable:
        raise AudioDeviceError(
            f"No {word} found (0 {kind[:-1]} devices).",
            hint=f"Connect one, or check `assistant devices`; set {key} to choose one.",
        )
    if wanted is None:
        default = sd.default.device[0 if kind == "inputs" else 1]
        if default is None or default < 0:
            return usable[0]["index"]
        return int(default)
    if isinstance(wanted, int) or str(wanted).isdigit():
        index = int(wanted)
        if any(d["index"] == index for d in usable):
            return index
    else:
        for d in usable:
            if str(wanted).lower() in d["name"].lower():
                return d["index"]
    raise AudioDeviceError(
        f"The {word} {wanted!r} ({key}) was not found. Available: {_describe(devices, kind)}.",
        hint="Run `assistant devices` and set the key to one of these names or numbers.",
    )


class CaptureClock:
    """The microphone's timeline on the monotonic clock.

    Chunk times count samples, and `now()` must agree with them: playback is placed on the
    timeline at `now()` + the output latency, and the echo canceller needs that reference to
    come just before the echo lands in the microphone (an echo that seems to come first cannot
    be cancelled). A stream's first block arrives late (PulseAudio here: about 2 s after
    opening; counting from the opening put her echo 2 s before its reference, so none of it was
    cancelled) and blocks arrive with jitter, so the offset is the smallest
    (arrival - timeline position) over the last few seconds: the least-delayed block."""

    WINDOW_BLOCKS = 64  # about 5 s of 80 ms blocks

    def __init__(self) -> None:
        self.offset = time.monotonic()  # the monotonic time of timeline 0
        self._recent: deque[float] = deque(maxlen=self.WINDOW_BLOCKS)

    def now(self) -> float:
        return time.monotonic() - self.offset

    def first_chunk(self, arrival: float, block_seconds: float) -> int:
        """Where a stream's first block (or the first after an outage) goes on the timeline:
        it ends about when it arrived, so the timeline goes on from `now()` without a jump back."""
        self._recent.clear()
        return math.ceil(max(0.0, arrival - self.offset - block_seconds) / CHUNK_SECONDS)

    def arrived(self, arrival: float, timeline_end: float) -> None:
        """A block ending at `timeline_end` arrived at monotonic `arrival`."""
        self._recent.append(arrival - timeline_end)
        self.offset = min(self._recent)


class Microphone:
    """A PortAudio input stream delivering `AudioChunk`s (see the module docstring), with a
    watchdog: when no audio arrives for `stall_seconds` (device unplugged, stalled, or an
    exception in the audio callback), the stream is closed and reopened with back-off
    (0.5 s, doubling up to `max_backoff_seconds`) until audio flows again. The user is told
    once when it is lost and once when it is back (`on_status(status, message)`, status
    "lost" or "back"); listening resumes by itself. Overflows are counted and logged."""

    def __init__(self, device: str | int | None = None, max_queue_seconds: float = 10.0,
                 stall_seconds: float = 2.0, max_backoff_seconds: float = 30.0) -> None:
        self._wanted = device
        self.stall_seconds = stall_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.on_status: Callable[[str, str], None] | None = None
        # (block, arrival on the monotonic clock, sequence number): a gap in the numbers is audio
        # dropped because the reader fell behind, and the timeline skips it.
        self._queue: queue.Queue[tuple[np.ndarray, float, int]] = queue.Queue(
            maxsize=max(1, int(max_queue_seconds / 0.08)))
        self._sequence = 0
        self.dropped_blocks = 0
        self.overflows = 0
        self.reopens = 0
        self._logged_overflows = 0
        self._callback_error: BaseException | None = None
        self._closed = threading.Event()
        self.clock = CaptureClock()
        self._stream: Any = None
        self._open()  # at start a problem is an error with the fix, not a retry loop

    def _open(self) -> None:
        sd = _sd()
        self._index = resolve_device(self._wanted, "inputs")
        rate = SAMPLE_RATE_HZ
        try:
            sd.check_input_settings(device=self._index, samplerate=rate, channels=1, dtype="int16")
        except Exception:
            rate = int(sd.query_devices(self._index)["default_samplerate"])
            log.info("microphone does not take 16 kHz; recording at %d Hz and resampling", rate)
        self.rate_hz = rate
        try:
            self._stream = sd.InputStream(device=self._index, samplerate=rate, channels=1, dtype="float32",
                                          blocksize=int(rate * 0.08), callback=self._callback)
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"Cannot open the microphone (device {self._index}): {exc}",
                                   hint="Check `assistant devices` and audio.input_device.") from exc

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy and enqueue only. An exception here would stop the
        # stream silently, so it is kept for the reading side (the watchdog reports and reopens).
        try:
            if status and status.input_overflow:
                self.overflows += 1
            self._sequence += 1
            block = (indata[:, 0].copy(), time.monotonic(), self._sequence)
            try:
                self._queue.put_nowait(block)
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped_blocks += 1
                except queue.Empty:
                    pass
                self._queue.put_nowait(block)
        except Exception as exc:
            self._callback_error = exc
            raise _sd().CallbackAbort from exc

    def _report(self, status: str, message: str) -> None:
        (log.warning if status == "lost" else log.info)(message)
        if self.on_status is not None:
            try:
                self.on_status(status, message)
            except Exception:
                log.debug("status listener failed", exc_info=True)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception:
            log.debug("closing the microphone failed", exc_info=True)

    def _reopen(self, delay: float) -> float:
        """Close and try to reopen once after `delay` s; returns the next delay (back-off)."""
        self._close_stream()
        if self._closed.wait(delay):
            return delay
        try:
            self._callback_error = None
            self._open()
            self.reopens += 1
        except Exception as exc:  # still gone: try again later
            log.debug("reopening the microphone failed: %s", exc)
        return min(delay * 2, self.max_backoff_seconds)

    def chunks(self) -> Iterator[AudioChunk]:
        pending = np.zeros(0, dtype=np.int16)
        produced = 0
        last_sequence = 0
        first = True
        last_audio = time.monotonic()
        # A stream may take a while to deliver its first block (PulseAudio: about 2 s here).
        patience = max(STARTUP_SECONDS, self.stall_seconds)
        lost = False
        delay = 0.5
        while not self._closed.is_set():
            try:
                block, arrival, sequence = self._queue.get(timeout=0.1)
            except queue.Empty:
                failed = self._callback_error is not None or self._stream is None
                if failed or time.monotonic() - last_audio > patience:
                    if not lost:
                        why = (f"an error in the audio callback: {self._callback_error}" if self._callback_error
                               else f"no audio for {self.stall_seconds:g} s")
                        self._report("lost", f"The microphone stopped ({why}). Reopening it...")
                        lost = True
                    delay = self._reopen(delay)
                    last_audio = time.monotonic()
                    patience = max(STARTUP_SECONDS, self.stall_seconds)
                continue
            if lost:
                lost, delay = False, 0.5
                self._report("back", "The microphone is back. Listening again.")
                first = True
            if first:  # the timeline skips the wait (or outage): chunk and playback times agree
                first = False
                pending = np.zeros(0, dtype=np.int16)
                produced = max(produced, self.clock.first_chunk(arrival, len(block) / self.rate_hz))
            elif sequence > last_sequence + 1:  # blocks were dropped: skip their time, not just their audio
                skipped = (sequence - last_sequence - 1) * len(block) / self.rate_hz
                log.warning("the microphone queue overflowed: %.2f s of audio was dropped", skipped)
                pending = np.zeros(0, dtype=np.int16)  # a partial chunk cannot run on across the gap
                produced += max(1, round(skipped / CHUNK_SECONDS))
            last_sequence = sequence
            last_audio = time.monotonic()
            patience = self.stall_seconds
            if self.overflows > self._logged_overflows:
                log.warning("microphone input overflowed (%d times so far): audio was lost", self.overflows)
                self._logged_overflows = self.overflows
            pending = np.concatenate([pending, float_to_int16(resample(block, self.rate_hz, SAMPLE_RATE_HZ))])
            self.clock.arrived(arrival, produced * CHUNK_SECONDS + len(pending) / SAMPLE_RATE_HZ)
            while len(pending) >= CHUNK_SAMPLES:
                yield AudioChunk(pending[:CHUNK_SAMPLES], produced * CHUNK_SAMPLES / SAMPLE_RATE_HZ)
                pending = pending[CHUNK_SAMPLES:]
                produced += 1

    def now(self) -> float:
        return self.clock.now()

    def hold(self) -> None:
        pass

    def release(self) -> None:
        pass

    def close(self) -> None:
        self._closed.set()
        self._close_stream()


class DeviceSpeaker:
    """A PortAudio output stream, kept open for the session.

    `play` returns (and reports) when its audio starts to sound, an estimate on the clock's
    timeline: right after what is still queued, or now when the device is idle. Measured here
    through PulseAudio, "now + the reported output latency" was 36 ms late after a quiet spell
    and about right while audio was queued; that inconsistency moved her echo by 40 ms between
    sentences, and the echo canceller leaked while it re-adapted."""

    # Its echo reference is placed this much earlier than that estimate, so the echo always
    # comes after it (see aec.py).
    reference_lead_seconds = 0.05

    def __init__(self, device: str | int | None, rate_hz: int, clock: Any) -> None:
        sd = _sd()
        self._index = resolve_device(device, "outputs")
        try:
            sd.check_output_settings(device=self._index, samplerate=rate_hz, channels=1, dtype="float32")
        except Exception:
            rate_hz = int(sd.query_devices(self._index)["default_samplerate"])
        self.rate_hz = rate_hz
        self._clock = clock
        self._lock = threading.Lock()  # PortAudio's blocking writes are not thread-safe (reply + cue)
        self.underflows = 0
        self.failed = False
        self._queued_until = float("-inf")  # when what was written so far ends, on the clock
        self._open()

    def _open(self) -> None:
        sd = _sd()
        try:
            self._stream = sd.OutputStream(device=self._index, samplerate=self.rate_hz, channels=1,
                                           dtype="float32")
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"Cannot open the speaker (device {self._index}): {exc}",
                                   hint="Check `assistant devices` and audio.output_device.") from exc

    def play(self, audio: np.ndarray, rate_hz: int, cancel: threading.Event,
             on_start: Callable[[float], None] | None = None, at: float | None = None) -> float:
        block = resample(audio, rate_hz, self.rate_hz).astype(np.float32)
        with self._lock:
            # Writes block until there is room in the device buffer, so what is written now is
            # heard right after what is queued (contiguous), or at once on an idle device.
            start = max(self._clock(), self._queued_until)
            self._queued_until = start + len(block) / self.rate_hz
            if on_start is not None:
                on_start(start)
            step = int(self.rate_hz * 0.05)  # small writes so a cancel is heard within ~50 ms
            try:
                for i in range(0, len(block), step):
                    if cancel.is_set():  # what is in the device buffer still plays
                        self._queued_until = self._clock() + float(self._stream.latency or 0.0)
                        break
                    if self._stream.write(block[i : i + step].reshape(-1, 1)):
                        self.underflows += 1  # the device ran dry (normal after a quiet spell)
            except Exception as exc:  # the speaker went away: this audio is lost, not the loop
                self._lost(exc)
        return start

    def _lost(self, exc: Exception) -> None:
        """Tell the user once, and try to reopen for the next thing she says."""
        if not self.failed:
            log.warning("The speaker stopped working (%s); trying to reopen it.", exc)
        self.failed = True
        self._queued_until = float("-inf")
        try:
            self._stream.close()
        except Exception:
            log.debug("closing the speaker failed", exc_info=True)
        try:
            self._open()
            self.failed = False
            log.warning("The speaker is back.")
        except Exception as reopen_exc:
            log.debug("reopening the speaker failed: %s", reopen_exc)

    def close(self) -> None:
        try:
            # Let what is buffered finish, then close.
            time.sleep(min(0.5, float(self._stream.latency or 0.0)))
            self._stream.stop()
            self._stream.close()
        except Exception:
            log.debug("closing the speaker failed", exc_info=True)
