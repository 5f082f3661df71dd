"""Loop-tier faults: device problems give one clear message naming the devices that exist;
a microphone that stops is reopened by the watchdog; a failing speaker is not fatal."""

import threading
import time

import numpy as np
import pytest

from assistant import devices
from assistant.errors import AudioDeviceError


class FakeSd:
    def __init__(self, listing, default=(-1, -1)):
        self.listing = listing

        class Default:
            device = default

        self.default = Default()

    def query_devices(self):
        return self.listing


def mic(name, inputs=1, outputs=0):
    return {"name": name, "max_input_channels": inputs, "max_output_channels": outputs, "default_samplerate": 48000}


def test_no_devices_at_all(monkeypatch):
    monkeypatch.setattr(devices, "_sd", lambda: FakeSd([]))
    with pytest.raises(AudioDeviceError) as err:
        devices.resolve_device(None, "inputs")
    assert "No microphone found (0 input devices)" in str(err.value) and "assistant devices" in str(err.value)


def test_named_device_missing_lists_what_exists(monkeypatch):
    monkeypatch.setattr(devices, "_sd", lambda: FakeSd([mic("USB Headset"), mic("Speakers", 0, 2)]))
    with pytest.raises(AudioDeviceError) as err:
        devices.resolve_device("no-such-mic", "inputs")
    msg = str(err.value)
    assert "'no-such-mic'" in msg and "audio.input_device" in msg and "0: USB Headset" in msg
    assert "Speakers" not in msg.split("Available:")[1].split("hint")[0]


def test_device_found_by_part_of_its_name_or_number(monkeypatch):
    monkeypatch.setattr(devices, "_sd", lambda: FakeSd([mic("Speakers", 0, 2), mic("USB Headset")], (1, 0)))
    assert devices.resolve_device("headset", "inputs") == 1
    assert devices.resolve_device(1, "inputs") == 1
    assert devices.resolve_device(None, "inputs") == 1
    assert devices.resolve_device("speak", "outputs") == 0


def test_stereo_48k_file_is_read_as_16k_mono(tmp_path):
    import numpy as np
    import soundfile as sf

    from assistant.filemode import FileSource, Timeline

    t = np.arange(48000 * 2) / 48000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], axis=1) * 0.5
    sf.write(tmp_path / "s.wav", stereo, 48000)
    source = FileSource(tmp_path / "s.wav", Timeline(fast=True))
    assert source.rate_hz == 48000 and abs(source.duration_seconds - 2.0) < 0.01
    chunks = list(source.chunks())
    assert len(chunks) == 25 and chunks[-1].samples.dtype == np.int16


# ---- the microphone watchdog, on a fake PortAudio ------------------------------------------
class Status:
    def __init__(self, overflow=False):
        self.input_overflow = overflow

    def __bool__(self):
        return self.input_overflow


class FakeStream:
    """An input stream that calls its callback from a thread like PortAudio, following a script:
    "ok" = a block of audio, "overflow" = a block flagged as overflowed, "stall" = nothing more,
    "bad" = a malformed block (the callback raises)."""

    def __init__(self, sd, callback, script):
        self.sd, self.callback, self.script = sd, callback, list(script)
        self.stopped = threading.Event()
        self.closed = False

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        for step in self.script:
            if self.stopped.wait(0.02):
                return
            if step == "stall":
                return
            block = None if step == "bad" else np.full((1280, 1), 0.1, np.float32)
            try:
                self.callback(block, 1280, None, Status(step == "overflow"))
            except self.sd.CallbackAbort:
                return
        self.stopped.wait()

    def abort(self):
        self.stopped.set()

    def close(self):
        self.closed = True
        self.stopped.set()


class FakePortAudio(FakeSd):
    class CallbackAbort(Exception):
        pass

    def __init__(self, scripts, missing_opens=0):
        super().__init__([mic("USB Headset")], (0, -1))
        self.scripts = list(scripts)
        self.missing_opens = missing_opens  # the device is unplugged for this many reopen attempts
        self.streams = []

    def query_devices(self, index=None):
        listing = [] if self.streams and self.missing_opens > 0 else self.listing
        if self.streams and self.missing_opens > 0:
            self.missing_opens -= 1
        return listing if index is None else listing[index]

    def check_input_settings(self, **kw):
        pass

    def InputStream(self, callback, **kw):  # noqa: N802 - sounddevice's name
        stream = FakeStream(self, callback, self.scripts.pop(0) if self.scripts else ["ok"] * 1000)
        self.streams.append(stream)
        return stream


def _collect(microphone, n, timeout=15.0):
    got, errors = [], []

    def read():
        try:
            for chunk in microphone.chunks():
                got.append(chunk)
                if len(got) >= n:
                    return
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    microphone.close()
    assert not errors, errors
    return got


@pytest.mark.parametrize("failure", ["stall", "bad"])
def test_a_microphone_that_stops_is_reopened_and_listening_resumes(monkeypatch, failure):
    fake = FakePortAudio([["ok"] * 5 + [failure]], missing_opens=2)
    monkeypatch.setattr(devices, "_sd", lambda: fake)
    microphone = devices.Microphone(stall_seconds=0.3, max_backoff_seconds=0.6)
    told = []
    microphone.on_status = lambda status, message: told.append((status, message))
    chunks = _collect(microphone, 20)
    assert len(chunks) == 20  # audio flows again after the outage
    assert [s for s, _ in told] == ["lost", "back"], told  # told once each, not per retry
    why = "an error in the audio callback" if failure == "bad" else "no audio for 0.3 s"
    assert why in told[0][1] and "Reopening" in told[0][1]
    # Two attempts found no device (unplugged), the third reopened it.
    assert fake.missing_opens == 0 and microphone.reopens == 1 and len(fake.streams) == 2
    assert all(s.closed for s in fake.streams[:-1])
    # After the outage, chunk times follow the clock again (they jumped past the gap).
    gap = [b.start_seconds - a.start_seconds for a, b in zip(chunks, chunks[1:], strict=False)]
    assert max(gap) > 0.5 and min(gap) == pytest.approx(0.08)


def test_overflows_are_counted_not_fatal(monkeypatch):
    fake = FakePortAudio([["ok", "overflow", "ok", "overflow"] + ["ok"] * 100])
    monkeypatch.setattr(devices, "_sd", lambda: fake)
    microphone = devices.Microphone(stall_seconds=5.0)
    chunks = _collect(microphone, 8)
    assert len(chunks) == 8 and microphone.overflows == 2 and microphone.reopens == 0


def test_audio_dropped_while_the_reader_is_behind_is_skipped_on_the_timeline(monkeypatch):
    # A queue of 3 blocks and a reader that stops for a while: the oldest blocks are dropped,
    # and the chunks after the gap are placed where that audio really was, not 80 ms later.
    fake = FakePortAudio([["ok"] * 30])
    monkeypatch.setattr(devices, "_sd", lambda: fake)
    microphone = devices.Microphone(max_queue_seconds=0.24, stall_seconds=5.0)
    chunks = microphone.chunks()
    got = [next(chunks)]
    time.sleep(1.0)  # all 30 blocks arrive meanwhile (one per 20 ms); the queue keeps the last 3
    got += [next(chunks) for _ in range(3)]
    microphone.close()
    dropped = microphone.dropped_blocks
    assert dropped > 0
    starts = [c.start_seconds for c in got]
    assert starts[-1] - starts[0] == pytest.approx((3 + dropped) * 0.08)


class FailingOutput:
    def __init__(self, fail_after):
        self.writes, self.fail_after, self.latency = 0, fail_after, 0.0

    def start(self):
        pass

    def write(self, block):
        self.writes += 1
        if self.writes > self.fail_after:
            raise RuntimeError("device unplugged")
        return self.writes == 1  # the first write after a quiet spell underflows

    def close(self):
        pass


def test_a_speaker_that_fails_mid_reply_is_not_fatal(monkeypatch):
    outputs = [FailingOutput(3), FailingOutput(10**6)]
    fake = FakePortAudio([])
    fake.listing = [mic("Speakers", 0, 2)]
    fake.default.device = (-1, 0)
    fake.check_output_settings = lambda **kw: None
    fake.OutputStream = lambda **kw: outputs.pop(0)
    monkeypatch.setattr(devices, "_sd", lambda: fake)
    speaker = devices.DeviceSpeaker(None, 22050, lambda: 0.0)
    speaker.play(np.zeros(22050, np.float32), 22050, threading.Event())  # fails on the 4th write
    assert speaker.failed is False and speaker.underflows == 1  # reopened at once
    speaker.play(np.zeros(22050, np.float32), 22050, threading.Event())
    assert speaker.underflows == 2
