"""The local intent layer: recognise timer, reminder, clock and memory requests in a transcript.

Contract: `parse(text, now)` returns one of the intent dataclasses below, or None when the
text is not such a request (then the LLM answers it). It never guesses an action from a
question *about* timers or memory ("how do egg timers work?", "do you remember the film
Her?"): only clear requests match. Numbers may be words or digits ("ten", "10", "half an
hour", "an hour and a half"); clock times are resolved against `now` (timezone-aware) to the
next matching moment ("at 5" is 5 pm when it is 2 pm, "tomorrow at 9" is 9 am).

Hand-written regular expressions rather than a date library (dateparser, parsedatetime):
those read almost any text as a date ("may", "second", "march"), which is exactly how a
voice assistant sets timers nobody asked for; here only the few shapes people use for
timers and reminders are accepted. Number words go through `text2num`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from text_to_num import alpha2digit


@dataclass(frozen=True)
class SetTimer:
    seconds: float
    label: str = ""


@dataclass(frozen=True)
class SetReminder:
    task: str
    due: datetime | None  # None: the user did not say when (she asks)
    seconds: float | None = None  # set for "in 20 minutes" (relative) reminders
    unsupported: str = ""  # a "when" she cannot do yet ("on friday", "every monday"): she says so


@dataclass(frozen=True)
class TimeLeft:
    pass


@dataclass(frozen=True)
class CancelTimer:
    label: str = ""  # which one ("pasta", "stretch"); "" = the next one due
    kind: str = ""  # "timer", "reminder" or "" for either
    everything: bool = False


@dataclass(frozen=True)
class TellTime:
    elsewhere: str = ""  # "what time is it in Tokyo": she only knows the time here, and says so


@dataclass(frozen=True)
class TellDate:
    offset_days: int = 0  # 1 for "what day is tomorrow"


@dataclass(frozen=True)
class Unsupported:
    what: str  # a timer change she cannot make yet ("pause", "add time to"): she says so, does nothing


@dataclass(frozen=True)
class Remember:
    fact: str  # as the user said it, first person ("my sister's name is Ana")


@dataclass(frozen=True)
class Recall:
    topic: str = ""  # "" = everything she remembers


@dataclass(frozen=True)
class Forget:
    topic: str  # facts and things said in passing about it ("my sister's name", "my boss")


@dataclass(frozen=True)
class RecallAbout:
    topic: str  # "what did I tell you about my boss": answered from facts and the journal


@dataclass(frozen=True)
class ForgetLast:
    pass  # "forget that": the last thing kept (said in passing or a fact), if it was just now


@dataclass(frozen=True)
class ForgetToday:
    pass  # "forget today": everything kept today


@dataclass(frozen=True)
class AskPlans:
    question: str  # "who is coming to stay this weekend?": answered from what the user said, if anything


Intent = (SetTimer | SetReminder | TimeLeft | CancelTimer | TellTime | TellDate | Remember | Recall | Forget
          | RecallAbout | ForgetLast | ForgetToday | AskPlans | Unsupported)

# ---- normalising --------------------------------------------------------------------------
_UNIT_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600}
_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?)"
# text2num leaves small numbers as words when they stand alone ("two and a half", "one minute").
_COUNT = r"(?:\d+(?:\.\d+)?|an?|a couple of|couple of|a few|few|one|two|three|four|five|six|seven|eight|nine|ten)"
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_COUNT_VALUES = {"a": 1, "an": 1, "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
                 **{word: n for n, word in enumerate(_SMALL)}}


def normalise(text: str) -> str:
    """Lower case, digits for number words, "p.m." -> "pm", no sentence punctuation."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", t)
    t = re.sub(r"[^\w\s:'.]", " ", t)  # keep 5:30, 1.5 and apostrophes
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    t = alpha2digit(t, "en")
    t = re.sub(r"\b(\d+) (\d+) (am|pm)\b", r"\1:\2 \3", t)  # "5 30 pm" as Whisper sometimes writes it
    t = re.sub(r"\bo'?clock\b", "", t)
    return re.sub(r"\s+", " ", t).strip()


def parse_duration(text: str) -> float | None:
    """Seconds in a duration phrase ("10 minutes", "an hour and a half", "1 hour 30 minutes",
    "half an hour", "2 and a half minutes"), or None when there is none."""
    total = 0.0
    found = False
    for m in re.finditer(r"\b(?:a )?quarter (?:of )?an? hour\b|\bhalf (?:an? )?(hour|minute)\b", text):
        total += 900 if "quarter" in m.group(0) else 0.5 * _UNIT_SECONDS[m.group(1)]
        found = True
    text = re.sub(r"\b(?:a )?quarter (?:of )?an? hour\b|\bhalf (?:an? )?(?:hour|minute)\b", " ", text)
    pattern = rf"\b({_COUNT})( and a half)? ({_UNIT})( and a half)?\b"
    for m in re.finditer(pattern, text):
        count, half1, unit, half2 = m.groups()
        value = _COUNT_VALUES.get(count)
        amount = float(value if value is not None else count) + (0.5 if half1 or half2 else 0.0)
        total += amount * _UNIT_SECONDS[unit.rstrip("s")]
        found = True
    return total if found and total > 0 else None


# ---- clock times ----------------------------------------------------------------------------
_CLOCK = (r"(?:(?P<half>half past )|(?P<quarter>quarter (?P<qdir>past|to) ))?"
          r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?: ?(?P<ampm>am|pm))?|(?P<word>noon|midday|midnight)")
_DAY = r"(?P<{}>today|tonight|tomorrow(?: morning| afternoon| evening| night)?|this (?:morning|afternoon|evening))"
_AT = re.compile(rf"(?:\b{_DAY.format('day1')} )?\bat (?:{_CLOCK})\b(?: {_DAY.format('day2')}\b)?"
                 rf"|\b{_DAY.format('day3')}\b")


def _resolve_clock(m: re.Match, now: datetime) -> datetime | None:
    """The next moment matching a clock-time match of `_AT`."""
    day = m.group("day1") or m.group("day2") or m.group("day3") or ""
    if m.group("word"):
        hour, minute, ampm = (12, 0, "pm") if m.group("word") in ("noon", "midday") else (0, 0, "am")
    elif m.group("h"):
        hour, minute, ampm = int(m.group("h")), int(m.group("m") or 0), m.group("ampm")
        if m.group("half"):
            minute = 30
        elif m.group("quarter"):
            minute = 15 if m.group("qdir") == "past" else 45
            hour = hour if m.group("qdir") == "past" else hour - 1
    else:  # only a day: "tomorrow" with no time is not enough to set a reminder
        return None
    if hour > 23 or minute > 59 or (ampm and not 1 <= hour <= 12 and hour != 0):
        return None
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    evening = any(w in day for w in ("tonight", "evening", "afternoon", "night"))
    if not ampm and hour < 12 and (evening or (day.startswith("tomorrow") and "morning" not in day and hour < 7)):
        hour += 12
    base = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if day.startswith("tomorrow"):
        return base + timedelta(days=1)
    candidates = [base] if ampm or hour >= 12 else [base, base + timedelta(hours=12)]
    for days in (0, 1):
        for c in candidates:
            if c + timedelta(days=days) > now:
                return c + timedelta(days=days)
    return None


# ---- the requests -------------------------------------------------------------------------
_POLITE = r"^(?:(?:ok(?:ay)?|hey|so|um|uh|please|and|also|now) )*(?:(?:can|could|would|will) you (?:please )?)?"
_TIMER_QUESTION = re.compile(
    r"\bhow (?:much (?:time|longer)|long)\b.*\b(?:left|remaining|to go)\b"
    r"|\bhow (?:long|much time) (?:until|till|before) (?:my|the) (?:\w+ )?(?:timer|reminder)"
    r"|\b(?:what|which|any) (?:timers?|reminders?)\b|\b(?:list|check|show) (?:me )?(?:my "
    r"|the )?(?:timers?|reminders?)\b"
    r"|\bdo i have any (?:timers?|reminders?)\b|\bwhen (?:is|does|will) (?:my|the) (?:\w+ )?(?:timer|reminder)\b"
    r"|\btime (?:is )?left on\b|^(?:my )?(?:timers?|reminders?)$")
_CANCEL = re.compile(
    _POLITE + r"(?:cancel|stop|delete|remove|clear|turn off|switch off"
              r"|forget) (?P<all>all (?:of )?)?(?:the |my |that )?"
    r"(?:(?P<pre>\w+) )?(?P<kind>timers?|reminders?)(?: (?:for|to|about|called) (?:the )?(?P<post>.+))?$")
_TIMER = re.compile(
    _POLITE + r"(?:(?:set|start|make|create|put on|give me|i need|i want|get me|run)(?: me)? )?"
    r"(?:an?|the|another|one more)? ?(?P<pre>[\w ]*?)?timer\b(?P<post>.*)$")
_WAKE_IN = re.compile(_POLITE + r"(?:wake me(?: up)?|let me know|tell me|ping me|alert me) in (?P<rest>.+)$")
_REMIND = re.compile(_POLITE + r"(?:remind me|set (?:a|an) (?:reminder|alarm)|make (?:a|an) reminder)(?P<rest>.*)$")
_TIME = re.compile(r"^(?:so )?(?:what(?:'s| is) the (?:current )?time|what time is it|what time it is|"
                   r"(?:tell|give) me the time|do you (?:have|know) the time|what's the time now)(?: now"
                   r"| please| right now)?$"
                   r"|^(?:(?:can|could) you |do you know )?(?:tell me )?what time it is(?: now| please)?$")
_DATE = re.compile(r"^(?:what(?:'s| is) (?:the |today's )?date(?: today)?|what day is (?:it|today)(?: today)?|"
                   r"what's today|what is today|which day is (?:it|today)|what(?:'s| is) the day today|"
                   r"(?:tell|give) me the date|what month is it|what year is it|what(?:'s"
                   r"| is) today's date)(?: please)?$")
_REMEMBER = re.compile(_POLITE + r"(?:please )?(?:remember|note|don't forget|do not forget|keep in mind)"
                       r"(?: that|:)? (?P<fact>.+)$")
_STATEMENT = re.compile(r"^(?:and |also |by the way )?(?P<fact>my (?:name|birthday|"
                        r"favou?rite \w+(?: \w+)?|\w+'s (?:name|birthday)|\w+ is called) (?:is|are) .+)$")
_REMEMBER_AFTER = re.compile(r"^(?P<fact>.+?),? (?:please )?(?:remember that|remember this|keep that in mind)$")
_RECALL_ALL = re.compile(r"^(?:so )?(?:what|tell me what) (?:else )?"
                         r"(?:do you|did i tell you to|have i asked you to|you) "
                         r"(?:remember|know|recall)(?: about me)?$|^what have i told you(?: about me)?$"
                         r"|^what do you know about me$|^what do you remember$"
                         r"|^what did i (?:ask|tell) you to remember$")
_OPENER = r"(?:(?:so|and|oh|hey|okay|ok|by the way|sorry|um|uh|well|actually) )*"  # "by the way, what's my..."
_RECALL = re.compile(rf"^{_OPENER}(?:do you (?:remember|know) )?(?:(?:what|who|when|where)(?:'s| is| are)?"
                     r"|what was(?= my [\w' ]*\b(?:name|birthday|called|number|address|favou?rite)\b))"
                     r" my (?P<topic>.+?)(?: is| are| was)?$"
                     rf"|^{_OPENER}do you (?:remember|know) my (?P<topic2>.+?)$")
_FORGET = re.compile(_POLITE + r"forget (?:that |about )?(?P<topic>.+)$")
# "What did I tell you about X" (any X) / "what do you know about my X" (only my/our: "what do
# you know about Paris" is a question for the LLM).
_RECALL_ABOUT = re.compile(
    r"^(?:so |and |ok |okay )?(?:(?:do|can) you remember |tell me |remind me )?what (?:else )?(?:did|have|had) "
    r"i (?:tell|told|say|said|mention|mentioned)(?: to)?(?: you)? about (?P<topic>.+)$"
    r"|^(?:so |and )?(?:do you remember |remember )?what i (?:told you|said|mentioned) about (?P<topic2>.+)$"
    r"|^(?:so |and )?(?:what (?:else )?(?:do|did) you|do you) (?:know|remember|recall)(?: anything)? about "
    r"(?P<topic3>(?:my|our) .+)$"
    r"|^(?:so |and )?(?:what )?(?:have|did) i (?:told|tell) you (?:anything )?about (?P<topic4>.+)$"
    # "Where did I say my sister lives?", "When did I tell you my exam is?"
    r"|^(?:sorry |so |and |wait )?(?:where|when|what|who) (?:did|do) i (?:say|tell you|mention)(?: that)? "
    r"(?P<topic5>(?:my|our) [\w']+)\b")
# Questions about the user's own days and visitors ("who is coming to stay this weekend?",
# "what am I doing on Saturday?", "when is my sister visiting?"): answered from the journal when
# it has something, else left to the LLM (tools.py).
_DAYWORD = re.compile(r"\b(?:today|tonight|tomorrow|yesterday|weekend|(?:this|next|last) (?:week|month)"
                      r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|on the \d+)")
_VISITING = r"(?:coming(?: over| round| to (?:stay|visit|see me))?|visiting|staying|arriving)"
_ASK_PLANS = re.compile(
    rf"^(?:so |and )?who(?:'s| is| are)? {_VISITING}\b"
    rf"|^(?:is|are) (?:anyone|anybody|someone|somebody|people) {_VISITING}\b"
    rf"|^when (?:is|are|was|were) my [\w' ]+? {_VISITING}\b"
    r"|^(?:so |and )?what (?:am i|are we|do i have|have i got|did i have|was i|were we|do we have) "
    r"(?:doing |planned |got |on |going to do |up to )?(?:on |for )?(?=.*" + _DAYWORD.pattern + ")"
    r"|^what(?:'s|s| is) (?:happening|on|planned)(?: for me)? (?:today|tonight|tomorrow|this|next|on|at the|over the)\b"
    r"|^(?:do|did) (?:i|we) have (?:anything|any plans|plans|something)(?=.*" + _DAYWORD.pattern + ")")
_FORGET_LAST = re.compile(_POLITE + r"(?:actually |no |oh )?(?:please )?(?:forget|don't remember|do not remember"
                          r"|don't keep|do not keep) (?:that|this|what i (?:just )?(?:said|told you)"
                          r"|the last thing i (?:said|told you)|i said that|i told you that)(?: please| now)?$")
_FORGET_TODAY = re.compile(_POLITE + r"(?:please )?forget (?:all |everything |all of )?(?:that |what )?"
                           r"(?:i (?:said|told you|mentioned) )?(?:from |about )?today(?:'s conversation)?"
                           r"(?: please)?$")
_FORGET_ABOUT = re.compile(_POLITE + r"(?:please )?forget (?:what|everything|all|anything)(?: that)? "
                           r"(?:i (?:said|told you|mentioned) )?about (?P<topic>.+)$")
_NOT_A_FACT = re.compile(r"^(?:when|me|it|this|that|us|them|him|her|the (?:film|movie|song|book))\b")


# Words after a topic that are not part of it ("what's my sister's name again?", "... do you
# remember?", "forget what I said about Tom please"): "your sister's name again" is no topic.
_TOPIC_TAIL = re.compile(r"(?:,?\s+(?:again|please|now|then|exactly|already|anyway|though|by the way|for me"
                         r"|(?:do|can|could) you (?:still )?(?:remember|recall)|if you (?:can )?remember"
                         r"|you remember|do you know|you know|(?:just )?to (?:check|be sure)))+$")


def _topic(words: str) -> str:
    """A memory topic without the words that only go with the question around it."""
    return _TOPIC_TAIL.sub("", words.strip()).strip()


def _label(words: str) -> str:
    """What a timer is for, from the words around "timer" ("pasta", "the tea")."""
    words = re.sub(r"\b(?:for|the|a|an|my|called|named|to|please|now|right|on|set|me)\b", " ", words)
    words = re.sub(r"\b(?:\d+(?:\.\d+)?|and|half|quarter|of|an?|couple|few|" + "|".join(_SMALL) + "|" + _UNIT + r")\b",
                   " ", words)
    return re.sub(r"\s+", " ", words).strip()


def _task(rest: str) -> str:
    rest = re.sub(r"^(?:to|that|about|of) ", "", rest.strip())
    return re.sub(r"\s+", " ", rest).strip(" ,")


_LATER_DAYS = re.compile(r"\b(?:on |next |this |every |each )?(?:(?:the )?day after tomorrow|the day after"
                         r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|week|month|year"
                         r"|january|february|march|april|june|july|august|september|october|november|december)\b"
                         r"|\bevery\b|\bon the \d+")


def _reminder(rest: str, now: datetime) -> SetReminder | None:
    rest = " " + rest.strip() + " "
    rest = re.sub(r" for (?=\d{1,2}(?::\d\d)? ?(?:am|pm)\b)", " at ", rest)  # "an alarm for 7 am"
    later = _LATER_DAYS.search(rest)
    if later:  # only today and tomorrow are understood: never a wrong day
        return SetReminder(_task(_AT.sub(" ", rest.replace(later.group(0), " "))), None,
                           unsupported=later.group(0).strip())
    relative = re.search(rf"\b(?:in|after) ((?:{_COUNT}|half|quarter)[\w .]*?{_UNIT}(?: and a half)?"
                         rf"(?: and \d+ {_UNIT})?)\b", rest)
    if relative:
        seconds = parse_duration(relative.group(1))
        if seconds:
            task = _task(rest.replace(relative.group(0), " "))
            return SetReminder(task, now + timedelta(seconds=seconds), seconds)
    at = _AT.search(rest)
    if at:
        due = _resolve_clock(at, now)
        task = _task(rest.replace(at.group(0), " "))
        return SetReminder(task, due)
    task = _task(rest)
    return SetReminder(task, None) if task else None


def _as_said(text: str, pattern: re.Pattern) -> str | None:
    """The fact with the user's own capitals and numbers ("Ana", not "ana")."""
    light = re.sub(r"\s+", " ", re.sub(r"[^\w\s':.-]", " ", text.replace("’", "'"))).strip().rstrip(".")
    lowered = light.lower()
    if len(lowered) != len(light):
        return None
    m = pattern.match(lowered)
    return light[m.start("fact"):m.end("fact")].strip() if m else None


def parse(text: str, now: datetime) -> Intent | None:
    """The request in `text`, or None when it is not a timer/reminder/clock/memory request."""
    t = normalise(text)
    if not t:
        return None
    if _TIME.match(t):
        return TellTime()
    m = re.match(r"^(?:what(?:'s| is) the time|what time is it) in (?P<place>[\w ]+)$", t)
    if m:
        return TellTime(elsewhere=m.group("place"))
    if _DATE.match(t):
        return TellDate()
    if re.match(r"^(?:what|which) (?:day|date) (?:is|will it be) tomorrow$|^what(?:'s| is) tomorrow's date$", t):
        return TellDate(offset_days=1)
    m = re.match(_POLITE + r"(?P<verb>pause|resume|unpause|extend|snooze|restart|reset|add (?:[\w ]+ )?to) "
                 r"(?:the |my |that )?(?:\w+ )?(?:timers?|reminders?|alarms?)\b", t)
    if m:
        return Unsupported(m.group("verb").split()[0])
    m = re.match(_POLITE + r"(?:count ?down|time) (?:for )?(?P<rest>.+?)(?: for me)?$", t)
    if m and parse_duration(m.group("rest")) and not re.search(r"\b(?:how|what|why)\b", t):
        return SetTimer(parse_duration(m.group("rest")) or 0.0, "")
    if _TIMER_QUESTION.search(t) and not t.startswith(("remind", "set")):
        return TimeLeft()
    m = _CANCEL.match(t)
    if m:
        kind = m.group("kind").rstrip("s")
        label = _label(" ".join(g for g in (m.group("pre"), m.group("post")) if g))
        return CancelTimer(label=label, kind=kind, everything=bool(m.group("all")) or m.group("kind").endswith("s"))
    m = _REMIND.match(t)
    if m:
        rest = m.group("rest")
        if re.match(r"^ (?:what|who|how|why|where|which)\b", rest):  # "remind me what X is" is a question
            return None
        return _reminder(rest, now)
    m = _WAKE_IN.match(t)
    if m:
        seconds = parse_duration(m.group("rest"))
        return SetTimer(seconds, _label(re.sub(rf"\b{_COUNT}( and a half)? {_UNIT}\b", " ", m.group("rest")))) \
            if seconds else None
    m = _TIMER.match(t)
    if m and not re.search(r"\b(?:how|what|why|does|do|is|are|was|did|which)\b", t.split(" timer")[0]):
        seconds = parse_duration(t)
        if seconds:
            return SetTimer(seconds, _label((m.group("pre") or "") + " " + (m.group("post") or "")))
    if re.match(_POLITE + r"remember to ", t):  # a reminder without a time
        return SetReminder(_task(re.sub(_POLITE + r"remember ", "", t)), None)
    if _RECALL_ALL.match(t):
        return Recall()
    m = _RECALL_ABOUT.match(t)
    if m:
        topic = _topic(next(g for g in m.groups() if g))
        return Recall() if topic in ("me", "myself", "us") else RecallAbout(topic)
    if _ASK_PLANS.match(t):
        return AskPlans(text.strip())
    if _FORGET_LAST.match(t):
        return ForgetLast()
    if _FORGET_TODAY.match(t):
        return ForgetToday()
    m = _FORGET_ABOUT.match(t)
    if m and _topic(m.group("topic")) not in ("it", "that", "this"):
        return Forget(_topic(m.group("topic")))
    for pattern in (_REMEMBER, _STATEMENT, _REMEMBER_AFTER):
        m = pattern.match(t)
        if m and not _NOT_A_FACT.match(m.group("fact")) and not t.startswith(("do you", "did you", "i remember")):
            return Remember(_as_said(text, pattern) or m.group("fact").strip())
    m = _RECALL.match(t)
    if m:
        topic = _topic(m.group("topic") or m.group("topic2") or "")
        if topic and not re.match(r"^(?:timer|reminder|question)", topic):
            return Recall(topic)
    m = _FORGET.match(t)
    if m and not re.match(r"^(?:it|that|this|about it|everything i said)$", _topic(m.group("topic"))):
        return Forget(_topic(m.group("topic")))
    return None
