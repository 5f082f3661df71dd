"""Samantha: a private, voice-first desktop companion.

Importing the package is cheap: heavy model libraries (faster-whisper, llama-cpp,
piper, openwakeword, sounddevice) are imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
