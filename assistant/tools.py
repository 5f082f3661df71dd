"""The tools Samantha can use, and what she says about what they did.

Contract: `Tools.handle(text)` runs the intent layer (`intents.parse`) on a transcript; for a
recognised request it calls one tool from a fixed allow-list (timers, reminders, the clock,
memory) with validated arguments and returns a `ToolReply` whose `say` is phrased from what
the tool actually did (a failed save says it failed): she never claims an action that did not
happen. Nothing here runs a shell or reaches the network. `due()` / `announcement()` are for
the loop, which says timers and reminders out loud when they fall due.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant import intents
from assistant.errors import ConfigError
from assistant.persona import neutralise
from assistant.store import Entry, Fact, StorageError, Store, Timer

if TYPE_CHECKING:
    from assistant.journal import Journal

MAX_TIMER_SECONDS = 7 * 24 * 3600  # a week: longer is a misheard number, not a timer
MAX_FACT_CHARS = 300
SAVE_FAILED = "Sorry, I couldn't save that: {why} Everything you told me before is still kept."


@dataclass(frozen=True)
class ToolReply:
    say: str  # the spoken answer, from the tool's result
    tool: str  # which tool ran ("timer", "reminder", "time", "date", "memory", ...)
    ok: bool = True  # False when the tool could not do what was asked


def zone(name: str) -> tzinfo | None:
    """The configured time zone ("" = the computer's own)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"tools.timezone: unknown time zone {name!r}.",
                          hint="Use a name like Europe/Madrid or America/New_York, or leave it empty.") from exc


# ---- saying numbers and times -------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _singular(n: int, word: str) -> str:
    return f"{n} {word}"


def spoken_duration(seconds: float, adjective: bool = False) -> str:
    """ "10 minutes", "1 hour and 30 minutes", "2 minutes and 5 seconds" (seconds only under 10
    minutes); `adjective` gives the form before a noun ("a 10 minute timer")."""
    s = max(0, round(seconds))
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    if hours or minutes >= 10:
        secs = 0
    say = _singular if adjective else _plural
    parts = [say(v, w) for v, w in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if v]
    if not parts:
        return "less than a second"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def spoken_clock(moment: datetime) -> str:
    """ "5 PM", "5:30 PM", "noon", "midnight"."""
    if moment.minute == 0 and moment.hour in (0, 12):
        return "midnight" if moment.hour == 0 else "noon"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'AM' if moment.hour < 12 else 'PM'}"


def spoken_when(moment: datetime, now: datetime) -> str:
    days = (moment.date() - now.date()).days
    day = "" if days == 0 else " tomorrow" if days == 1 else f" on {moment.strftime('%A')}"
    return f"at {spoken_clock(moment)}{day}"


_SWAP = {"my": "your", "i": "you", "i'm": "you're", "me": "you", "mine": "yours", "myself": "yourself",
         "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we": "you", "we're": "you're", "we've": "you've",
         "we'll": "you'll", "we'd": "you'd", "our": "your", "ours": "yours", "us": "you", "ourselves": "yourselves"}
# The verbs that change after "I" when it becomes "you" ("I wasn't" -> "you weren't").
_AFTER_I = {"was": "were", "am": "are", "wasn't": "weren't", "ain't": "aren't", "amn't": "aren't"}
# Words that may stand between "I" and its verb ("I really was"): the verb still follows "I".
_BETWEEN = {"really", "just", "also", "never", "always", "still", "only", "even", "actually", "honestly", "so",
            "truly", "already", "sometimes", "often", "usually", "totally", "definitely"}


def second_person(text: str) -> str:
    """ "my sister's name is Ana" -> "your sister's name is Ana", "I was born in Madrid" ->
    "you were born in Madrid", "I am" -> "you are" (but "10 am" stays), "we" -> "you" (for
    saying back what the user said). Punctuation stays where it was."""
    out: list[str] = []
    subject = ""  # "i" while the words since "I" may still be its verb
    for word in text.split():
        core = word.rstrip(".,!?;:\"')]\u201d\u2026")
        key = core.lower().replace("’", "'")
        lead = core[:len(core) - len(core.lstrip("\"'(\u201c["))]  # "(my" -> "(your"
        core = core[len(lead):]
        key = key[len(lead):]
        if key in _AFTER_I and subject == "i":
            swapped: str | None = _AFTER_I[key]
        else:
            swapped = _SWAP.get(key)
        out.append(lead + swapped + word[len(lead) + len(core):] if swapped is not None else word)
        if key == "i":
            subject = "i"
        elif key not in _BETWEEN or core != word:
            subject = ""
    return " ".join(out)


def _words(text: str) -> set[str]:
    """Content words for matching a topic against a fact (British and American spellings alike)."""
    text = text.lower().replace("favorite", "favourite").replace("color", "colour")
    text = re.sub(r"'s\b", "", text)
    stop = {"my", "is", "are", "the", "a", "an", "that", "what", "about", "your", "i", "me", "to", "of", "was"}
    return {w for w in re.findall(r"[a-z0-9]+", text) if w not in stop}


_TOPIC_STOP = {"my", "our", "the", "a", "an", "about", "me", "your", "i", "what", "that", "this", "is", "are"}


def _topic_words(topic: str) -> set[str]:
    """The words of a "what did I tell you about X" topic that a fact must share."""
    return {w for w in _words(topic) if w not in _TOPIC_STOP}


# First words that are capitals only because they start a sentence (journal entries are kept
# with a capital first letter): "..., and that work was busy", not "that Work was busy". Names,
# days and months are not listed, so they keep theirs.
_ORDINARY_FIRST = set("""
your you you're you've you'll you'd the a an it it's its there there's we they they're he he's she she's his
her their them this that these those some most all every each everyone everybody everything someone somebody
something nobody nothing no not yesterday today tonight tomorrow last next on in at after before when
sometimes now then so and but also work school life home dinner lunch breakfast things mum mom dad mother
father sister brother parents wife husband partner boss manager friend friends kids children family grandma
grandpa aunt uncle cousin neighbour neighbor doctor dentist colleague baby son daughter girlfriend boyfriend
""".split())


def _clause(text: str) -> str:
    """A sentence as a clause inside another: no final stop, no capital on an ordinary first word."""
    text = text.strip().rstrip(".!;:,\u2026 ")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first.lower().replace("\u2019", "'") in _ORDINARY_FIRST:
        text = text[0].lower() + text[1:]
    return text


def _sentence(text: str) -> str:
    """A clause said as a sentence of its own: a capital first letter, one full stop."""
    text = text.strip().rstrip(".!;:,\u2026 ")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _journal():  # noqa: ANN202 - the module (imported late: journal.py imports this module)
    from assistant import journal

    return journal


class Tools:
    """The allow-listed tools over one `Store`, with an injectable clock (Unix seconds).
    `journal` is what the user said in passing (journal.py), None when that is not kept
    (`memory.keep_conversation: false`): recall and forget then use the facts only."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time, tz: tzinfo | None = None,
                 user_name: str | None = None, journal: Journal | None = None) -> None:
        self.store = store
        self.clock = clock
        self.tz = tz
        self.user_name = user_name
        self.journal = journal

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self.tz).astimezone(self.tz)

    def recognises(self, text: str) -> bool:
        """True when `text` is a request for a tool (nothing is run)."""
        return intents.parse(text, self.now()) is not None

    def handle(self, text: str) -> ToolReply | None:
        """Run the request in `text` if it is one; None means "not a tool request" (ask the LLM),
        also for a question about the user's days that nothing they said answers."""
        intent = intents.parse(text, self.now())
        if intent is None:
            return None
        handler = getattr(self, f"_{type(intent).__name__.lower()}")
        try:
            return handler(intent)
        except StorageError as exc:
            why = "the disk is full." if "full" in str(exc).lower() else "I can't write to my memory file."
            return ToolReply(SAVE_FAILED.format(why=why), "memory", ok=False)

    # ---- the clock ------------------------------------------------------------------------
    def _telltime(self, intent: intents.TellTime) -> ToolReply:
        here = f"It's {spoken_clock(self.now())}."
        if intent.elsewhere:  # no world clock: better say so than let the LLM invent one
            return ToolReply(f"I only know the time here: {here[0].lower()}{here[1:]}", "time", ok=False)
        return ToolReply(here, "time")

    def _telldate(self, intent: intents.TellDate) -> ToolReply:
        day = self.now() + timedelta(days=intent.offset_days)
        lead = "Tomorrow is" if intent.offset_days == 1 else "It's"
        return ToolReply(f"{lead} {day.strftime('%A')}, {day.strftime('%B')} {day.day}, {day.year}.", "date")

    def _unsupported(self, intent: intents.Unsupported) -> ToolReply:
        what = {"add": "add time to", "unpause": "resume"}.get(intent.what, intent.what)
        return ToolReply(f"I can't {what} a timer yet, so I left it as it is. You can cancel it and set a "
                         "new one.", "timer", ok=False)

    # ---- timers and reminders -------------------------------------------------------------
    def _settimer(self, intent: intents.SetTimer) -> ToolReply:
        if not 1 <= intent.seconds <= MAX_TIMER_SECONDS:
            return ToolReply("I can set timers from one second up to a week.", "timer", ok=False)
        label = neutralise(intent.label)[:60]
        now = self.clock()
        timer = self.store.add_timer("timer", label, intent.seconds, now, now + intent.seconds)
        what = f"{label} timer" if label else "timer"
        return ToolReply(f"Okay, your {what} is set for {spoken_duration(timer.seconds)}.", "timer")

    def _setreminder(self, intent: intents.SetReminder) -> ToolReply:
        task = second_person(neutralise(intent.task))[:200]
        if intent.unsupported:
            when = intent.unsupported.removeprefix("on ")
            return ToolReply(f"I can only set reminders for today or tomorrow, so I didn't set one for {when}. "
                             "Try, for example: remind me tomorrow at 9.", "reminder", ok=False)
        if intent.due is None:
            about = f" to {task}" if task else ""
            return ToolReply(f"When should I remind you{about}? You can say, for example, in 20 minutes, "
                             "or at 5 PM.", "reminder", ok=False)
        now = self.clock()
        due = intent.due.timestamp()
        if not now < due <= now + 366 * 24 * 3600:
            return ToolReply("That time has already passed, so I didn't set a reminder.", "reminder", ok=False)
        self.store.add_timer("reminder", task, intent.seconds or 0.0, now, due)
        when = f"in {spoken_duration(intent.seconds)}" if intent.seconds else spoken_when(intent.due, self.now())
        about = f" to {task}" if task else ""
        return ToolReply(f"Okay, I'll remind you{about} {when}.", "reminder")

    def _describe(self, timer: Timer, now: float) -> str:
        left = spoken_duration(timer.due - now)
        if timer.kind == "reminder":
            moment = datetime.fromtimestamp(timer.due, self.tz)
            return f"a reminder to {timer.label} {spoken_when(moment, self.now())}, in {left}" if timer.label \
                else f"a reminder {spoken_when(moment, self.now())}"
        name = f"{timer.label} timer" if timer.label else f"{spoken_duration(timer.seconds, adjective=True)} timer"
        return f"your {name} has {left} left"

    def _timeleft(self, _: intents.TimeLeft) -> ToolReply:
        pending, now = self.store.pending(), self.clock()
        if not pending:
            return ToolReply("You have no timers or reminders set.", "timer")
        described = [self._describe(t, now) for t in pending[:3]]
        more = f" And {len(pending) - 3} more." if len(pending) > 3 else ""
        text = described[0] if len(described) == 1 else ", ".join(described[:-1]) + ", and " + described[-1]
        said = f"{'You have ' if pending[0].kind == 'reminder' else ''}{text}.{more}"
        return ToolReply(said[0].upper() + said[1:], "timer")

    def _canceltimer(self, intent: intents.CancelTimer) -> ToolReply:
        pending = [t for t in self.store.pending() if not intent.kind or t.kind == intent.kind]
        noun = intent.kind or "timer"
        if intent.label:
            wanted = _words(intent.label)
            pending = [t for t in pending if wanted & _words(t.label)]
        if not pending:
            return ToolReply(f"There's no {noun}{' for ' + intent.label if intent.label else ''} to cancel.",
                             noun, ok=False)
        chosen = pending if intent.everything else pending[:1]
        cancelled = [t for t in chosen if self.store.cancel_timer(t.id)]
        if len(cancelled) > 1:
            return ToolReply(f"Okay, I cancelled {len(cancelled)} {noun}s.", noun)
        timer = cancelled[0]
        what = (f"the reminder to {timer.label}" if timer.label else "the reminder") if timer.kind == "reminder" \
            else f"the {timer.label or spoken_duration(timer.seconds, adjective=True)} timer"
        return ToolReply(f"Okay, I cancelled {what}.", noun)

    def due(self) -> list[Timer]:
        """Timers and reminders whose time has come and that were not announced yet."""
        now = self.clock()
        return [t for t in self.store.pending() if t.due <= now]

    def announcement(self, timer: Timer, late_seconds: float = 0.0) -> str:
        """What she says when `timer` is due; `late_seconds` > 60 means it fell due while she was off."""
        name = f"{timer.label} timer" if timer.label else f"{spoken_duration(timer.seconds, adjective=True)} timer"
        if late_seconds > 60:
            at = spoken_when(datetime.fromtimestamp(timer.due, self.tz), self.now())
            if timer.kind == "reminder":
                return f"While I was off, you had a reminder {at}: {timer.label}." if timer.label \
                    else f"While I was off, you had a reminder {at}."
            return f"While I was off, your {name} went off {at}."
        if timer.kind == "reminder":
            return f"Here's your reminder: {timer.label}." if timer.label else "Here's your reminder."
        return f"Your {name} is done."

    # ---- memory ---------------------------------------------------------------------------
    def _remember(self, intent: intents.Remember) -> ToolReply:
        fact = neutralise(intent.fact).strip()[:MAX_FACT_CHARS]
        if not fact:
            return ToolReply("I didn't catch what to remember.", "memory", ok=False)
        known = [f for f in self.store.facts() if f.text.lower() == fact.lower()]
        if not known:
            self.store.add_fact(fact, self.clock())
        return ToolReply(f"Okay, I'll remember that {_clause(second_person(fact))}.", "memory")

    def _matching(self, topic: str) -> list[Fact]:
        wanted = _words(topic)
        return [f for f in self.store.facts() if wanted and wanted <= _words(f.text)]

    def _recall(self, intent: intents.Recall) -> ToolReply:
        if intent.topic:
            found = self._matching(intent.topic)
            if found:
                return ToolReply(_sentence(second_person(found[-1].text)), "memory")
            if _words(intent.topic) == {"name"} and self.user_name:
                return ToolReply(f"Your name is {self.user_name}.", "memory")
            entries = self.journal.matching(intent.topic, self.now()) if self.journal is not None else []
            if entries:  # said in passing ("Her name is Maya", kept as the sister's): the newest
                return ToolReply(self._recalled(intent.topic, entries[-1]), "memory")
            named = self._name_in_passing(intent.topic)
            if named:
                return ToolReply(named, "memory")
            return ToolReply(f"I don't know your {intent.topic} yet. You can tell me, and I'll remember it.",
                             "memory", ok=False)
        facts = self.store.facts()
        if not facts:
            return ToolReply("You haven't asked me to remember anything yet.", "memory")
        said = [_clause(second_person(f.text)) for f in facts[-8:]]
        listed = said[0] if len(said) == 1 else ", that ".join(said[:-1]) + ", and that " + said[-1]
        return ToolReply(f"You told me that {listed}.", "memory")

    def _told(self, *entries: Entry) -> str:
        """ "Yesterday you told me your sister is visiting on Saturday." ("You told me ..." today);
        entries said on the same day share one "you told me": "..., that ..., and that ..."."""
        journal, today = _journal(), self.now().date()
        said: list[str] = []
        runs: list[tuple[str, list[str]]] = []
        for entry in entries:
            when = journal.said_when(entry.said_day, today)
            text = _clause(second_person(journal.retold(entry, today, drop_said_day=bool(when))))
            if runs and runs[-1][0] == when:
                runs[-1][1].append(text)
            else:
                runs.append((when, [text]))
        for when, texts in runs:
            listed = texts[0] if len(texts) == 1 else ", that ".join(texts[:-1]) + ", and that " + texts[-1]
            said.append(f"{when[0].upper() + when[1:]} you told me {listed}." if when else f"You told me {listed}.")
        return " ".join(said)

    def _recalled(self, topic: str, entry: Entry) -> str:
        """The answer to "what's my sister's name?" from something said in passing: the value
        when the entry says it ("Your sister's name is Maya."), else what was said, and when."""
        text = _journal().retold(entry, self.now().date())
        m = re.search(rf"\b(?:my|our) {re.escape(topic)}(?: (?P<verb>is|are|was|were)|(?P<s>'s)) "
                      r"(?P<value>[^,;.!?]+)", text, re.I)
        if m:
            verb = m.group("verb") or "is"
            return _sentence(f"your {topic} {verb.lower()} {m.group('value').strip()}")
        return self._told(entry)

    def _name_in_passing(self, topic: str) -> str | None:
        """ "Your neighbour's name is Tom." for the topic "neighbour's name" when something said in
        passing names them ("My neighbour Tom has a dog.", "My boss is called Tim."); None otherwise."""
        m = re.fullmatch(r"(?P<who>[\w' -]+?)'s name", topic)
        if m is None or self.journal is None:
            return None
        journal, who = _journal(), m.group("who")
        not_names = {d.capitalize() for d in (*journal._WEEKDAYS, *journal._MONTHS)} | {"I", "I'm", "I've", "I'll"}
        mine = rf"\b(?i:my|our) (?i:{re.escape(who)})"
        for entry in reversed(self.journal.matching(who, self.now())):
            text = journal.retold(entry, self.now().date())
            for pattern in (rf"{mine} (?:is|was|'s) (?:called|named) (?P<name>[A-Z][\w'-]+)",
                            rf"{mine},? (?P<name>[A-Z][\w'-]+)\b"):
                found = re.search(pattern, text)
                if found and found.group("name") not in not_names:
                    return f"Your {who}'s name is {found.group('name').removesuffix(chr(39) + 's')}."
        return None

    def _forget(self, intent: intents.Forget) -> ToolReply:
        found = self._matching(intent.topic)
        entries = self.journal.matching(intent.topic, self.now()) if self.journal is not None else []
        if not found and not entries:
            return ToolReply(f"I didn't have anything about {second_person(intent.topic)}.", "memory", ok=False)
        return self._forgotten(found, entries)

    def _forgotten(self, facts: list[Fact], entries: list[Entry], what: str = "") -> ToolReply:
        """Delete `facts` and `entries`; the reply says what went ("Okay, I've forgotten that ...")."""
        for fact in facts:
            self.store.forget_fact(fact.id)
        if entries and self.journal is not None:
            self.journal.forget(entries)
        said = [_clause(second_person(f.text)) for f in facts]
        said += [_clause(second_person(_journal().retold(e, self.now().date(), drop_said_day=True)))
                 for e in entries]
        shown = said[:3]
        listed = shown[0] if len(shown) == 1 else ", that ".join(shown[:-1]) + ", and that " + shown[-1]
        more = f" And {len(said) - 3} more {'thing' if len(said) == 4 else 'things'}." if len(said) > 3 else ""
        return ToolReply(f"Okay, I've forgotten{what} that {listed}.{more}", "memory")

    def _forgetlast(self, _: intents.ForgetLast) -> ToolReply:
        """The newest thing kept in the last hour: said in passing, or a fact."""
        now = self.clock()
        entry = self.journal.last(self.now()) if self.journal is not None else None
        facts = [f for f in self.store.facts() if f.created >= now - _journal().RECENT_SECONDS]
        fact = facts[-1] if facts else None
        if entry is None and fact is None:
            return ToolReply("I haven't kept anything you said just now, so there's nothing to forget.", "memory")
        if fact is not None and (entry is None or fact.created >= entry.said):
            return self._forgotten([fact], [])
        return self._forgotten([], [entry] if entry else [])

    def _forgettoday(self, _: intents.ForgetToday) -> ToolReply:
        today = self.now().date()
        facts = [f for f in self.store.facts() if datetime.fromtimestamp(f.created, self.tz).astimezone(self.tz)
                 .date() == today]
        entries = self.journal.today(self.now()) if self.journal is not None else []
        if not facts and not entries:
            return ToolReply("I haven't kept anything you told me today.", "memory")
        return self._forgotten(facts, entries, " everything from today:" if len(facts) + len(entries) > 1 else "")

    def _askplans(self, intent: intents.AskPlans) -> ToolReply | None:
        """ "Who is coming to stay this weekend?": what the user said about those days (or, with
        no day named, their plans still to come that share the question's words). None when
        nothing fits: the LLM answers."""
        if self.journal is None:
            return None
        journal, now = _journal(), self.now()
        today = now.date()
        days = journal.date_range(intent.question, now)
        past = journal.is_past(intent.question)
        worded = journal.content_groups(intent.question)
        sharing = self.journal.sharing(intent.question) if worded else set()
        found = []
        for e in self.journal.relevant(intent.question, now, limit=6):
            if worded and e.id not in sharing:  # "what was I nervous about": only what shares a word
                continue
            if days and sharing and days[0] <= e.said_day <= days[1]:
                found.append(e)  # said that day ("I'm anxious about my presentation tomorrow")
                continue
            if e.day_from is None or e.day_to is None:
                continue
            if days and (e.day_from > days[1] or e.day_to < days[0]):
                continue
            if not days and not past and e.day_to < today:
                continue
            if not days and not worded:
                continue
            found.append(e)
        if not found:
            return None
        return ToolReply(self._told(*sorted(found[:2], key=lambda e: (e.said, e.id))), "memory")

    def _recallabout(self, intent: intents.RecallAbout) -> ToolReply:
        """ "What did I tell you about my boss?": from facts and what was said in passing, in the
        second person, with when it was said when that was not today."""
        topic = second_person(intent.topic)
        facts = [f for f in self.store.facts() if _topic_words(intent.topic) & _words(f.text)] \
            if _topic_words(intent.topic) else []
        now = self.now()
        entries = sorted(self.journal.about(intent.topic, now), key=lambda e: (e.said, e.id)) \
            if self.journal is not None else []
        if not facts and not entries:
            if self.journal is None:
                return ToolReply(f"You haven't asked me to remember anything about {topic}, and I don't keep "
                                 "what you say in passing.", "memory", ok=False)
            return ToolReply(f"You haven't told me anything about {topic}.", "memory", ok=False)
        said = [f"You asked me to remember that {_clause(second_person(f.text))}." for f in facts[-2:]]
        if entries:
            said.append(self._told(*entries[:4 - len(said)]))
        return ToolReply(" ".join(said), "memory")

    def memory_context(self, limit: int = 20) -> str:
        """The facts for the LLM's system prompt (as the user said them), newest last."""
        try:
            facts = self.store.facts()[-limit:]
        except StorageError:
            return ""
        return "\n".join(f"- {f.text}" for f in facts)
