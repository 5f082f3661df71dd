"""Loop-tier faults: device problems give one clear message naming the devices that exist."""

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
