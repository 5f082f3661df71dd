"""The chat model: streamed replies from a local GGUF through llama-cpp-python.

Contract: a `ChatModel` turns a list of chat messages into an iterator of text deltas.
`stream()` stops early when `cancel` is set or `timeout_seconds` has passed, and never
raises for an empty reply (the caller decides what to say then). One `Llama` object lives
for the whole session, so llama.cpp reuses the evaluated prompt prefix (persona + history)
between turns and only the new tokens are evaluated.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TypedDict

from assistant.errors import MODEL_FIX_HINT, LlmError, ModelError

log = logging.getLogger(__name__)


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class ChatModel(Protocol):
    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None) -> Iterator[str]:
        """Yield the reply as text deltas."""
        ...

    def count_tokens(self, text: str) -> int:
        ...


def check_gguf(path: Path, key: str = "llm.model_path") -> None:
    """Fail early, naming the file and the key, on a missing, empty or non-GGUF model."""
    if not path.is_file():
        raise ModelError(f"LLM model file {path} is missing (config key {key}).", hint=MODEL_FIX_HINT)
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelError(f"LLM model file {path} is not a valid GGUF file (config key {key}).", hint=MODEL_FIX_HINT)


class LlamaChat:
    """llama-cpp-python chat completion using the model's own chat template."""

    def __init__(self, model_path: Path, *, context_tokens: int = 2048, threads: int = 2,
                 max_reply_tokens: int = 160, temperature: float = 0.7, top_p: float = 0.9,
                 timeout_seconds: float = 30.0, seed: int = -1) -> None:
        check_gguf(model_path)
        from llama_cpp import Llama

        try:
            self._llama = Llama(model_path=str(model_path), n_ctx=context_tokens, n_threads=threads,
                                n_threads_batch=threads, n_batch=256, seed=seed if seed >= 0 else 0xFFFFFFFF,
                                verbose=False)
        except Exception as exc:
            raise ModelError(f"LLM model {model_path} could not be loaded: {exc}", hint=MODEL_FIX_HINT) from exc
        self.context_tokens = context_tokens
        self.max_reply_tokens = max_reply_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.timeout_seconds = timeout_seconds
        self.seed = seed
        self._lock = threading.Lock()  # one generation at a time on the one Llama object

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: list[ChatMessage]) -> list[int]:
        """The token ids the model is given for `messages`: its own chat template, tokenized
        the way llama-cpp-python's chat completion does it (special tokens parsed, which is why
        untrusted text must be `persona.neutralise`d first)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self._llama
        eos, bos = llama.token_eos(), llama.token_bos()
        formatter = Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llama._model.token_get_text(bos) if bos != -1 else "")
        result = formatter(messages=list(messages))
        return llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def prefill(self, messages: list[ChatMessage]) -> None:
        """Evaluate a prompt prefix now (while the user is quiet), so the next turn that starts
        with it only evaluates its own new tokens."""
        if not messages:
            return
        for _ in self.stream(messages, max_tokens=1):
            pass

    def _seed_for(self, messages: list[ChatMessage]) -> int | None:
        """With a fixed `seed`, each reply's sampling seed comes from the seed and the prompt, so
        the same prompt gets the same reply whatever ran before (llama-cpp-python otherwise
        moves to a new seed after every call, and how many calls ran depends on timing:
        speculative turns, warm-ups). None (random) when no seed is set."""
        if self.seed < 0:
            return None
        return zlib.crc32(json.dumps(messages, sort_keys=True).encode(), self.seed) & 0xFFFFFFFF

    def stream(self, messages: list[ChatMessage], *, cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        deadline = time.monotonic() + self.timeout_seconds
        with self._lock:
            try:
                chunks = self._llama.create_chat_completion(
                    messages=list(messages), stream=True, temperature=self.temperature, top_p=self.top_p,
                    max_tokens=max_tokens or self.max_reply_tokens, seed=self._seed_for(messages),
                )
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
                    if cancel is not None and cancel.is_set():
                        log.debug("generation cancelled")
                        break
                    if time.monotonic() > deadline:
                        log.warning("generation stopped after %.0f s (llm.timeout_seconds)", self.timeout_seconds)
                        break
            except ValueError as exc:  # e.g. context overflow: the caller keeps the prompt in budget
                raise LlmError(f"The language model failed: {exc}") from exc
