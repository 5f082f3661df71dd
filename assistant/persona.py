"""The persona prompt and the bounded conversation history sent to the LLM.

Contract: `Conversation.messages(user_text)` returns the system prompt (never evicted),
then as many recent turns as fit in `history_turns` and the token budget, then the new
user message. Text from speech is neutralised first so a spoken or stored "<|im_start|>"
can never become a control token. `record()` stores a finished exchange.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.llm import ChatMessage

# Chat-template control strings of the common model families (ChatML, Llama, Gemma, Mistral).
_CONTROL = re.compile(r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<(?:start|end)_of_turn>|<\|?(?:eot|eos|bos)[^>]{0,10}>",
                      re.I)


def neutralise(text: str) -> str:
    """Remove chat-template control strings from untrusted text (speech, memory, tools)."""
    return _CONTROL.sub(" ", text).replace("\x00", "").strip()


def build_system_prompt(prompt: str, name: str, user_name: str | None) -> str:
    """Fill the persona template; `{name}` and `{user}` are the only placeholders."""
    user = user_name or "the person at the desk"
    return prompt.replace("{name}", name).replace("{user}", user).strip()


def build_examples(persona) -> list[tuple[str, str]]:  # noqa: ANN001 - config.PersonaConfig
    """The persona's example exchanges, with `{name}` and `{user}` filled in."""
    user = persona.user_name or "the person at the desk"

    def fill(text: str) -> str:
        return text.replace("{name}", persona.name).replace("{user}", user).strip()

    return [(fill(e.user), fill(e.reply)) for e in persona.examples]


@dataclass
class Exchange:
    """One finished exchange. An interrupted reply keeps only the words that were heard, with
    no marker in the text: the model copies whatever its history shows ("I... (interrupted)"
    came back in later replies and was spoken), so the fact stays in this field."""

    user: str
    assistant: str
    interrupted: bool = False
    # The system note that came right before the user's words in that turn (what she
    # remembered, a mood hint). It stays in the history as it was, so the next prompt starts
    # with exactly the tokens llama.cpp has evaluated: dropping it re-evaluated the last
    # exchange every turn (about 1 s on the 1.5B model at 37 tokens/s).
    context: str = ""


class Conversation:
    """Persona + recent turns, kept inside the model's context budget."""

    def __init__(self, system_prompt: str, *, history_turns: int = 8, context_tokens: int = 2048,
                 reply_tokens: int = 160, count_tokens: Callable[[str], int] | None = None,
                 examples: list[tuple[str, str]] | None = None) -> None:
        self.system_prompt = system_prompt
        # Example exchanges shown after the persona, before the history: they teach the small
        # model her tone better than instructions do, and as part of the fixed prefix they are
        # evaluated once and stay in llama.cpp's cache.
        self.examples = [(neutralise(u), neutralise(a)) for u, a in (examples or [])]
        self.history_turns = history_turns
        self.context_tokens = context_tokens
        self.reply_tokens = reply_tokens
        # A rough count (4 characters a token) when the model's tokenizer is not given.
        self.count_tokens = count_tokens or (lambda s: len(s) // 4 + 1)
        self.turns: list[Exchange] = []
        # What the user asked her to remember (one "- fact" per line); part of the system
        # prompt, so it is never evicted and counts against the budget like the persona.
        self.memory = ""
        self._offset = 0  # turns already dropped for good (absolute index of turns[0])

    def _history_start(self) -> int:
        """Absolute index of the oldest turn in the prompt. It moves in steps of half the
        window, not one turn at a time: llama.cpp reuses the evaluated prompt only up to the
        first changed token, so dropping one old turn per exchange would make every turn
        re-evaluate the whole history."""
        total = self._offset + len(self.turns)
        earliest = max(0, total - self.history_turns)
        step = max(1, self.history_turns // 2)
        return -(-earliest // step) * step

    def prefix(self) -> list[ChatMessage]:
        """What the next prompt will start with (persona + history), for warming the LLM."""
        return self.messages("")[:-1]

    def system(self) -> str:
        """The persona, plus what the user asked her to remember."""
        lines = [neutralise(line) for line in self.memory.splitlines() if line.strip()]
        # Newest facts first into at most a quarter of the context, so turns always fit.
        room = self.context_tokens // 4
        kept: list[str] = []
        for line in reversed(lines):
            room -= self.count_tokens(line) + 1
            if room < 0:
                break
            kept.insert(0, line)
        if not kept:
            return self.system_prompt
        facts = "\n".join(kept)
        return (f"{self.system_prompt}\n\nThings the user asked you to remember, in their own words "
                f"(\"my\" means the user):\n{facts}")

    def messages(self, user_text: str, context: str = "") -> list[ChatMessage]:
        """The prompt for `user_text`. `context` (what she remembers that bears on it) goes in a
        system message right before it: after the history, so the cached prefix stays the same."""
        user_text = neutralise(user_text)
        context = neutralise(context)
        system = self.system()
        overhead = 8  # template tokens per message
        shown: list[ChatMessage] = []
        for u, a in self.examples:
            shown += [{"role": "user", "content": u}, {"role": "assistant", "content": a}]
        budget = (self.context_tokens - self.reply_tokens - self.count_tokens(system) - overhead
                  - sum(self.count_tokens(m["content"]) + overhead for m in shown))
        after: list[ChatMessage] = [{"role": "system", "content": context}] if context else []
        budget -= sum(self.count_tokens(m["content"]) + overhead for m in after)
        # A single over-long user turn is cut to what fits (keeping its end, the latest words).
        user_tokens = self.count_tokens(user_text) + overhead
        if user_tokens > budget:
            keep_chars = max(1, budget * 3)
            user_text = user_text[-keep_chars:]
            user_tokens = self.count_tokens(user_text) + overhead
        budget -= user_tokens
        recent = self.turns[max(0, self._history_start() - self._offset):] if self.history_turns else []
        fits = 0
        for turn in reversed(recent):
            cost = (self.count_tokens(turn.user) + self.count_tokens(turn.assistant) + 2 * overhead
                    + (self.count_tokens(turn.context) + overhead if turn.context else 0))
            if cost > budget:
                break
            budget -= cost
            fits += 1
        if 1 < fits < len(recent):
            # Short of room: the oldest turn shown moves in steps (on the absolute turn count,
            # like _history_start), not by one every turn, which would change the prompt's start
            # and make llama.cpp re-evaluate all of it every turn. At least half of what fits stays.
            step = max(1, min(self.history_turns // 2, fits // 2))
            total = self._offset + len(self.turns)
            start = -(-(total - fits) // step) * step
            fits = min(fits, total - start)
        history: list[ChatMessage] = []
        for turn in recent[len(recent) - fits:] if fits else []:
            history += [*([{"role": "system", "content": turn.context}] if turn.context else []),
                        {"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
        return [{"role": "system", "content": system}, *shown, *history, *after,
                {"role": "user", "content": user_text}]

    def record(self, user_text: str, reply: str, interrupted: bool = False, context: str = "") -> None:
        """Store a finished exchange: `reply` as it was heard (cut short when `interrupted`),
        `context` the note that was given with `user_text` (see `Exchange.context`)."""
        self.turns.append(Exchange(neutralise(user_text), neutralise(reply), interrupted, neutralise(context)))
        # Turns no prompt can use any more are dropped, so memory stays bounded.
        cut = self._history_start() - self._offset
        if cut > 0:
            del self.turns[:cut]
            self._offset += cut


def conversation_for(config, llm=None) -> Conversation:  # noqa: ANN001 - config.Config, llm.ChatModel
    """The conversation every entry point uses: the configured persona, examples and budget,
    counted with the model's own tokenizer when there is one."""
    p, c = config.persona, config.llm
    return Conversation(build_system_prompt(p.prompt, p.name, p.user_name), history_turns=c.history_turns,
                        context_tokens=c.context_tokens, reply_tokens=c.max_reply_tokens,
                        count_tokens=llm.count_tokens if llm is not None else None, examples=build_examples(p))
