"""An OpenAI-compatible chat server as the LLM: Ollama, llama.cpp's `llama-server`, LM Studio,
vLLM, or `python -m llama_cpp.server`, on this machine or another.

Contract: same as `LlamaChat` for the loop: `stream(messages, cancel=, max_tokens=)` yields text
deltas from `POST {base_url}/chat/completions` with `stream: true` (server-sent events); a
server that is down, refuses or answers garbage raises `LlmError` with the URL and what to do;
a stuck stream is cut after `timeout_seconds`. `FallbackChat` answers with the local model
when the server fails before saying anything. Plain `requests` (well kept, already a
dependency of the model libraries) rather than the `openai` package: five fields of one
endpoint do not need a vendor SDK.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import requests

from assistant.errors import LlmError
from assistant.llm import ChatMessage

log = logging.getLogger(__name__)


def is_local(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


class OpenAIChat:
    def __init__(self, base_url: str, model: str, *, api_key_env: str = "", max_reply_tokens: int = 160,
                 temperature: float = 0.7, top_p: float = 0.9, timeout_seconds: float = 30.0,
                 connect_timeout_seconds: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.max_reply_tokens = max_reply_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.timeout_seconds = timeout_seconds
        self.connect_timeout_seconds = connect_timeout_seconds
        self._session = requests.Session()
        if is_local(self.base_url):
            self._session.trust_env = False  # an http_proxy setting must not send loopback traffic away
        self._lock = threading.Lock()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _down(self, exc: Exception) -> LlmError:
        return LlmError(f"The LLM server at {self.base_url} is not reachable ({type(exc).__name__}).",
                        hint="Start it (for example `ollama serve` or `llama-server -m MODEL.gguf`), check "
                             "llm.base_url, or set llm.fallback_to_local: true.")

    def check(self) -> list[str]:
        """The model names the server offers (GET /models); raises `LlmError` when it is down."""
        try:
            response = self._session.get(f"{self.base_url}/models", headers=self._headers(),
                                         timeout=self.connect_timeout_seconds)
            response.raise_for_status()
            return [m.get("id", "") for m in response.json().get("data", [])]
        except requests.HTTPError as exc:
            raise LlmError(f"The LLM server at {self.base_url} answered {exc.response.status_code} to "
                           "GET /models.", hint="Check llm.base_url (it usually ends in /v1) and the API key "
                                                "(llm.api_key_env).") from exc
        except (requests.RequestException, ValueError) as exc:
            raise self._down(exc) from exc

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # the server's tokenizer is not known here: a safe estimate

    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        body = {"model": self.model, "messages": list(messages), "stream": True,
                "max_tokens": max_tokens or self.max_reply_tokens, "temperature": self.temperature,
                "top_p": self.top_p}
        deadline = time.monotonic() + self.timeout_seconds
        with self._lock:
            try:
                response = self._session.post(f"{self.base_url}/chat/completions", json=body, stream=True,
                                              headers=self._headers(),
                                              timeout=(self.connect_timeout_seconds, self.timeout_seconds))
            except requests.RequestException as exc:
                raise self._down(exc) from exc
            with response:
                if response.status_code != 200:
                    raise LlmError(f"The LLM server at {self.base_url} answered {response.status_code}: "
                                   f"{response.text[:200]}", hint="Check llm.model and llm.base_url.")
                try:
                    for line in response.iter_lines(decode_unicode=True):
                        if cancel is not None and cancel.is_set():
                            break
                        if time.monotonic() > deadline:
                            log.warning("generation stopped after %.0f s (llm.timeout_seconds)", self.timeout_seconds)
                            break
                        if not line or not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        choices = json.loads(data).get("choices") or [{}]
                        delta = (choices[0].get("delta") or {}).get("content")
                        if delta:
                            yield delta
                except requests.RequestException as exc:
                    raise self._down(exc) from exc
                except (ValueError, AttributeError) as exc:
                    raise LlmError(f"The LLM server at {self.base_url} sent something that is not an "
                                   f"OpenAI chat stream: {exc}") from exc


class FallbackChat:
    """The server first; the local model when the server fails before its first word."""

    def __init__(self, primary: OpenAIChat, fallback) -> None:  # noqa: ANN001 - a LlamaChat
        self.primary = primary
        self.fallback = fallback
        self.count_tokens = fallback.count_tokens

    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        said = False
        try:
            for delta in self.primary.stream(messages, cancel=cancel, max_tokens=max_tokens):
                said = True
                yield delta
            return
        except LlmError as exc:
            if said:
                raise
            log.warning("%s Answering with the local model instead.", exc.message)
        yield from self.fallback.stream(messages, cancel=cancel, max_tokens=max_tokens)
