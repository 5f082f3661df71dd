"""The journal: what the user says in passing (people, plans, appointments, feelings,
preferences, their life), kept with its date so she can find it later and come back to it.

Contract (stable; `Pipeline.respond` and the tools call these):
- `Journal.note(user_text, now) -> list[Entry]`: keeps the sentences of a user message that
  are worth keeping ("My sister is visiting on Saturday.", "I had a rough day at work.", "I
  love jazz.") and returns them; questions, requests (timers, "remember that", which stay
  facts), small talk ("hi", "thanks", "ok") and sentences addressed to her are not kept.
  Each entry keeps the sentence (neutralised), when it was said, and the days it is about:
  relative dates ("on Saturday", "tomorrow", "tonight", "next week", "this weekend", "on the
  12th", weekday names) are resolved against `now` when said (`find_dates`). Openings that carry
  no news ("Guess what, ", "So, ") are dropped, and a he/she/they that fits the person just
  named, in the message or in what was kept in the last ten minutes, is kept as that person
  ("My sister is visiting on Saturday." + "Her name is Maya." -> "My sister's name is Maya.").
- `Journal.relevant(query, now, limit=3) -> list[Entry]`: entries whose words match the
  query's content words (SQLite FTS5, porter stemming, a small synonym table: boss/manager,
  mum/mom/mother, visit/stay/come, nervous/anxious/worried, ...) or that are about a day the
  query names ("this weekend", "tomorrow", "on Saturday"); an entry said on that day and
  sharing a word counts once more ("What was I nervous about yesterday?" finds "I'm anxious
  about my presentation tomorrow", said yesterday); the ones matching most, newest first among
  equals. `sharing(query)`: the ids of entries sharing a content word with it.
- `Journal.about(topic, now)`: the entries a "what did I tell you about X" answer is made of.
- `Journal.context_for(query, now) -> str`: at most three lines for the LLM's prompt, e.g.
  "- (said Monday 30 November, about Saturday 5 December) My sister is visiting on Saturday."
  ("" when nothing is relevant).
- `Journal.due_question(now) -> (entry_id, question) | None`: on the first call of a day
  only, one question about something that was for today or yesterday, or something hard
  said yesterday ("How did the dentist go?", "Is your sister there yet?"); never about an
  entry already asked about. `mark_asked(entry_id)` records that it was asked (in the DB).
- `forget(ids)`, `forget_last(now)`, `forget_today(now)`, `matching(topic, now)` for "forget...".
- `prune(now)`: entries older than `retention_days` are deleted (0 = kept forever); done
  when the journal is made and again on the first use of each new day.
- `first_start_notice(store) -> str | None`: the first-start notice, once per store (a flag
  in the DB), marking it shown.
`now` is a timezone-aware `datetime` (`Tools.now()`); every write is one transaction (store.py),
and storage failures raise `StorageError` (an `AssistantError`).

Hand-written date phrases rather than a date library, for the reasons in intents.py: only the
shapes people use for their days are read, so "I may go" or "a second thought" never become dates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from assistant import intents
from assistant.persona import neutralise
from assistant.store import Entry, Store

NOTICE = "I'll remember what you tell me, on this computer only. Say 'forget that' any time."
MAX_ENTRY_CHARS = 300
RECENT_SECONDS = 3600  # "forget that" reaches back this far: older things are not "that"

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?" \
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_ORDINAL_WORDS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split())}
_ORDINAL_WORDS.update({"twenty-first": 21, "twenty first": 21, "twenty-second": 22, "twenty second": 22,
                       "twenty-third": 23, "twenty third": 23, "thirtieth": 30, "thirty-first": 31,
                       "thirty first": 31})
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "a couple of": 2, "a few": 3}
_PART = r"(?: (?:morning|afternoon|evening|night))?"
_DATE_PATTERNS: list[tuple[str, re.Pattern]] = [(name, re.compile(rx, re.I)) for name, rx in [
    ("plus2", r"\b(?:the )?day after tomorrow\b"),
    ("minus2", r"\b(?:the )?day before yesterday\b"),
    ("plus1", rf"\btomorrow\b{_PART}"),
    ("minus1", rf"\byesterday\b{_PART}|\blast night\b"),
    ("today", r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b"),
    ("weekend", r"\b(?:(?P<which>this|next|last|the|at the|over the|on the) )?weekend\b"),
    ("week", r"\b(?P<which>this|next|last) week\b"),
    ("month", r"\b(?P<which>this|next|last) month\b"),
    ("in", r"\bin (?P<n>\d+|an?|one|two|three|four|five|six|seven|a couple of|a few) (?P<unit>days?|weeks?)\b"),
    ("monthday", rf"\b(?:on )?(?:the )?(?P<day>\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH}\b"
                 rf"|\b(?:on )?{_MONTH.replace('month', 'month2')} (?:the )?(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b"),
    ("ordinal", r"\bon the (?P<day>\d{1,2})(?:st|nd|rd|th)?\b|\bthe (?P<day2>\d{1,2})(?:st|nd|rd|th)\b"
                r"|\bon the (?P<word>" + "|".join(sorted(_ORDINAL_WORDS, key=len, reverse=True)) + r")\b"),
    ("weekday", r"\b(?:(?P<which>this|next|last|on|on this|on next|by|until|till) )?(?P<wd>" + "|".join(_WEEKDAYS)
                + r")(?P<plural>s)?\b" + _PART),
]]
# Past tense (for "on Monday" = the Monday before); a future marker wins over it.
_PAST = re.compile(r"\b(?:was|were|had|did|went|came|got|saw|met|made|took|told|said|felt|left|lost|won|ate"
                   r"|bought|spent|gave|found|heard|ran|sent|slept|broke|wrote|flew|drove|fell|forgot)\b", re.I)
_ED = re.compile(r"(?<![\w'])([\w']+) (\w{3,}ed)\b", re.I)
_NOT_PAST_BEFORE_ED = {"am", "is", "are", "i'm", "it's", "he's", "she's", "we're", "they're", "you're", "be",
                       "been", "being", "feel", "feeling", "get", "getting", "so", "very", "really", "too", "more",
                       "most", "quite", "bit", "little", "super", "pretty", "all", "just", "fully", "not"}
_FUTURE = re.compile(r"\b(?:will|shall|gonna|going to|'ll|plan(?:ning)? to|have to|need to|want to|is \w+ing"
                     r"|are \w+ing|am \w+ing|'m \w+ing|'re \w+ing|'s \w+ing)\b", re.I)


@dataclass(frozen=True)
class DateSpan:
    start: int  # where the phrase is in the text
    end: int
    first: date
    last: date


def is_past(text: str) -> bool:
    lowered = text.lower().replace("’", "'")
    lowered = re.sub(r"\b(?:did|have|had) i (?:tell|told|say|said|mention(?:ed)?)\b", " ", lowered)
    if _FUTURE.search(lowered):
        return False
    if _PAST.search(lowered):
        return True
    return any(before.lower() not in _NOT_PAST_BEFORE_ED for before, _ in _ED.findall(lowered))


def _weekend(day: date, shift_weeks: int = 0) -> tuple[date, date]:
    saturday = day + timedelta(days=5 - day.weekday() + 7 * shift_weeks)
    if day.weekday() == 6 and shift_weeks == 0:  # on a Sunday "this weekend" is yesterday and today
        saturday = day - timedelta(days=1)
    return saturday, saturday + timedelta(days=1)


def _month_range(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve(name: str, m: re.Match, today: date, past: bool) -> tuple[date, date] | None:
    g = m.groupdict()
    which = (g.get("which") or "").lower()
    if name in ("plus2", "minus2", "plus1", "minus1", "today"):
        offset = {"plus2": 2, "minus2": -2, "plus1": 1, "minus1": -1, "today": 0}[name]
        return (today + timedelta(days=offset),) * 2
    if name == "weekend":
        shift = 1 if which == "next" else -1 if which == "last" else 0
        first, last = _weekend(today, shift)
        if shift == 0 and past and first > today:
            first, last = _weekend(today, -1)
        return first, last
    if name == "week":
        monday = today - timedelta(days=today.weekday())
        if which == "this":
            return today, monday + timedelta(days=6)
        monday += timedelta(days=7 if which == "next" else -7)
        return monday, monday + timedelta(days=6)
    if name == "month":
        shift = {"this": 0, "next": 1, "last": -1}[which]
        index = today.year * 12 + today.month - 1 + shift
        return _month_range(index // 12, index % 12 + 1)
    if name == "in":
        n = g["n"].lower()
        count = int(n) if n.isdigit() else _NUMBER_WORDS.get(n, 1)
        day = today + timedelta(days=count * (7 if g["unit"].lower().startswith("week") else 1))
        return day, day
    if name in ("monthday", "ordinal"):
        month_name = (g.get("month") or g.get("month2") or "").lower()
        number = g.get("day") or g.get("day2")
        day_of_month = int(number) if number else _ORDINAL_WORDS.get((g.get("word") or "").lower(), 0)
        if not 1 <= day_of_month <= 31:
            return None
        if month_name:
            month = next(i + 1 for i, full in enumerate(_MONTHS) if full.startswith(month_name[:3]))
            years = [today.year - 1, today.year] if past else [today.year, today.year + 1]
            candidates = [d for y in years if (d := _safe_date(y, month, day_of_month))]
        else:
            index = today.year * 12 + today.month - 1
            months = [index - 2, index - 1, index] if past else [index, index + 1, index + 2]
            candidates = [d for i in months if (d := _safe_date(i // 12, i % 12 + 1, day_of_month))]
        chosen = [d for d in candidates if (d <= today if past else d >= today)]
        if not chosen:
            return None
        day = chosen[-1] if past else chosen[0]
        return day, day
    if name == "weekday":
        if g.get("plural"):
            return None  # "on Saturdays": every week, not a day
        target = _WEEKDAYS.index(g["wd"].lower())
        if which == "last" or (past and which not in ("next", "on next", "by", "until", "till")):
            back = (today.weekday() - target) % 7 or 7
            return (today - timedelta(days=back),) * 2
        if which in ("next", "on next"):
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            return (monday + timedelta(days=target),) * 2
        ahead = (target - today.weekday()) % 7
        if ahead == 0 and which not in ("this", "on this"):
            ahead = 7  # "on Saturday" said on a Saturday: the next one ("today" says today)
        return (today + timedelta(days=ahead),) * 2
    return None


def find_dates(text: str, now: datetime | date) -> list[DateSpan]:
    """The day phrases in `text` and the days they mean, said at `now` (past tense reads
    "on Monday" as the Monday before). Phrases do not overlap; in text order."""
    today = now.date() if isinstance(now, datetime) else now
    past = is_past(text)
    taken: list[DateSpan] = []
    for name, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < s.end and s.start < m.end() for s in taken):
                continue
            resolved = _resolve(name, m, today, past)
            if resolved:
                taken.append(DateSpan(m.start(), m.end(), *resolved))
    return sorted(taken, key=lambda s: s.start)


def date_range(text: str, now: datetime | date) -> tuple[date, date] | None:
    spans = find_dates(text, now)
    if not spans:
        return None
    return min(s.first for s in spans), max(s.last for s in spans)


# ---- what is worth keeping -------------------------------------------------------------------
_QUESTION_START = re.compile(
    r"^(?:what|who|whom|whose|when|where|why|how|which|is|are|am|was|were|do|does|did|can|could|would|will|"
    r"should|shall|may|might|have|has|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|can't|couldn't|shouldn't)\b")
_REQUEST_START = re.compile(
    r"^(?:tell|give|play|show|let's|lets|let me|please|help|explain|say|sing|read|write|find|search|open|look|"
    r"stop|start|go on|continue|repeat|describe|imagine|pretend|list|name|calculate|translate|define|recommend|"
    r"suggest|check|set|remind|cancel|turn|make)\b")
_FILLER = re.compile(
    r"^(?:(?:hi|hey|hello|good (?:morning|afternoon|evening)|well|so|oh|um|uh|er|hmm|yeah|yes|no|nope|yep|okay|ok|"
    r"and|but|also|anyway|by the way|you know|actually|honestly|guess what|listen)\b[ ,]*)+")
_SMALL_TALK = re.compile(
    r"^(?:i (?:think|guess|suppose|agree|disagree|see|know|understand|mean|wonder|was wondering|have a question|"
    r"don't know|do not know|dunno|don't think so|do not think so)\b"
    r"|i'?m (?:not sure|just (?:asking|testing|curious|kidding|joking)|back|here|ready|done|listening|kidding|joking)\b"
    r"|i am (?:not sure|just (?:asking|testing|curious|kidding|joking)|back|here|ready|done|listening)\b"
    r"|i (?:said|asked|meant|was (?:asking|talking|joking|kidding))\b"
    r"|me (?:too|neither|either)\b|my (?:bad|pleasure|god|goodness)\b|oh my\b)")
_FINE = re.compile(r"^i'?m (?:fine|good|ok|okay|alright|all right|well|great|not bad|doing (?:fine|good|well|ok|okay"
                   r"|great|alright))(?: thanks?| thank you)?(?: too)?$|^(?:i am) (?:fine|good|ok|okay|well)$")
_REACTION = re.compile(r"^i (?:really )?(?:love|like|hate|loved|liked|enjoyed|adore) (?:it|that|this|them)(?: a lot|"
                       r" so much| very much)?$")
_ABOUT_HER = re.compile(r"\b(?:you|your|you're|yours|yourself|you've|you'll|you'd)\b")
_GREETING = re.compile(r"^(?:hi|hey|hello|good (?:morning|afternoon|evening))\b[^,.!?]{0,20}[,.!]\s*", re.I)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|my|me|mine|myself|we|we're|we've|we'll|our|us|ours)\b")
_PEOPLE = (r"mum|mom|mother|mam|dad|father|parents?|sister|brother|sibling|son|daughter|kids?|children|child|"
           r"wife|husband|partner|girlfriend|boyfriend|friend|boss|manager|colleague|coworker|neighbou?r|"
           r"grandma|grandmother|granny|grandpa|grandfather|aunt|uncle|cousin|niece|nephew|baby|family|doctor|dentist")
_PEOPLE_RX = re.compile(rf"\b(?:{_PEOPLE})s?\b")
_FEELING = re.compile(
    r"\b(?:sad|happy|glad|tired|exhausted|lonely|alone|stressed|anxious|worried|nervous|upset|angry|mad|furious|"
    r"depressed|scared|afraid|frightened|frustrated|overwhelmed|sick|ill|hurt|crying|cried|rough|awful|terrible|"
    r"horrible|miserable|excited|thrilled|proud|bored|heartbroken|grieving|down|low|fed up|burnt out|burned out|"
    r"hate my|bad day|great day|good day|shit|crap|yelled|shouted|screamed|fired|dumped|broke up|argued|"
    r"argument|fight|died|passed away|lost my|in pain|headache)\b")
_HARD = re.compile(
    r"\b(?:sad|tired|exhausted|lonely|stressed|anxious|worried|nervous|upset|angry|furious|depressed|scared|afraid|"
    r"frustrated|overwhelmed|sick|ill|hurt|crying|cried|rough|awful|terrible|horrible|miserable|heartbroken|"
    r"grieving|fed up|burnt out|burned out|bad day|yelled|shouted|screamed|fired|dumped|broke up|argued|argument|"
    r"fight|died|passed away|lost my|in pain)\b")
_PREFERENCE = re.compile(r"\b(?:love|like|hate|prefer|enjoy|adore|favou?rite|can't stand|cannot stand|into)\b")


def _plain(sentence: str) -> str:
    t = sentence.lower().replace("’", "'")
    t = re.sub(r"[^\w\s'-]", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text.strip())
    return [p.strip() for p in parts if p.strip()]


# Openings that carry no news ("Guess what, my sister is visiting!"): dropped when a sentence is
# kept and when it is said back. A bare word only goes when a comma, a dash or the user's own
# subject follows, so "So much happened today." keeps its "So".
_OPENING = re.compile(
    r"^(?:(?:guess what|by the way|okay so|ok so|oh and|so yeah|you know what|you know|so|well|oh|anyway|anyways"
    r"|hey|okay|ok|um+|uh+|er|hmm+|yeah|yes|actually|honestly|listen|and|but|also|right)"
    r"(?:\s*[,!:]\s*|\s*[-\u2013\u2014]\s*|\s+(?=(?:i|i'm|i've|i'll|i'd|my|we|we're|we've|our|me)\b)))+",
    re.I)


def without_opening(sentence: str) -> str:
    """`sentence` without its leading interjections ("Guess what, ", "So, ", "Well, ", "Okay so "),
    capitalised again; unchanged when nothing would be left."""
    rest = _OPENING.sub("", sentence.strip().replace("’", "'"))
    if not rest or not re.search(r"\w", rest):
        return sentence.strip()
    return rest[:1].upper() + rest[1:] if rest != sentence.strip() else rest


_PERSON_MENTION = re.compile(
    rf"\b(?P<det>my|our) (?P<who>(?:(?:little|big|older|younger|elder|eldest|best|new|old|twin|step) )?"
    rf"(?:{_PEOPLE})s?)\b", re.I)
_FEMALE = {"mum", "mom", "mother", "mam", "sister", "daughter", "wife", "girlfriend", "grandma", "grandmother",
           "granny", "aunt", "niece"}
_MALE = {"dad", "father", "brother", "son", "husband", "boyfriend", "grandpa", "grandfather", "uncle", "nephew"}
_PLURAL = {"parents", "kids", "children", "family", "siblings", "friends", "neighbours", "neighbors",
           "colleagues", "coworkers", "cousins", "sisters", "brothers", "sons", "daughters"}
_PRONOUN = re.compile(r"\b(?:she's|he's|they're|she|he|her|him|his|they|them|their)\b", re.I)
# After an object "her" ("I haven't seen her in a year"); before anything else it is "her name".
_AFTER_OBJECT = set("""in on at to for with about from by of yet again today tonight tomorrow yesterday last next
this every since and but so or because when while if a an the that soon later much anymore there here back
too either all often sometimes""".split())
PRONOUN_SECONDS = 600  # "Her name is Maya." resolves to the person of an entry kept this long ago


def _last_person(text: str) -> tuple[str, str] | None:
    """The last "my sister" / "our parents" in `text`: (determiner, who), lower case; None when
    something else is named after it ("My neighbour has a dog." + "He barks all night.")."""
    found = list(_PERSON_MENTION.finditer(text))
    if not found or re.search(r"\b(?:a|an|the|his|her|its|their|my|our|your) \w", text[found[-1].end():], re.I):
        return None
    return found[-1].group("det").lower(), found[-1].group("who").lower()


def resolve_pronoun(sentence: str, before: str) -> str:
    """`sentence` with its first he/she/they (her/his/their...) said as the person last named in
    `before` ("My sister is visiting." + "Her name is Maya." -> "My sister's name is Maya."), so
    the entry is found by that person; unchanged when `sentence` names a person itself, when
    there is no such person, or when the pronoun does not fit them ("his" for "my sister")."""
    person = _last_person(before)
    if person is None or _PERSON_MENTION.search(sentence):
        return sentence
    det, who = person
    last = who.split()[-1]
    plural = last in _PLURAL
    m = next((m for m in _PRONOUN.finditer(sentence) if m.start() == 0 or m.group(0).islower()), None)
    if m is None:  # a capital "Her" inside a sentence is a title ("the film Her")
        return sentence
    word = m.group(0).lower()
    if word.startswith(("they", "them", "their")):
        fits = plural
    elif word in ("she", "she's", "her"):
        fits = not plural and last not in _MALE
    else:
        fits = not plural and last not in _FEMALE
    if not fits:
        return sentence
    name = f"{det} {who}"
    possessive = f"{name}'" if plural and who.endswith("s") else f"{name}'s"
    if word in ("she", "he", "they", "him", "them"):
        said = name
    elif word in ("she's", "he's"):
        said = f"{name}'s"
    elif word == "they're":
        said = f"{name} are"
    elif word == "her":
        following = re.match(r"\s*([\w']+)", sentence[m.end():])
        said = name if not following or following.group(1).lower() in _AFTER_OBJECT else possessive
    else:  # his, their
        said = possessive
    if m.start() == 0:
        said = said[:1].upper() + said[1:]
    return sentence[:m.start()] + said + sentence[m.end():]


def kind_of(sentence: str, dated: bool) -> str:
    t = _plain(sentence)
    if _FEELING.search(t):
        return "feeling"
    if dated:
        return "plan"
    if _PREFERENCE.search(t):
        return "preference"
    if _PEOPLE_RX.search(t):
        return "person"
    return "life"


def worth_keeping(sentence: str, now: datetime, said_as: str | None = None) -> bool:
    """True for a sentence about the user's life, people, plans, feelings or tastes. `said_as`
    is the sentence as the user said it when `sentence` was rewritten (a pronoun resolved):
    whether it was a request for a tool is judged on that."""
    if sentence.rstrip().endswith("?"):
        return False
    t = _plain(sentence)
    t = re.sub(r"\byou know\b|\bthank you\b|\bthanks\b", " ", t)
    t = _FILLER.sub("", re.sub(r"\s+", " ", t).strip()).strip()
    words = t.split()
    if len(words) < 2 or _QUESTION_START.match(t) or _REQUEST_START.match(t):
        return False
    if intents.parse(said_as or sentence, now) is not None:  # a request for a tool, or a fact to remember
        return False
    if _ABOUT_HER.search(t) or _SMALL_TALK.match(t) or _FINE.match(t) or _REACTION.match(t):
        return False
    if _FIRST_PERSON.search(t):
        return len(words) >= 3 or bool(_FEELING.search(t))
    # Someone else's news: "Mum is coming on Sunday.", "Ana starts her new job tomorrow."
    if len(words) < 3:
        return False
    named = re.match(r"[A-Z][a-z]+\b", sentence) is not None and words[0] not in _STOP
    return bool(_PEOPLE_RX.search(t)) or (named and bool(find_dates(sentence, now)))


# ---- searching -----------------------------------------------------------------------------------
_SYNONYMS = [
    {"boss", "manager", "supervisor"},
    {"mum", "mom", "mother", "mam", "mommy", "mummy", "ma"},
    {"dad", "father", "daddy", "papa"},
    {"parent", "parents"},
    {"visit", "visiting", "stay", "staying", "come", "coming", "came", "arrive", "arriving", "guest"},
    {"work", "job", "office", "workplace"},
    {"doctor", "gp", "physician"},
    {"dentist", "dental"},
    {"kid", "kids", "child", "children"},
    {"sick", "ill", "unwell"},
    # Feelings: asked about in other words than they were said in ("What was I nervous about?"
    # for "I'm anxious about my presentation").
    {"nervous", "anxious", "worried", "worry", "worrying", "stressed", "stress", "stressful", "scared", "afraid",
     "frightened", "nerves", "anxiety", "panicking", "dreading", "tense"},
    {"sad", "down", "upset", "unhappy", "miserable", "depressed", "heartbroken", "crying", "cried", "low"},
    {"happy", "glad", "excited", "thrilled", "delighted", "pleased", "overjoyed", "relieved"},
    {"angry", "mad", "furious", "annoyed", "frustrated", "cross"},
    {"tired", "exhausted", "sleepy", "knackered", "drained", "shattered"},
    {"yell", "yelled", "shout", "shouted", "scream", "screamed"},
    {"film", "movie", "films", "movies"},
    {"holiday", "vacation", "trip"},
    {"home", "house", "flat", "apartment"},
    {"grandma", "grandmother", "granny", "nan", "nana"},
    {"grandpa", "grandfather", "granddad", "grandad"},
    {"exam", "test"},
    {"music", "song", "songs"},
    {"cat", "kitten"},
    {"dog", "puppy"},
]
_STOP = set("""
a an the and or but if so of to in on at by for with from into onto about as than then that this these those
there here it its it's is are was were be been being am do does did done have has had having will would shall
should can could may might must i me my mine myself we us our ours you your yours he him his she her hers they them
their what who whom whose when where why how which tell told say said mention mentioned know knew remember
remembered recall anything something everything thing things again please just really very also ever any some
all not no yes did didn't don't doesn't isn't aren't wasn't i'm i've i'll i'd you're let's lets get got going
go gonna want think like
anyone anybody someone somebody soon doing planned plans plan happening up
today tonight tomorrow yesterday weekend week month next last morning afternoon evening night day days
""".split()) | set(_WEEKDAYS) | set(_MONTHS)


def content_groups(query: str) -> list[set[str]]:
    """The query's content words, each with its synonyms (groups that share a word merged)."""
    t = _plain(query).replace("favorite", "favourite")
    words = [re.sub(r"'s$|'$", "", w) for w in re.findall(r"[\w']+", t)]
    groups: list[set[str]] = []
    for w in words:
        w = w.strip("'-")
        if not w or w in _STOP or w.isdigit() or re.fullmatch(r"\d+(?:st|nd|rd|th)", w):
            continue
        group = {w}
        for synonyms in _SYNONYMS:
            if w in synonyms:
                group |= synonyms
        for other in groups:
            if other & group:
                other |= group
                break
        else:
            groups.append(group)
    return groups


def _fts(group: set[str]) -> str:
    """An FTS5 query matching any word of `group` (each quoted, so no word is FTS syntax)."""
    return " OR ".join('"' + w.replace('"', "") + '"' for w in sorted(group))


# ---- saying things back ------------------------------------------------------------------
def said_when(said: date, today: date) -> str:
    days = (today - said).days
    if days <= 0:
        return ""
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"on {said.strftime('%A')}"
    return f"on {said.strftime('%B')} {said.day}"


def spoken_day(day: date, today: date) -> str:
    """ "today", "tomorrow", "yesterday", "on Saturday" (within a week), "on December 12"."""
    days = (day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    if -7 < days < 7:
        return f"on {day.strftime('%A')}"
    return f"on {day.strftime('%B')} {day.day}"


def retold(entry: Entry, today: date, drop_said_day: bool = False) -> str:
    """The entry's sentence with its one-day phrases said from `today` ("tomorrow" said
    yesterday is "today" now), first person kept ("my" = the user), without an opening like
    "Guess what, " (entries kept before those were dropped). `drop_said_day` removes
    a phrase that only names the day it was said (the caller says when it was said)."""
    text = without_opening(entry.text)
    if entry.said_day == today:
        return text
    out, at = [], 0
    for span in find_dates(text, entry.said_day):
        out.append(text[at:span.start])
        if span.first == span.last:
            if drop_said_day and span.first == entry.said_day:
                out[-1] = out[-1].rstrip()
            else:
                out.append(spoken_day(span.first, today))
        else:
            out.append(text[span.start:span.end])
        at = span.end
    out.append(text[at:])
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r" {2,}", " ", "".join(out))).strip()


def _long_day(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"


# ---- coming back to things -----------------------------------------------------------------
_SUBJECT = r"(?P<det>my|our) (?P<who>(?:[\w'-]+ ){0,2}?[\w'-]+)|(?P<name>[A-Z][a-z]+(?: and [A-Z][a-z]+)?)"
_VISIT = re.compile(rf"^(?:{_SUBJECT}) (?P<be>is|are|'s|'re|will be|was|were)? ?(?:visiting|coming(?: over| to stay"
                    r"| to visit| round)?|staying|arriving|flying in|visit|come)\b")
_HAVE = re.compile(r"(?i)\b(?:i|we) (?:have|'ve got|have got|got|'ve|'m having|am having|'re having|are having) "
                   r"(?:(?P<det>a|an|the|my|our) )?(?P<what>(?:[\w-]+ ){0,2}?(?:appointment|interview|exam|test|"
                   r"meeting|dentist|doctor|surgery|operation|check-up|checkup|date|party|presentation|deadline|"
                   r"match|game|concert|flight|trip|class|lesson|audition|wedding|funeral|birthday|"
                   r"scan|review|call))\b")
_GOING = re.compile(r"\b(?:[Ii]'m|[Ii] am|[Ww]e're|[Ww]e are|[Ii]'ll be|[Ww]e'll be) (?:going|heading|off|flying"
                    r"|driving) to "
                    r"(?:(?P<det>the) (?P<place>[\w-]+(?: (?!(?:on|at|in|this|next|tomorrow|today|tonight|with|for"
                    r"|to|and)\b)[\w-]+)?)|(?P<city>[A-Z][\w-]+(?: [A-Z][\w-]+)?))")


def _your(det: str | None) -> str:
    return {"my": "your", "our": "your", "a": "the", "an": "the"}.get((det or "the").lower(), "the")


def question_about(entry: Entry, today: date) -> str:
    """A natural question about an entry due today or yesterday, without the LLM."""
    from assistant.tools import _clause, second_person

    text = entry.text.strip().rstrip(".!")
    started_today = entry.day_from == today
    happened = not started_today
    m = _VISIT.match(text[0].lower() + text[1:] if text[:2].lower() in ("my", "ou") else text)
    if m:
        plural = (m.group("be") or "") in ("are", "'re", "were") or " and " in (m.group("name") or "")
        who = f"your {m.group('who')}" if m.group("who") else m.group("name")
        if happened:
            return f"How was the visit from {who}?" if plural else f"How was {who}'s visit?"
        return f"{'Are' if plural else 'Is'} {who} there yet?"
    m = _HAVE.search(text)
    if m:
        what = f"{_your(m.group('det'))} {m.group('what')}"
        return f"How did {what} go?" if happened else f"How are you feeling about {what} today?"
    m = _GOING.search(text)
    if m:
        place = f"the {m.group('place')}" if m.group("place") else m.group("city")
        return f"How was {place}?" if happened else f"Are you still going to {place} today?"
    mention = _clause(second_person(retold(entry, today, drop_said_day=True)))
    mention = re.sub(r"\s+(?:today|yesterday|tomorrow)$", "", mention)
    if entry.day_from is None or is_past(entry.text):  # something hard, said yesterday
        return f"Yesterday you told me {mention}. How are you feeling today?"
    return f"You mentioned {mention}. How did it go?" if happened else \
        f"You mentioned {mention}. How are you feeling about it?"


class Journal:
    """What the user said in passing, over the user's `Store`."""

    def __init__(self, store: Store, retention_days: int = 90, clock: Callable[[], float] = time.time,
                 tz: tzinfo | None = None) -> None:
        self.store = store
        self.retention_days = retention_days
        self.clock = clock
        self.tz = tz
        self._pruned: date | None = None
        self.notice: str | None = None  # the first-start notice of this run, for the voice loop to say
        self.prune(self._now())

    def _now(self, now: datetime | None = None) -> datetime:
        return now if now is not None else datetime.fromtimestamp(self.clock(), self.tz).astimezone(self.tz)

    def prune(self, now: datetime) -> int:
        """Delete entries older than `retention_days` (0 = keep forever); how many went."""
        self._pruned = now.date()
        if self.retention_days <= 0:
            return 0
        old = self.store.entry_ids_said_before(now.timestamp() - self.retention_days * 86400)
        return self.store.forget_entries(old)  # nothing to delete: no write (a read-only file opens)

    def _daily(self, now: datetime) -> None:
        if self._pruned != now.date():
            self.prune(now)

    # ---- keeping ---------------------------------------------------------------------------
    def note(self, user_text: str, now: datetime) -> list[Entry]:
        """Keep what is worth keeping in a user message (see the module docstring)."""
        self._daily(now)
        kept: list[Entry] = []
        entries = self.store.entries()
        recent = {e.text.lower() for e in entries if e.said > now.timestamp() - 86400}
        # Who "she" is: the last person named in this message, or in what was kept just before.
        before = [entries[-1].text] if entries and entries[-1].said > now.timestamp() - PRONOUN_SECONDS else []
        for sentence in _sentences(neutralise(user_text)):
            sentence = without_opening(_GREETING.sub("", sentence)[:MAX_ENTRY_CHARS].strip())
            sentence = sentence[:1].upper() + sentence[1:]
            said = sentence
            sentence = resolve_pronoun(sentence, " ".join(before))
            before.append(sentence)
            if not worth_keeping(sentence, now, said_as=said) or sentence.lower() in recent:
                continue
            days = date_range(sentence, now)
            first, last = days if days else (None, None)
            kept.append(self.store.add_entry(sentence, now.timestamp(), now.date(), first, last,
                                             kind_of(sentence, days is not None)))
            recent.add(sentence.lower())
        return kept

    # ---- finding ---------------------------------------------------------------------------
    def sharing(self, query: str) -> set[int]:
        """Ids of the entries that share at least one content word (or its synonym) with `query`."""
        ids: set[int] = set()
        for group in content_groups(query):
            ids |= self.store.entry_ids_matching(_fts(group))
        return ids

    def _scored(self, query: str, now: datetime) -> list[tuple[int, Entry]]:
        groups = content_groups(query)
        days = date_range(query, now)
        score: dict[int, int] = {}
        for group in groups:
            for i in self.store.entry_ids_matching(_fts(group)):
                score[i] = score.get(i, 0) + 1
        if days:
            on = self.store.entry_ids_on(*days)
            for i in on:
                score[i] = score.get(i, 0) + 1
            # Said on that day, about another ("What was I nervous about yesterday?" for "I'm
            # anxious about my presentation tomorrow", said yesterday): only with a shared word,
            # or every sentence of a talkative day would be an answer.
            for e in self.store.entries(set(score) - on):
                if days[0] <= e.said_day <= days[1]:
                    score[e.id] += 1
        if not score:
            return []
        found = self.store.entries(set(score))
        return sorted(((score[e.id], e) for e in found), key=lambda p: (-p[0], -p[1].said, -p[1].id))

    def relevant(self, query: str, now: datetime, limit: int = 3) -> list[Entry]:
        """Entries that bear on `query` (words or days), best first (see the module docstring)."""
        self._daily(now)
        return [e for _, e in self._scored(query, now)[:limit]]

    def about(self, topic: str, now: datetime, limit: int = 3) -> list[Entry]:
        """What a "what did I tell you about X" answer uses: the best-matching entries only."""
        scored = self._scored(topic, now)
        if not scored:
            return []
        best = scored[0][0]
        return [e for s, e in scored if s == best][:limit]

    def matching(self, topic: str, now: datetime) -> list[Entry]:
        """Entries that match every content word of `topic` (and its days, when it names some):
        what "forget what I told you about X" deletes."""
        groups = content_groups(topic)
        days = date_range(topic, now)
        if not groups and not days:
            return []
        ids: set[int] | None = None
        for group in groups:
            found = self.store.entry_ids_matching(_fts(group))
            ids = found if ids is None else ids & found
        if days:
            on = self.store.entry_ids_on(*days)
            ids = on if ids is None else ids & on
        return self.store.entries(ids or set())

    def context_for(self, query: str, now: datetime) -> str:
        """At most three lines for the LLM's prompt about `query`; "" when nothing bears on it."""
        lines = []
        for e in self.relevant(query, now, limit=3):
            said = "today" if e.said_day == now.date() else "yesterday" \
                if (now.date() - e.said_day).days == 1 else _long_day(e.said_day)
            about = ""
            if e.day_from is not None and (e.day_from, e.day_to) != (e.said_day, e.said_day):
                about = f", about {_long_day(e.day_from)}" + \
                    (f" to {_long_day(e.day_to)}" if e.day_to and e.day_to != e.day_from else "")
            lines.append(f"- (said {said}{about}) {e.text}")
        return "\n".join(lines)

    # ---- coming back to things -------------------------------------------------------------
    def due_question(self, now: datetime) -> tuple[int, str] | None:
        """On the first call of a day: one question about something for today or yesterday
        (or something hard said yesterday), never one already asked. None otherwise."""
        self._daily(now)
        today = now.date()
        if self.store.meta("due_question_day") == today.isoformat():
            return None
        self.store.set_meta("due_question_day", today.isoformat())
        yesterday = today - timedelta(days=1)
        waiting = [e for e in self.store.entries() if e.asked is None]
        short = [e for e in waiting if e.day_from is not None and e.day_to is not None
                 and (e.day_to - e.day_from).days <= 3 and e.said_day < (e.day_to + timedelta(days=1))
                 and not is_past(e.text)]
        over = [e for e in short if e.day_to == yesterday and e.said_day <= yesterday]
        starting = [e for e in short if e.day_from == today and e.said_day < today]
        hard = [e for e in waiting if e.said_day == yesterday and _HARD.search(_plain(e.text))
                and (e.day_to is None or e.day_to <= yesterday)]
        for group in (over, starting, hard):
            if group:
                entry = group[-1]
                return entry.id, question_about(entry, today)
        return None

    def mark_asked(self, entry_id: int) -> None:
        self.store.mark_entry_asked(entry_id, self.clock())

    # ---- forgetting ------------------------------------------------------------------------
    def forget(self, entries: list[Entry]) -> int:
        return self.store.forget_entries([e.id for e in entries])

    def last(self, now: datetime) -> Entry | None:
        """The newest entry, if it was kept in the last hour ("forget that")."""
        entries = self.store.entries()
        if entries and entries[-1].said >= now.timestamp() - RECENT_SECONDS:
            return entries[-1]
        return None

    def today(self, now: datetime) -> list[Entry]:
        return [e for e in self.store.entries() if e.said_day == now.date()]


def first_start_notice(store: Store) -> str | None:
    """The notice for the first start of a store ("I'll remember what you tell me..."), once:
    it is marked shown in the DB before it is returned; None every time after."""
    if store.meta("notice_shown"):
        return None
    store.set_meta("notice_shown", "1")
    return NOTICE


def journal_for(store: Store, keep_conversation: bool, retention_days: int,
                clock: Callable[[], float] = time.time, tz: tzinfo | None = None) -> tuple[Journal | None, int]:
    """The journal the tools use, and how many old entries were deleted because keeping the
    conversation is off (`memory.keep_conversation: false`: nothing said in passing is kept,
    what was kept before is deleted, nothing new is noted; facts and timers stay)."""
    if keep_conversation:
        return Journal(store, retention_days, clock, tz), 0
    return None, store.forget_entries([e.id for e in store.entries()])
