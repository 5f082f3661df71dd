"""The reply guard: every LLM reply is checked before it is spoken or remembered.

Small local models fail in a few recognisable ways (seen with Qwen2.5-Coder-0.5B, issue 11):
they echo the user's words back ("Okay, Samantha, I had a very rough day at work today."),
address themselves by name ("Samantha, I see."), recite their instructions ("a companion
talking out loud with the person at the desk"), refuse harmless requests ("I'm sorry, but I
can't assist with that."), copy history markers ("(interrupted)") or continue the dialogue
as the user ("User: ..."). One such reply in the history makes the next ones worse, so a
failed reply must never be spoken or stored.

Contract:
- `ReplyGuard.opening(user, text)` judges the start of a reply while it streams: `OK` (speak
  it), `WAIT` (it looks like one of the failures; hold it until the first sentence is
  complete) or a `Verdict` with a reason. A normal reply is judged OK as soon as its first
  piece is there, so the guard adds no latency unless the reply looks wrong.
- `ReplyGuard.sentence(user, sentence, first)` judges one complete sentence.
- `clean(text)` removes what must never be spoken: bracketed stage directions and markers
  ("(interrupted)", "[laughs]", "*smiles*"), role labels and template tokens; everything
  after a role label ("User: ...") is dropped, since the model has started writing the
  user's lines.
- `safe_line(user)` is what she says when a reply failed twice: kind and true, never a claim.
Reasons: "echo", "self_address", "leak", "refusal", "marker", "tone" (cheering at someone
who is upset, or commiserating with good news), "empty".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from assistant.text import clean_for_speech

REASONS = ("echo", "self_address", "leak", "refusal", "marker", "tone", "empty")


class Hold(Enum):
    OK = "ok"
    WAIT = "wait"


@dataclass(frozen=True)
class Verdict:
    reason: str  # one of REASONS
    detail: str = ""


OK, WAIT = Hold.OK, Hold.WAIT

# Words that carry no content of their own: an "answer" made of the user's words plus these
# says nothing new.
_FILLER = {
    "a", "an", "the", "and", "or", "but", "so", "to", "of", "in", "on", "at", "for", "with", "is", "are", "was",
    "were", "be", "it", "it's", "that", "this", "i", "i'm", "you", "you're", "me", "my", "your", "we", "very",
    "really", "just", "okay", "ok", "oh", "well", "yes", "yeah", "no", "hi", "hey", "hello", "today", "too",
    "also", "now", "then", "there", "here", "do", "did", "have", "had", "has", "what", "what's", "how", "um", "sure",
}
_WORD = re.compile(r"[a-z0-9']+")
_QUESTION = re.compile(r"\?$|^(?:what|who|where|when|why|how|which|is|are|can|could|do|does|did|will|would|should|"
                       r"tell me)\b", re.I)
_GREETING_WORDS = {"hi", "hey", "hello", "okay", "ok", "so", "um", "oh", "well"}
_REFUSAL = re.compile(
    r"\b(?:i(?:'m| am)\s+(?:sorry|afraid),?\s+(?:but\s+)?)?i(?:\s+(?:can(?:'|no)?t|cannot|won't)|(?:'m|\s+am)\s+"
    r"(?:not\s+able|unable|not\s+allowed|not\s+permitted))\s+(?:to\s+)?(?:assist|help(?!\s+(?:but|feeling|thinking|"
    r"smiling|wondering))|comply|fulfil|provide\s+(?:help|assistance|"
    r"support)|engage|respond\s+to\s+that|do\s+that|answer\s+that|discuss)",
    re.I)
_SUSPECT_REFUSAL = re.compile(r"\b(?:sorry,?\s+but|i\s+can(?:'|no)?t|i\s+cannot|unable\s+to|as\s+an\s+ai)\b", re.I)
# Things no friend says: the machinery showing through.
_LEAK_PHRASES = re.compile(
    r"\b(?:system\s+prompt|my\s+(?:instructions|prompt|programming)|i\s+(?:was|am|have\s+been)\s+"
    r"(?:instructed|programmed|told\s+to)|i(?:'m|\s+am)\s+(?:an?\s+)?(?:ai\s+)?(?:large\s+)?language\s+model|"
    r"i(?:'m|\s+am)\s+(?:qwen|chatgpt)|(?:created|made|developed|trained)\s+by\s+(?:alibaba|openai)|as\s+an\s+ai\b)",
    re.I)
# Bracketed asides are stage directions or markers, not speech ("(interrupted)", "[laughs]",
# "*smiles*"); <think> blocks and other tags are text.clean_for_speech's business.
_MARKER = re.compile(r"\([^()]{0,40}\)|\[[^\[\]]{0,40}\]|\*[^*\n]{1,40}\*")
_ROLES = ("user", "assistant", "human", "ai", "system")


def _role_label(name: str) -> re.Pattern[str]:
    """ "User:", "Assistant:", "Samantha:": a speaker label, the model writing a script."""
    names = "|".join(re.escape(r) for r in (*_ROLES, name.lower()) if r)
    return re.compile(rf"(?:^|(?<=[\s.!?]))(?:{names})\s*:", re.I)


_ROLE_LABEL = _role_label("")
_TEMPLATE = re.compile(r"<\|[^|>]{0,40}\|>|</?s>|\[/?INST\]|<(?:start|end)_of_turn>", re.I)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


_FIRST_PERSON = {"i", "i'm", "i've", "i'd", "i'll", "my", "me", "mine", "myself"}


def _speaks_as_user(u: list[str], r: list[str], n: int = 4) -> bool:
    """`n` or more of the user's words in a row, with their "I" or "my" in them, said back as
    hers: "Sure, one small idea I could do tonight to feel ready is..." after "What's
    something small I could do tonight to feel ready?" (seen in the companion bench)."""
    said = {tuple(r[i:i + n]) for i in range(len(r) - n + 1)}
    return any(tuple(u[i:i + n]) in said and _FIRST_PERSON & set(u[i:i + n]) for i in range(len(u) - n + 1))


def longest_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive words shared by `a` and `b`."""
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def clean(text: str, name: str = "") -> str:
    """What may be spoken of `text`: no markers, stage directions, role labels (also her own
    `name` as one) or template tokens (see the module docstring). Spacing is tidied."""
    text = _TEMPLATE.sub(" ", text)
    pattern = _role_label(name) if name else _ROLE_LABEL
    text = text.strip()
    label = pattern.match(text)
    if label is not None:  # "Samantha: Hello!" says "Hello!"
        text = text[label.end():]
    label = pattern.search(text)
    if label is not None:  # "... User: thanks." - the rest is the model writing both parts
        text = text[: label.start()]
    text = _MARKER.sub(" ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    return text.strip()


class ReplyGuard:
    """Checks for one persona: her `name` and the `prompt` she must not recite."""

    def __init__(self, name: str, prompt: str) -> None:
        self.name = name.lower()
        self.prompt_words = words(prompt)
        self.role_label = _role_label(name)
        # "I'm Samantha" is her answering who she is; "Samantha, I see." is her talking to herself.
        self._self_address = re.compile(
            rf"(?<!i'm )(?<!i am )(?<!called )(?<!named )(?<!name is )(?<!name's )(?<!call me )(?<!it's )(?<!this is )"
            rf"\b{re.escape(self.name)}\b(?!\s*:)", re.I)

    # ---- pieces of the verdict -----------------------------------------------------------
    def _addresses_herself(self, text: str) -> bool:
        return bool(self._self_address.search(text.lower().replace("\u2019", "'")))

    def _echoes(self, user: str, text: str) -> bool:
        """The reply repeats the user's words and adds nothing: a long shared run covering most
        of what the user said, and no content word of its own."""
        u, r = words(user), words(text)
        if len(u) < 3:  # "Hi." -> "Hi!", "Good night." -> "Good night!" are replies, not echoes
            return False
        if len(r) < 3:
            return r == u
        covered = sum(w in r for w in u) / len(u)
        new = [w for w in r if w not in u and w not in _FILLER and w != self.name]
        run = longest_run(u, r)
        if _speaks_as_user(u, r):
            return True
        # ...or a long stretch of the user's line making up most of hers ("Sure, I'm at ten in
        # the morning, in front of the whole team." after "...at ten in the morning, in front of
        # the whole team": seen in the companion bench).
        # An answer that restates the question and adds its own words is not one ("The boiling
        # point of water in Celsius is 100 degrees.").
        if run >= 3 and covered >= 0.6 and not new:
            return True
        return not _QUESTION.search(user.strip()) and run >= 6 and run >= 0.5 * len(r) and len(new) <= 1

    def _leaks(self, text: str) -> bool:
        return bool(_LEAK_PHRASES.search(text)) or longest_run(words(text), self.prompt_words) >= 6

    def _starts_like_echo(self, user: str, u: list[str], r: list[str]) -> bool:
        """An opening that may be the user's words coming back. An answer to a question often
        restates part of it ("The sky on a clear day is blue."): holding those cost 0.2 s of
        median latency in `assistant bench`, so after a question only a reply that starts with
        the question's own first words waits; after a statement, any run of three of its words."""
        if _QUESTION.search(user.strip()):
            start = [w for w in u if w not in _GREETING_WORDS and w != self.name]
            return _speaks_as_user(u, r, 2) or (len(r) >= 3 and r[:3] == start[:3])
        return longest_run(u, r) >= min(3, len(r))

    # ---- the verdicts ----------------------------------------------------------------------
    def opening(self, user: str, text: str) -> Hold | Verdict:
        """The start of a streaming reply (see the module docstring)."""
        text = text.replace("\u2019", "'")
        r = words(text)
        if self._addresses_herself(text):
            return Verdict("self_address", text)
        if _REFUSAL.search(text):
            return Verdict("refusal", text)
        if _LEAK_PHRASES.search(text):
            return Verdict("leak", text)
        if _wrong_tone(user, text):
            return Verdict("tone", text)
        if len(r) < 3 and not re.search(r"[.!?]\s*$", text):
            return WAIT  # too little to judge
        u = words(user)
        suspicious = (
            _SUSPECT_REFUSAL.search(text)
            or self._starts_like_echo(user, u, r)
            or longest_run(r, self.prompt_words) >= 3
            or _MARKER.search(text) or self.role_label.search(text) or "(" in text or "[" in text or "*" in text
        )
        return WAIT if suspicious else OK

    def sentence(self, user: str, sentence: str, first: bool) -> Verdict | None:
        """None when `sentence` (complete, as the model wrote it) may be spoken."""
        sentence = sentence.replace("\u2019", "'")
        if self._addresses_herself(sentence):
            return Verdict("self_address", sentence)
        if first and _wrong_tone(user, sentence):
            return Verdict("tone", sentence)
        if _REFUSAL.search(sentence):
            return Verdict("refusal", sentence)
        if self._leaks(sentence):
            return Verdict("leak", sentence)
        if first and self._echoes(user, sentence):
            return Verdict("echo", sentence)
        return None

    def reply(self, user: str, text: str) -> Verdict | None:
        """The whole reply as it would be spoken and stored (after `clean`)."""
        if not re.search(r"[^\W_]", text):
            return Verdict("empty")
        if _MARKER.search(text) or _TEMPLATE.search(text):
            return Verdict("marker", text)
        return self.sentence(user, text, first=True)


_FEELINGS = re.compile(
    r"\b(?:sad|upset|tired|exhausted|lonely|alone|awful|terrible|rough|hard|bad|angry|stressed|anxious|worried|"
    r"scared|afraid|hurt|cry|crying|miss|lost|sick|ill|down|depressed|overwhelmed|yelled|shouted|fired|broke|"
    r"passed away|died|death|funeral|grief|nervous)\b",
    re.I)
_HAPPY = re.compile(r"\b(?:happy|great|amazing|excited|glad|wonderful|got the job|passed (?!away)|won(?!')|love|"
                    r"engaged|relieved)\b", re.I)


# Seen from Qwen2.5-Coder-0.5B: "That's great to hear!" to "I had a really rough day at work."
_CHEER = re.compile(r"\b(?:great|glad|awesome|wonderful|fantastic|congratulations|congrats|exciting|good to hear|"
                    r"happy to hear|sounds fun|amazing)\b", re.I)
_SORROW = re.compile(r"\b(?:sorry|oh no|that's hard|sounds hard|tough|awful|terrible)\b", re.I)


def _wrong_tone(user: str, opening: str) -> bool:
    """Her first words cheer someone who is upset, or commiserate with good news."""
    feeling = mood(user)
    if feeling == "upset":
        return bool(_CHEER.search(opening)) and not _SORROW.search(opening)
    if feeling == "happy":
        return bool(_SORROW.search(opening)) and not _CHEER.search(opening)
    return False


def mood(user: str) -> str:
    """ "upset", "happy" or "" (neither, both, or a question): what the user's words say about
    how they feel. A question ("Is it bad to drink coffee at night?") carries no feeling to
    answer first, and "I got the job, I was so worried!" is not one thing or the other."""
    user = user.replace("\u2019", "'")
    if _QUESTION.search(user.strip()):
        return ""
    upset, happy = bool(_FEELINGS.search(user)), bool(_HAPPY.search(user))
    return "upset" if upset and not happy else "happy" if happy and not upset else ""


def safe_line(user: str) -> str:
    """What she says when no good reply came (twice): kind, short and true."""
    if mood(user) == "upset":
        return "I'm sorry, that sounds hard. I'm here, do you want to tell me more?"
    if mood(user) == "happy":
        return "Oh, that's lovely to hear. Tell me more?"
    if user.rstrip().endswith("?"):
        return "I'm not sure I know that one. Could you ask me another way?"
    return "I'm listening. Tell me more?"


# ---- the guarded stream ---------------------------------------------------------------------
_SENTENCE = re.compile(r"[.!?…]+[\"')\]]*(?=\s)|\n+")


@dataclass(frozen=True)
class Firing:
    """One time the guard stopped a reply: why, which attempt, what happened to it and what the
    failed attempt cost (seconds of generation thrown away)."""

    verdict: Verdict
    attempt: int  # 0 = the first generation, 1 = the retry
    action: str  # "regenerated" | "replaced" (by `safe_line`) | "cut" (the rest of a reply dropped)
    seconds: float


def guarded(attempt: Callable[[int], Iterator[str]], user: str, guard: ReplyGuard,
            on_fire: Callable[[Firing], None] | None = None,
            cancelled: Callable[[], bool] = lambda: False, note: str = "") -> Iterator[str]:
    """The deltas of a reply that passed the guard. `attempt(n)` starts generation number n
    (0, then 1 for the one retry). Nothing is yielded before the opening is judged OK; the
    rest of the first sentence then goes out word by word while it stays unsuspicious, and
    each later sentence is held until it is complete and checked (her voice is still saying
    the one before, so that costs no time). A failure before anything was yielded
    regenerates once, then gives `safe_line`; a failure after speech began ends the reply at
    the last good words (and a broken-off sentence with `safe_line`). When `cancelled()` is
    true at the end of a stream (barge-in, a dropped speculative turn), nothing more happens.
    `note` is what the prompt told the model besides the conversation (what she remembers):
    said back word for word it is a leak ("My boss yelled at me in front of everyone." as her
    answer to "my manager loved it!", seen in the companion bench)."""
    noted = words(note)

    def check(sentence: str, first: bool) -> Verdict | None:
        if noted and longest_run(noted, words(sentence)) >= 5:
            return Verdict("leak", sentence)
        return guard.sentence(user, sentence, first)

    for n in range(2):
        started = time.perf_counter()
        stream = attempt(n)
        said = ""  # yielded so far
        first = ""  # the first sentence so far, yielded or not (for the opening check)
        pending = ""  # generated, not yet yielded
        first_done = False
        failure: Verdict | None = None

        def emit(text: str) -> str:
            nonlocal said
            piece = clean(text, guard.name)
            if not clean_for_speech(piece):  # nothing a voice could say (see text.py)
                return ""
            piece = (" " if said and not said.endswith(" ") else "") + piece
            said += piece
            return piece

        try:
            for delta in stream:
                pending += delta
                if not first_done:
                    first += delta
                while failure is None:
                    end = _SENTENCE.search(pending)
                    if end is None:
                        break
                    sentence, pending = pending[: end.end()], pending[end.end():]
                    whole = first[: len(first) - len(pending)] if not first_done else sentence
                    failure = check(whole, not first_done)
                    label = guard.role_label.search(sentence.strip())
                    if failure is None and label is not None and (label.start() > 0 or said or first_done):
                        failure = Verdict("marker", sentence)  # it began writing the user's part
                        sentence = sentence.strip()[: label.start()]  # what came before may still be said
                    first_done = True
                    if sentence.strip() and (failure is None or failure.reason == "marker"):
                        if piece := emit(sentence):
                            yield piece
                if failure is not None:
                    break
                if not first_done:
                    verdict = guard.opening(user, first)
                    if verdict is OK and noted and longest_run(noted, words(first)) >= 3:
                        verdict = WAIT  # maybe her memory read out: judged when the sentence ends
                    if isinstance(verdict, Verdict):
                        failure = verdict
                        break
                    cut = pending.rfind(" ")
                    so_far = first[: len(first) - len(pending) + cut]
                    if verdict is OK and cut > 0 and guard.opening(user, so_far) is OK \
                            and not (noted and longest_run(noted, words(so_far)) >= 3):
                        # complete words only: the last one may be a name still being written
                        if piece := emit(pending[:cut]):
                            yield piece
                        pending = pending[cut:]
            if failure is None and pending.strip():
                whole = first if not first_done else pending
                failure = check(whole, not first_done)
                if failure is None and (piece := emit(pending)):
                    yield piece
            if failure is None and not said:
                failure = Verdict("empty")
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if failure is None or cancelled():  # a stopped reply is not a failed one: no retry
            return
        seconds = time.perf_counter() - started
        if said:
            if on_fire is not None:
                on_fire(Firing(failure, n, "cut", seconds))
            if not re.search(r"[.!?…][\"')\]]*\s*$", said):  # stopped mid-sentence ("I'm sorry, I"): end it kindly
                yield ". " + safe_line(user)
            return
        if on_fire is not None:
            on_fire(Firing(failure, n, "replaced" if n == 1 else "regenerated", seconds))
        if n == 1:
            yield safe_line(user)
