"""Real audio devices through PortAudio (sounddevice). The only module importing sounddevice.

Contract: `Microphone` delivers 16 kHz mono int16 80 ms chunks whatever the device's own
rate (it opens at 16 kHz when allowed, otherwise at the device's default rate and
resamples). The audio callback only copies into a bounded queue; when the consumer falls
behind, the oldest audio is dropped and counted. `DeviceSpeaker` plays float32 audio,
resampled to the device's rate when needed. Problems raise `AudioDeviceError` with a line
that names the device and lists the ones that exist.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from assistant.audio import CHUNK_SAMPLES, SAMPLE_RATE_HZ, AudioChunk, float_to_int16, resample
from assistant.errors import AudioDeviceError

log = logging.getLogger(__name__)


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


class Microphone:
    """A PortAudio input stream delivering `AudioChunk`s (see the module docstring)."""

    def __init__(self, device: str | int | None = None, max_queue_seconds: float = 10.0) -> None:
        sd = _sd()
        self._index = resolve_device(device, "inputs")
        rate = SAMPLE_RATE_HZ
        try:
            sd.check_input_settings(device=self._index, samplerate=rate, channels=1, dtype="int16")
        except Exception:
            rate = int(sd.query_devices(self._index)["default_samplerate"])
            log.info("microphone does not take 16 kHz; recording at %d Hz and resampling", rate)
        self.rate_hz = rate
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max(1, int(max_queue_seconds / 0.08)))
        self.dropped_blocks = 0
        self.overflows = 0
        self._closed = threading.Event()
        self._t0 = time.monotonic()
        try:
            self._stream = sd.InputStream(device=self._index, samplerate=rate, channels=1, dtype="float32",
                                          blocksize=int(rate * 0.08), callback=self._callback)
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"Cannot open the microphone (device {self._index}): {exc}",
                                   hint="Check `assistant devices` and audio.input_device.") from exc

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy and enqueue only.
        if status and status.input_overflow:
            self.overflows += 1
        block = indata[:, 0].copy()
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            try:
                self._queue.get_nowait()
                self.dropped_blocks += 1
            except queue.Empty:
                pass
            self._queue.put_nowait(block)

    def chunks(self) -> Iterator[AudioChunk]:
        pending = np.zeros(0, dtype=np.int16)
        produced = 0
        while not self._closed.is_set():
            try:
                block = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            pending = np.concatenate([pending, float_to_int16(resample(block, self.rate_hz, SAMPLE_RATE_HZ))])
            while len(pending) >= CHUNK_SAMPLES:
                yield AudioChunk(pending[:CHUNK_SAMPLES], produced * CHUNK_SAMPLES / SAMPLE_RATE_HZ)
                pending = pending[CHUNK_SAMPLES:]
                produced += 1

    def now(self) -> float:
        return time.monotonic() - self._t0

    def hold(self) -> None:
        pass

    def release(self) -> None:
        pass

    def close(self) -> None:
        self._closed.set()
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            log.debug("closing the microphone failed", exc_info=True)


class DeviceSpeaker:
    """A PortAudio output stream, kept open for the session."""

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
        try:
            self._stream = sd.OutputStream(device=self._index, samplerate=rate_hz, channels=1, dtype="float32")
            self._stream.start()
        except Exception as exc:
            raise AudioDeviceError(f"Cannot open the speaker (device {self._index}): {exc}",
                                   hint="Check `assistant devices` and audio.output_device.") from exc

    def play(self, audio: np.ndarray, rate_hz: int, cancel: threading.Event,
             on_start: Callable[[float], None] | None = None, at: float | None = None) -> float:
        block = resample(audio, rate_hz, self.rate_hz).astype(np.float32)
        with self._lock:
            # Writes block until there is room in the device buffer, so what is written now is
            # heard after the buffered audio: start = now + the output latency.
            start = self._clock() + float(self._stream.latency or 0.0)
            if on_start is not None:
                on_start(start)
            step = int(self.rate_hz * 0.05)  # small writes so a cancel is heard within ~50 ms
            for i in range(0, len(block), step):
                if cancel.is_set():
                    break
                self._stream.write(block[i : i + step].reshape(-1, 1))
        return start

    def close(self) -> None:
        try:
            # Let what is buffered finish, then close.
            time.sleep(min(0.5, float(self._stream.latency or 0.0)))
            self._stream.stop()
            self._stream.close()
        except Exception:
            log.debug("closing the speaker failed", exc_info=True)
