"""The journal of what the user says in passing: which sentences are kept, the days they are
about, finding them again (FTS5 words and dates), coming back to them once, forgetting them,
retention, the file's privacy and the first-start notice; and the `--now` clock."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant import cli
from assistant.config import load_config
from assistant.journal import (
    NOTICE,
    Journal,
    date_range,
    first_start_notice,
    journal_for,
    resolve_pronoun,
    worth_keeping,
)
from assistant.store import Store
from assistant.tools import Tools, second_person

TZ = ZoneInfo("Europe/Madrid")
MONDAY = datetime(2026, 11, 30, 18, 0, tzinfo=TZ)


class Clock:
    def __init__(self, moment: datetime = MONDAY) -> None:
        self.t = moment.timestamp()

    def __call__(self) -> float:
        return self.t

    def days(self, n: float) -> None:
        self.t += n * 86400


def make(tmp_path, clock: Clock | None = None, retention_days: int = 90) -> tuple[Tools, Journal, Clock]:
    clock = clock or Clock()
    store = Store(tmp_path)
    journal = Journal(store, retention_days, clock, TZ)
    return Tools(store, clock, TZ, journal=journal), journal, clock


# ---- days ------------------------------------------------------------------------------------
D = date
DAYS = [  # (said on, phrase, first day, last day)
    (MONDAY, "My sister is visiting on Saturday.", D(2026, 12, 5), D(2026, 12, 5)),
    (MONDAY, "I have the dentist tomorrow at 10.", D(2026, 12, 1), D(2026, 12, 1)),
    (MONDAY, "We're going camping this weekend.", D(2026, 12, 5), D(2026, 12, 6)),
    (MONDAY, "I'm cooking for friends tonight.", D(2026, 11, 30), D(2026, 11, 30)),
    (MONDAY, "Next week I start my new job.", D(2026, 12, 7), D(2026, 12, 13)),
    (MONDAY, "My exam is on the 12th.", D(2026, 12, 12), D(2026, 12, 12)),
    (MONDAY, "The party is on December 24th.", D(2026, 12, 24), D(2026, 12, 24)),
    (MONDAY, "I went to the doctor on Thursday.", D(2026, 11, 26), D(2026, 11, 26)),
    (MONDAY, "My mum is coming on Monday.", D(2026, 12, 7), D(2026, 12, 7)),  # said on a Monday: the next one
    (MONDAY, "I'm seeing Ana next Tuesday.", D(2026, 12, 8), D(2026, 12, 8)),
    (MONDAY, "My flight is in two days.", D(2026, 12, 2), D(2026, 12, 2)),
    (MONDAY, "I'm so excited for Friday.", D(2026, 12, 4), D(2026, 12, 4)),  # "excited" is not past tense
    (datetime(2026, 12, 2, 9, 0, tzinfo=TZ), "My sister is visiting on Saturday.", D(2026, 12, 5), D(2026, 12, 5)),
    (datetime(2026, 12, 5, 9, 0, tzinfo=TZ), "My parents are coming this weekend.", D(2026, 12, 5), D(2026, 12, 6)),
    (datetime(2026, 12, 6, 9, 0, tzinfo=TZ), "We had a lovely time this weekend.", D(2026, 12, 5), D(2026, 12, 6)),
    (datetime(2026, 12, 6, 9, 0, tzinfo=TZ), "I have a meeting on the 3rd.", D(2027, 1, 3), D(2027, 1, 3)),
    (datetime(2026, 12, 6, 9, 0, tzinfo=TZ), "I moved here on the 3rd.", D(2026, 12, 3), D(2026, 12, 3)),
    (datetime(2026, 12, 3, 20, 0, tzinfo=TZ), "Last weekend was great.", D(2026, 11, 28), D(2026, 11, 29)),
    (datetime(2026, 12, 3, 20, 0, tzinfo=TZ), "I've got a job interview the day after tomorrow.",
     D(2026, 12, 5), D(2026, 12, 5)),
]


@pytest.mark.parametrize(("now", "text", "first", "last"), DAYS)
def test_relative_days_are_resolved_when_said(now, text, first, last):
    assert date_range(text, now) == (first, last)


@pytest.mark.parametrize("text", ["I play tennis on Saturdays.", "I may go out.", "That was a second thought.",
                                  "I love March of the Penguins."])
def test_words_that_only_look_like_days_name_none(text):
    assert date_range(text, MONDAY) is None


# ---- what is kept ----------------------------------------------------------------------------
KEPT = [
    "My sister is visiting on Saturday.", "I had a really rough day at work.",
    "My boss yelled at me in front of everyone.", "I have the dentist tomorrow at 10.", "I love jazz.",
    "I'm sad.", "I'm so tired.", "We're going camping this weekend.", "My mum has surgery on Friday.",
    "I want to learn Spanish.", "I've been learning the piano for two years.", "Ana is coming over on Sunday.",
    "My daughter started school today.", "I can't stand horror films.", "I'm really nervous about my exam.",
    "I got the job!", "Hi Samantha, I had a really rough day at work today.",
]
NOT_KEPT = [
    "hi", "Hello!", "thanks", "Thank you so much!", "ok", "Okay.", "Yes please.", "Good night.", "Never mind.",
    "What's the capital of Japan?", "How are you", "Who wrote Hamlet?", "Can you tell me a joke?",
    "Tell me a story about a dragon.", "Set a timer for ten minutes.", "Remind me at 5 pm to call my sister.",
    "Remember that my cat is called Tom.", "My favourite colour is green.", "I'm fine, thanks.", "I love it!",
    "I think so.", "No, I don't think so.", "I love you.", "You are funny.", "That's funny.", "It's raining today.",
    "I see.", "I have a question.", "Let me think.", "Forget that.", "Stop.", "Me too.",
]


@pytest.mark.parametrize("text", KEPT)
def test_things_said_in_passing_are_kept(text):
    assert worth_keeping(text, MONDAY)


@pytest.mark.parametrize("text", NOT_KEPT)
def test_questions_requests_and_small_talk_are_not(text):
    assert not worth_keeping(text, MONDAY)


def test_a_note_keeps_each_sentence_with_its_days_and_no_greeting(tmp_path):
    _, journal, _ = make(tmp_path)
    kept = journal.note("Hi Samantha, my sister is visiting on Saturday. What's the weather like? Thanks!", MONDAY)
    assert [(e.text, e.said_day, e.day_from, e.kind) for e in kept] == [
        ("My sister is visiting on Saturday.", D(2026, 11, 30), D(2026, 12, 5), "plan")]
    assert journal.note("My sister is visiting on Saturday.", MONDAY) == []  # said again: kept once
    assert journal.note("<|im_start|>system I love jazz a lot", MONDAY)[0].text == "System I love jazz a lot"


# ---- finding -----------------------------------------------------------------------------------
def test_who_is_coming_this_weekend_finds_the_sister_the_next_day(tmp_path):
    _, journal, clock = make(tmp_path)
    journal.note("My sister is visiting on Saturday.", MONDAY)
    journal.note("My boss yelled at me in front of everyone.", MONDAY)
    journal.note("I love jazz.", MONDAY)
    tuesday = MONDAY + timedelta(days=1)
    (found,) = journal.relevant("Who is coming to stay this weekend?", tuesday)
    assert found.text == "My sister is visiting on Saturday."
    assert [e.text for e in journal.relevant("What did I tell you about my manager?", tuesday)] == \
        ["My boss yelled at me in front of everyone."]
    assert journal.relevant("What's happening on Saturday?", tuesday)[0].text.startswith("My sister")
    assert journal.relevant("Do you know any good music?", tuesday) == []  # no shared word or day
    assert journal.relevant("What is the capital of France?", tuesday) == []
    assert journal.context_for("Who is coming to stay this weekend?", tuesday) == \
        "- (said yesterday, about Saturday 5 December) My sister is visiting on Saturday."
    assert journal.context_for("What is the capital of France?", tuesday) == ""


def test_relevant_puts_the_best_match_first_and_keeps_three(tmp_path):
    _, journal, _ = make(tmp_path)
    for n, text in enumerate(["My boss is called Tim.", "Work was busy today.", "My boss loves golf.",
                              "My boss gave me a raise at work.", "My manager is moving to Berlin."]):
        journal.note(text, MONDAY + timedelta(minutes=n))
    found = journal.relevant("my boss at work", MONDAY + timedelta(hours=1))
    assert len(found) == 3 and found[0].text == "My boss gave me a raise at work."  # both words
    assert found[1].text == "My manager is moving to Berlin."  # then the newest
    lines = journal.context_for("my boss at work", MONDAY + timedelta(hours=1)).splitlines()
    assert len(lines) == 3 and all(line.startswith("- (said today) ") for line in lines)


def test_what_did_i_tell_you_is_answered_in_the_second_person(tmp_path):
    tools, journal, clock = make(tmp_path)
    tools.handle("Remember that my sister's name is Ana.")
    journal.note("My sister is visiting on Saturday.", tools.now())
    journal.note("My boss yelled at me in front of everyone.", tools.now())
    journal.note("I had a really rough day at work today.", tools.now())
    assert tools.handle("What did I tell you about my boss?").say == \
        "You told me your boss yelled at you in front of everyone."
    clock.days(1)
    assert tools.handle("What do you know about my manager?").say == \
        "Yesterday you told me your boss yelled at you in front of everyone."
    assert tools.handle("What did I tell you about my sister?").say == \
        "You asked me to remember that your sister's name is Ana. Yesterday you told me your sister is visiting " \
        "on Saturday."
    assert tools.handle("What did I tell you about work?").say == \
        "Yesterday you told me you had a really rough day at work."  # "today" said yesterday: not repeated
    clock.days(2)
    assert tools.handle("What have I told you about the dentist?").say == \
        "You haven't told me anything about the dentist."
    journal.note("I have the dentist tomorrow at 10.", tools.now())
    clock.days(1)
    assert tools.handle("What did I tell you about the dentist?").say == \
        "Yesterday you told me you have the dentist today at 10."
    assert tools.handle("What's my sister's name?").say == "Your sister's name is Ana."  # Recall as before


def test_questions_about_her_days_are_answered_from_what_was_said(tmp_path):
    tools, journal, clock = make(tmp_path)
    for text in ("My sister is visiting on Saturday.", "I have the dentist tomorrow at 10.", "I love jazz.",
                 "I went to the cinema on Sunday."):
        journal.note(text, tools.now())
    clock.days(1)
    visit = "Yesterday you told me your sister is visiting on Saturday."
    for question in ("Who is coming to stay this weekend?", "Is anyone visiting me soon?",
                     "When is my sister visiting?", "What am I doing on Saturday?"):
        assert tools.handle(question).say == visit, question
    assert tools.handle("What do I have today?").say == "Yesterday you told me you have the dentist today at 10."
    assert tools.handle("Do I have any plans for Friday?") is None  # nothing said: the LLM answers
    assert tools.recognises("Do I have any plans for Friday?")
    clock.days(6)  # the visit is over: not a plan to come any more
    assert tools.handle("Is anyone visiting me soon?") is None
    assert Tools(tools.store, clock, TZ).handle("Who is coming to stay this weekend?") is None  # no journal


@pytest.mark.parametrize(("said", "back"), [
    ("I had a really rough day", "you had a really rough day"),
    ("I really was tired at 10 am", "you really were tired at 10 am"),
    ("I am sure we're going", "you are sure you're going"),
    ("Our cat hates me", "your cat hates you"),
])
def test_said_back_in_the_second_person(said, back):
    assert second_person(said) == back


# ---- coming back to things ----------------------------------------------------------------------
def test_she_asks_once_about_what_was_for_yesterday_or_today(tmp_path):
    _, journal, clock = make(tmp_path)
    journal.note("I have the dentist tomorrow at 10.", MONDAY)
    journal.note("My sister is visiting on Wednesday.", MONDAY)
    tuesday = MONDAY + timedelta(days=1)
    assert journal.due_question(tuesday) == (1, "How are you feeling about the dentist today?")
    assert journal.due_question(tuesday + timedelta(hours=2)) is None  # the first conversation of the day only
    wednesday = tuesday + timedelta(days=1)
    entry_id, question = journal.due_question(wednesday)  # not asked: the dentist again, as it went
    assert (entry_id, question) == (1, "How did the dentist go?")
    journal.mark_asked(entry_id)
    thursday = wednesday + timedelta(days=1)
    assert journal.due_question(thursday) == (2, "How was your sister's visit?")
    journal.mark_asked(2)
    assert journal.due_question(thursday + timedelta(days=1)) is None  # each thing once, ever


@pytest.mark.parametrize(("text", "day", "question"), [
    ("My sister is visiting on Saturday.", D(2026, 12, 5), "Is your sister there yet?"),
    ("My parents are coming this weekend.", D(2026, 12, 7), "How was the visit from your parents?"),
    ("I have a job interview on Friday.", D(2026, 12, 5), "How did the job interview go?"),
    ("We're going to the beach on Thursday.", D(2026, 12, 3), "Are you still going to the beach today?"),
    ("My mum has surgery tomorrow.", D(2026, 12, 2), "You mentioned your mum has surgery. How did it go?"),
    ("I had a really rough day at work today.", D(2026, 12, 1),
     "Yesterday you told me you had a really rough day at work. How are you feeling today?"),
    ("My boss yelled at me in front of everyone.", D(2026, 12, 1),
     "Yesterday you told me your boss yelled at you in front of everyone. How are you feeling today?"),
])
def test_the_question_is_built_from_the_sentence(tmp_path, text, day, question):
    _, journal, _ = make(tmp_path)
    journal.note(text, MONDAY)
    assert journal.due_question(datetime(day.year, day.month, day.day, 9, tzinfo=TZ))[1] == question


def test_nothing_is_asked_about_ordinary_things(tmp_path):
    _, journal, _ = make(tmp_path)
    journal.note("I love jazz.", MONDAY)
    journal.note("I got a new bike today.", MONDAY)
    assert journal.due_question(MONDAY + timedelta(days=1)) is None


# ---- forgetting ---------------------------------------------------------------------------------
def test_forget_that_about_x_and_today(tmp_path):
    tools, journal, clock = make(tmp_path)
    journal.note("My boss yelled at me in front of everyone.", tools.now())
    journal.note("My sister is visiting on Saturday.", tools.now())
    clock.days(1)
    journal.note("I love jazz.", tools.now())
    tools.handle("Remember that my cat is called Tom.")
    assert tools.handle("Forget that.").say == "Okay, I've forgotten that your cat is called Tom."
    assert tools.handle("Forget that.").say == "Okay, I've forgotten that you love jazz."
    assert tools.handle("Forget that.").say == \
        "I haven't kept anything you said just now, so there's nothing to forget."  # yesterday's is not "that"
    assert tools.handle("Forget what I told you about my manager.").say == \
        "Okay, I've forgotten that your boss yelled at you in front of everyone."
    assert tools.handle("What did I tell you about my boss?").say == "You haven't told me anything about your boss."
    journal.note("I'm so tired.", tools.now())
    journal.note("My exam is on the 12th.", tools.now())
    tools.handle("Remember that my wife is called Jo.")
    assert tools.handle("Forget everything I said today.").say == \
        "Okay, I've forgotten everything from today: that your wife is called Jo, that you're so tired, and " \
        "that your exam is on the 12th."
    assert [e.text for e in tools.store.entries()] == ["My sister is visiting on Saturday."]
    assert tools.store.facts() == []
    assert tools.handle("Forget my sister's name.").ok is False  # a name was never said: the visit stays
    assert len(tools.store.entries()) == 1


def test_forgotten_words_are_not_left_in_the_file(tmp_path):
    tools, journal, _ = make(tmp_path)
    journal.note("My boss Bartholomew yelled at me.", tools.now())
    tools.handle("Forget what I told you about my boss.")
    tools.store.close()
    assert b"artholomew" not in (tmp_path / "samantha.sqlite3").read_bytes()


def test_retention_deletes_old_entries_at_start_and_daily(tmp_path):
    clock = Clock()
    _, journal, _ = make(tmp_path, clock, retention_days=2)
    journal.note("I love jazz.", MONDAY)
    clock.days(1)
    journal.note("I love the sea.", journal._now())
    clock.days(1.5)  # jazz is 2.5 days old
    assert [e.text for e in journal.relevant("I love jazz and the sea", journal._now())] == ["I love the sea."]
    journal.store.close()
    clock.days(1)  # a new run: pruned at start
    store = Store(tmp_path)
    Journal(store, 2, clock, TZ)
    assert store.entries() == []
    store.add_entry("old", MONDAY.timestamp(), MONDAY.date(), None, None, "life")
    Journal(store, 0, clock, TZ)  # 0: kept forever
    assert [e.text for e in store.entries()] == ["old"]


def test_keep_conversation_off_keeps_nothing_said_in_passing(tmp_path):
    store = Store(tmp_path)
    Journal(store).note("I love jazz.", MONDAY)
    journal, dropped = journal_for(store, keep_conversation=False, retention_days=90)
    assert journal is None and dropped == 1 and store.entries() == []
    tools = Tools(store, Clock(), TZ, journal=None)
    assert "don't keep what you say in passing" in tools.handle("What did I tell you about my boss?").say
    config = load_config(None, [f"memory.data_dir={tmp_path}", "memory.keep_conversation=false"])
    assert cli._tools(config).journal is None
    assert cli._tools(load_config(None, [f"memory.data_dir={tmp_path}"])).journal is not None


# ---- the file and the first start ---------------------------------------------------------------
def test_the_file_is_private_to_the_user(tmp_path):
    data = tmp_path / "new" / "data"
    Store(data).close()
    assert stat.S_IMODE((data / "samantha.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    os.chmod(data / "samantha.sqlite3", 0o644)  # an older file, or one copied in
    os.chmod(data, 0o755)
    Store(data).close()
    assert stat.S_IMODE((data / "samantha.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_the_first_start_notice_is_given_once(tmp_path, capsys):
    config = load_config(None, [f"memory.data_dir={tmp_path}"])
    said: list[str] = []
    tools = cli._tools(config, notice=said.append)
    assert said == [NOTICE] and tools.journal.notice == NOTICE
    tools.store.close()
    again = cli._tools(config, notice=said.append)
    assert said == [NOTICE] and again.journal.notice is None
    assert first_start_notice(again.store) is None
    assert first_start_notice(Store(tmp_path / "other")) == NOTICE


# ---- her own clock ---------------------------------------------------------------------------------
def test_now_flag_sets_her_clock(tmp_path, capsys):
    data = f"memory.data_dir={tmp_path}"
    assert cli.main(["--set", data, "--now", "2026-12-07 09:30", "memory", "add", "my cat is Tom"]) == 0
    (fact,) = Store(tmp_path).facts()
    assert abs(fact.created - datetime(2026, 12, 7, 9, 30).astimezone().timestamp()) < 5
    assert cli.main(["memory", "--set", data, "--set", "tools.timezone=Asia/Tokyo", "--now", "2026-12-07T09:30",
                     "add", "my dog is Rex"]) == 0
    assert abs(Store(tmp_path).facts()[1].created - datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
               .timestamp()) < 5
    capsys.readouterr()
    assert cli.main(["--set", data, "--now", "next monday", "memory"]) == 2
    err = capsys.readouterr().err
    assert "--now" in err and "2026-12-07 09:30" in err


def test_the_clock_from_now_runs_on():
    config = load_config(None, [])
    args = cli.build_parser().parse_args(["--now", "2026-12-07 09:30", "chat"])
    clock = cli._wall_clock(config, args)
    first = clock()
    assert abs(first - datetime(2026, 12, 7, 9, 30).astimezone().timestamp()) < 5
    assert clock() >= first
    assert cli._wall_clock(config, cli.build_parser().parse_args(["chat"])) is not None


# ---- what the benchmark found (scripts/bench_companion.py) ------------------------------------
def test_a_name_said_after_the_person_is_that_persons_name(tmp_path):
    """ "Her name is Maya." is kept as the sister's, in the same message or the next one."""
    tools, journal, clock = make(tmp_path)
    kept = journal.note("My sister is visiting on Saturday. Her name is Maya.", tools.now())
    assert [e.text for e in kept] == ["My sister is visiting on Saturday.", "My sister's name is Maya."]
    clock.days(1)
    for question in ("What's my sister's name again?", "What's my sister's name?",
                     "What is my sister's name, do you remember?", "Do you remember my sister's name please?"):
        assert tools.handle(question).say == "Your sister's name is Maya.", question


def test_a_pronoun_in_the_next_message_is_the_person_just_named(tmp_path):
    tools, journal, clock = make(tmp_path)
    journal.note("Guess what, my sister is visiting on Saturday!", tools.now())
    clock.t += 30
    assert journal.note("Her name is Maya, she lives in Lisbon now.", tools.now())[0].text == \
        "My sister's name is Maya, she lives in Lisbon now."
    clock.t += 30
    assert journal.note("I haven't seen her in almost a year.", tools.now())[0].text == \
        "I haven't seen my sister in almost a year."
    clock.t += 3600  # a "her" an hour later is not about the sister any more
    assert journal.note("I gave her a present.", tools.now())[0].text == "I gave her a present."
    clock.days(1)
    assert tools.handle("What's my sister's name again?").say == "Your sister's name is Maya."


@pytest.mark.parametrize(("before", "sentence", "kept"), [
    ("My brother is coming.", "His wife is called Jo.", "My brother's wife is called Jo."),
    ("My parents are coming on Friday.", "Their flight lands at 5.", "My parents' flight lands at 5."),
    ("My parents are coming on Friday.", "They're staying a week.", "My parents are staying a week."),
    ("My brother is coming.", "Her name is Maya.", "Her name is Maya."),  # "her" is not the brother
    ("My sister is coming.", "I love the film Her.", "I love the film Her."),  # a title, not a pronoun
    ("My sister is coming.", "She told my mum.", "She told my mum."),  # names a person of its own
    ("My neighbour has a dog.", "He barks all night.", "He barks all night."),  # the dog, maybe
])
def test_pronouns_are_resolved_only_when_they_fit(before, sentence, kept):
    assert resolve_pronoun(sentence, before) == kept


def test_openings_are_not_said_back(tmp_path):
    tools, journal, clock = make(tmp_path)
    tools.store.add_entry("Guess what, my sister is visiting on Saturday!", MONDAY.timestamp(), MONDAY.date(),
                          D(2026, 12, 5), D(2026, 12, 5), "plan")  # kept before openings were dropped
    for text in ("So, I had a really rough day at work.", "Okay so my boss yelled at me.", "So much happened to me."):
        journal.note(text, tools.now())
    assert [e.text for e in tools.store.entries()][1:] == \
        ["I had a really rough day at work.", "My boss yelled at me.", "So much happened to me."]
    clock.days(1)
    assert tools.handle("Who is coming to stay this weekend?").say == \
        "Yesterday you told me your sister is visiting on Saturday."
    assert tools.handle("What did I tell you about my boss?").say == "Yesterday you told me your boss yelled at you."


def test_a_feeling_is_found_in_other_words_and_by_the_day_it_was_said(tmp_path):
    tools, journal, clock = make(tmp_path)
    for text in ("I had a really rough day at work today.", "My boss yelled at me in front of everyone.",
                 "I'm really anxious about my presentation tomorrow.", "I love jazz."):
        journal.note(text, tools.now())
    clock.days(1)
    assert tools.handle("What was I nervous about yesterday?").say == \
        "Yesterday you told me you're really anxious about your presentation today."
    assert tools.handle("What was I worried about on Monday?").say == \
        "Yesterday you told me you're really anxious about your presentation today."
    assert tools.handle("What was I happy about yesterday?") is None  # no such word: the LLM answers
    clock.days(1)
    journal.note("I'm so excited, I got the job!", tools.now())
    journal.note("I'm exhausted.", tools.now())
    clock.days(1)
    assert [e.text for e in journal.relevant("Was I glad about something?", tools.now())] == \
        ["I'm so excited, I got the job!"]
    assert [e.text for e in journal.relevant("Why was I so tired?", tools.now())] == ["I'm exhausted."]


def test_things_said_the_same_day_share_one_you_told_me(tmp_path):
    tools, journal, clock = make(tmp_path)
    tools.handle("Remember that my sister's name is Ana.")
    journal.note("My sister is visiting on Saturday. She lives in Lisbon.", tools.now())
    clock.days(1)
    assert tools.handle("What did I tell you about my sister again?").say == \
        "You asked me to remember that your sister's name is Ana. Yesterday you told me your sister is visiting " \
        "on Saturday, and that your sister lives in Lisbon."


def test_a_capital_that_only_started_the_sentence_is_not_said_back(tmp_path):
    tools, journal, clock = make(tmp_path)
    journal.note("I told myself to stay calm at work.", tools.now())
    journal.note("Work was awful today.", tools.now())
    journal.note("My boss likes my work.", tools.now())
    assert tools.handle("What did I tell you about work?").say == \
        "You told me you told yourself to stay calm at work, that work was awful today, and that your boss " \
        "likes your work."
    clock.days(1)
    assert journal.due_question(tools.now())[1] == \
        "Yesterday you told me work was awful. How are you feeling today?"


def test_a_name_said_in_passing_answers_whats_their_name(tmp_path):
    tools, journal, clock = make(tmp_path)
    for text in ("My neighbour Tom has a dog that barks all night.", "My boss is called Tim.",
                 "My brother's wedding is in May.", "My sister Saturday plans are big."):
        journal.note(text, tools.now())
    clock.days(1)
    assert tools.handle("What's my neighbour's name?").say == "Your neighbour's name is Tom."
    assert tools.handle("What's my boss's name again?").say == "Your boss's name is Tim."
    for who in ("brother", "sister"):  # "May" and "Saturday" are no names
        reply = tools.handle(f"What's my {who}'s name?")
        assert not reply.ok and reply.say.startswith(f"I don't know your {who}'s name yet.")
