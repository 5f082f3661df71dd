"""Text for the ear: cleaning replies so they can be spoken, and cutting a token stream
into sentences (the first one short) so speech can start while the LLM is still writing.

Both are pure functions/classes with no model dependency. Hand-written because the rules
are small and speech-specific (markdown/emoji/URL handling for a TTS voice); no library
does this for a streaming token source.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import urlparse

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
_THINK_OPEN = re.compile(r"<think>", re.I)
_CODE_FENCE = re.compile(r"```.*?(```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`]*)`")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)]*)\)")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\"']+", re.I)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|~~|\*|(?<!\w)_(?=\w)|(?<=\w)_(?!\w))")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M)
_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$", re.M)
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]{0,40}>")
_CONTROL_TOKEN = re.compile(r"<\|[^|>]{1,40}\|>|</?s>|\[/?INST\]")
_SPACES = re.compile(r"[ \t\u00a0]+")

_SYMBOLS = {"&": " and ", "%": " percent ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number "}


def _url_words(match: re.Match[str]) -> str:
    raw = match.group(0)
    host = urlparse(raw if "://" in raw else "http://" + raw).hostname or "a link"
    return host.removeprefix("www.")


# Units and currency as words (before symbols are dropped as unspeakable).
_UNITS = [
    (re.compile(r"(\d)\s*°\s*C\b"), r"\1 degrees Celsius"), (re.compile(r"(\d)\s*°\s*F\b"), r"\1 degrees Fahrenheit"),
    (re.compile(r"(\d)\s*°"), r"\1 degrees"), (re.compile(r"(\d)\s*km/h\b"), r"\1 kilometres per hour"),
    (re.compile(r"(\d)\s*mph\b"), r"\1 miles per hour"), (re.compile(r"(\d)\s*km\b"), r"\1 kilometres"),
    (re.compile(r"(\d)\s*kg\b"), r"\1 kilograms"), (re.compile(r"(\d)\s*cm\b"), r"\1 centimetres"),
    (re.compile(r"(\d)\s*mm\b"), r"\1 millimetres"), (re.compile(r"(\d)\s*ml\b"), r"\1 millilitres"),
    (re.compile(r"(\d)\s*GB\b"), r"\1 gigabytes"), (re.compile(r"(\d)\s*MB\b"), r"\1 megabytes"),
    (re.compile(r"[$]\s*(\d+(?:[.,]\d+)*)"), r"\1 dollars"), (re.compile(r"€\s*(\d+(?:[.,]\d+)*)"), r"\1 euros"),
    (re.compile(r"£\s*(\d+(?:[.,]\d+)*)"), r"\1 pounds"), (re.compile(r"(\w)\s*\^\s*2\b"), r"\1 squared"),
    (re.compile(r"\^"), " to the power of "),
]


def _is_speakable_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if cat[0] == "C":  # control, format (ZWJ, variation selectors), unassigned, private use
        return ch in "\n\t"
    if cat == "So" or cat == "Sk":  # emoji, pictographs, modifier symbols
        return False
    if cat[0] == "L" and "LATIN" not in unicodedata.name(ch, ""):
        return False  # other scripts (CJK, Arabic, Cyrillic...): an English voice cannot say them
    return True


def clean_for_speech(text: str) -> str:
    """Make an LLM reply speakable: no markdown, emoji, <think> blocks, URLs, code or control
    characters. Returns "" when nothing speakable is left (callers must then skip TTS)."""
    text = _THINK_BLOCK.sub(" ", text)
    m = _THINK_OPEN.search(text)  # an unclosed reasoning block: drop everything after it
    if m:
        text = text[: m.start()]
    text = _CODE_FENCE.sub(" ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(_url_words, text)
    text = _CONTROL_TOKEN.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = _TABLE_RULE.sub(" ", text)
    text = _TABLE_ROW.sub(lambda m: ", ".join(c.strip() for c in m.group(1).split("|") if c.strip()) + ".", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("|", ", ")
    for pattern, words in _UNITS:
        text = pattern.sub(words, text)
    text = "".join(ch for ch in text if _is_speakable_char(ch))
    for sym, words in _SYMBOLS.items():
        text = re.sub(rf"\s*{re.escape(sym)}\s*", words, text) if sym in text else text
    text = re.sub(r"\s*\n\s*", " ", text)
    text = _SPACES.sub(" ", text).strip()
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"^[\s,.;:!?\-–—]+", "", text)
    # Nothing but punctuation is not speech.
    return text if re.search(r"[^\W_]", text) else ""


_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "prof", "jr", "sr", "no"}
_SENTENCE_END = re.compile(r"([.!?…]+[\"')\]]*)(\s+)|(\n+)")
_CLAUSE_END = re.compile(r"([,;:—–])\s+")


class SentenceChunker:
    """Cuts streamed LLM text into speakable pieces.

    Contract: `feed(delta)` returns the pieces completed by that delta, `flush()` the rest.
    The first piece may end at a clause boundary (comma, semicolon, colon, dash) once it has
    `first_min_words` words, or, when no punctuation has come after `first_max_words` words
    (0 = never), at that word boundary, so the voice can start early; later pieces end at
    sentence ends.
    No piece is longer than `max_chars` (cut at a space). `<think>` blocks are dropped even
    when split across deltas, and code fences are held until closed. Every returned piece is
    already passed through `clean_for_speech` and is never empty.
    """

    def __init__(self, first_min_words: int = 3, max_chars: int = 300, first_max_words: int = 0) -> None:
        self.first_min_words = first_min_words
        self.first_max_words = first_max_words
        self.max_chars = max_chars
        self._buf = ""
        self._emitted = 0

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        out: list[str] = []
        while True:
            piece = self._next_piece()
            if piece is None:
                return out
            cleaned = clean_for_speech(piece)
            if cleaned:
                out.append(cleaned)
                self._emitted += 1

    def flush(self) -> list[str]:
        rest, self._buf = self._buf, ""
        out: list[str] = []
        for piece in self._split_long(rest):
            cleaned = clean_for_speech(piece)
            if cleaned:
                out.append(cleaned)
                self._emitted += 1
        return out

    def _held_from(self) -> int:
        """Index from which the buffer must not be cut yet (open <think> or code fence)."""
        buf = self._buf
        lower = buf.lower()
        held = len(buf)
        opened = lower.rfind("<think>")
        if opened != -1 and lower.find("</think>", opened) == -1:
            held = min(held, opened)
        if buf.count("```") % 2 == 1:
            held = min(held, buf.rfind("```"))
        # A partial tag or fence at the very end ("<thi", "``") may still be growing.
        tail = re.search(r"(<[/a-z]{0,7}|`{1,2})$", buf[:held], re.I)
        if tail:
            held = min(held, tail.start())
        return held

    def _next_piece(self) -> str | None:
        held = self._held_from()
        view = self._buf[:held]
        # Skip over complete <think> blocks so their sentences are not cut individually.
        search_from = 0
        for m in _THINK_BLOCK.finditer(view):
            search_from = m.end()
        cut = None
        for m in _SENTENCE_END.finditer(view, search_from):
            if m.group(1) and m.group(1).startswith(".") and self._is_abbreviation(view[: m.start()]):
                continue
            if clean_for_speech(view[: m.end()]):
                cut = m.end()
                break
        if cut is None and self._emitted == 0:
            for m in _CLAUSE_END.finditer(view, search_from):
                if len(clean_for_speech(view[: m.start()]).split()) >= self.first_min_words:
                    cut = m.end()
                    break
        if cut is None and self._emitted == 0 and self.first_max_words:
            # Only whole words: a word is complete once a space follows it.
            spaces = [m.end() for m in re.finditer(r"\S\s+", view[search_from:])]
            if len(spaces) >= self.first_max_words:
                candidate = search_from + spaces[self.first_max_words - 1]
                if len(clean_for_speech(view[:candidate]).split()) >= self.first_max_words:
                    cut = candidate
        if cut is None and held > self.max_chars:
            space = view.rfind(" ", 0, self.max_chars)
            cut = space + 1 if space > 0 else self.max_chars
        if cut is None:
            return None
        piece, self._buf = self._buf[:cut], self._buf[cut:]
        return piece

    @staticmethod
    def _is_abbreviation(before: str) -> bool:
        word = re.search(r"([A-Za-z.]+)$", before)
        return bool(word) and word.group(1).lower().rstrip(".") in _ABBREVIATIONS

    def _split_long(self, text: str) -> Iterator[str]:
        while len(text) > self.max_chars:
            space = text.rfind(" ", 0, self.max_chars)
            cut = space + 1 if space > 0 else self.max_chars
            yield text[:cut]
            text = text[cut:]
        yield text


def chunk_stream(deltas: Iterable[str], first_min_words: int = 3, max_chars: int = 300,
                 first_max_words: int = 0) -> Iterator[str]:
    """Convenience wrapper: token deltas in, speakable pieces out."""
    chunker = SentenceChunker(first_min_words, max_chars, first_max_words)
    for delta in deltas:
        yield from chunker.feed(delta)
    yield from chunker.flush()
