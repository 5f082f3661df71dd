"""The intent layer on a table of phrasings: requests it must recognise, and non-requests
(questions about timers, memories of the past, idioms) that must go to the LLM untouched."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assistant.intents import (
    AskPlans,
    CancelTimer,
    Forget,
    ForgetLast,
    ForgetToday,
    Recall,
    RecallAbout,
    Remember,
    SetReminder,
    SetTimer,
    TellDate,
    TellTime,
    TimeLeft,
    Unsupported,
    parse,
    parse_duration,
)

TZ = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=TZ)  # a Thursday, 2 pm


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


TIMERS = [
    ("Set a timer for ten minutes.", SetTimer(600)),
    ("set a timer for 10 minutes", SetTimer(600)),
    ("Set a 5 minute timer", SetTimer(300)),
    ("Timer for 3 minutes please.", SetTimer(180)),
    ("Start a timer for half an hour.", SetTimer(1800)),
    ("Set a timer for an hour and a half", SetTimer(5400)),
    ("set a timer for one hour and 30 minutes", SetTimer(5400)),
    ("Set a timer for two and a half minutes.", SetTimer(150)),
    ("Can you set a timer for 90 seconds?", SetTimer(90)),
    ("Could you please set a timer for twenty five minutes", SetTimer(1500)),
    ("Set a pasta timer for 8 minutes.", SetTimer(480, "pasta")),
    ("Set a timer for 4 minutes for the tea.", SetTimer(240, "tea")),
    ("Okay, set a timer for a minute.", SetTimer(60)),
    ("Set a timer for a quarter of an hour.", SetTimer(900)),
    ("Hey, start a 1 hour timer", SetTimer(3600)),
    ("Wake me up in 20 minutes.", SetTimer(1200)),
    ("Set a timer for 1.5 hours", SetTimer(5400)),
]
REMINDERS = [
    ("Remind me at 5 pm to call my sister.", SetReminder("call my sister", at(26, 17))),
    ("Remind me at five p.m. to call my sister", SetReminder("call my sister", at(26, 17))),
    ("Remind me in 20 minutes to stretch.", SetReminder("stretch", at(26, 14, 20), 1200)),
    ("Remind me to stretch in twenty minutes", SetReminder("stretch", at(26, 14, 20), 1200)),
    ("Remind me tomorrow at 9 to water the plants.", SetReminder("water the plants", at(27, 9))),
    ("remind me to call mom at 5:30", SetReminder("call mom", at(26, 17, 30))),
    ("Remind me at 5 to take the bins out.", SetReminder("take the bins out", at(26, 17))),
    ("Remind me at 11 am to check the oven", SetReminder("check the oven", at(27, 11))),
    ("Remind me at noon to eat lunch.", SetReminder("eat lunch", at(27, 12))),
    ("Remind me in an hour to move the car.", SetReminder("move the car", at(26, 15), 3600)),
    ("Remind me tonight at 8 to call Dad.", SetReminder("call dad", at(26, 20))),
    ("Please remind me at half past 6 to cook dinner.", SetReminder("cook dinner", at(26, 18, 30))),
    ("Remind me to stretch.", SetReminder("stretch", None)),
    ("Remember to buy milk.", SetReminder("buy milk", None)),
    ("Set an alarm for 7 am.", SetReminder("", at(27, 7))),
    # Days she cannot do yet are refused, never set for a wrong day.
    ("Remind me on Friday at 3 to pay rent.", SetReminder("pay rent", None, unsupported="on friday")),
    ("Remind me every Monday to call mum.", SetReminder("call mum", None, unsupported="every monday")),
    ("Remind me the day after tomorrow at 9 to call Bob.",
     SetReminder("call bob", None, unsupported="the day after tomorrow")),
]
QUERIES = [
    ("How long is left on my timer?", TimeLeft()),
    ("How much time is left?", TimeLeft()),
    ("How long until my pasta timer goes off?", TimeLeft()),
    ("What timers do I have?", TimeLeft()),
    ("Do I have any reminders?", TimeLeft()),
    ("Cancel the timer.", CancelTimer(kind="timer")),
    ("Stop the timer", CancelTimer(kind="timer")),
    ("Cancel the pasta timer.", CancelTimer(label="pasta", kind="timer")),
    ("Cancel all timers.", CancelTimer(kind="timer", everything=True)),
    ("Cancel the reminder to stretch.", CancelTimer(label="stretch", kind="reminder")),
    ("What time is it?", TellTime()),
    ("What's the time?", TellTime()),
    ("Tell me the time, please.", TellTime()),
    ("Do you know what time it is?", TellTime()),
    ("What's the date?", TellDate()),
    ("What day is it today?", TellDate()),
    ("What is today's date?", TellDate()),
    ("What day is tomorrow?", TellDate(offset_days=1)),
    ("What is the time in Tokyo?", TellTime(elsewhere="tokyo")),
    ("Add 5 minutes to my timer.", Unsupported("add")),
    ("Pause the timer.", Unsupported("pause")),
    ("Countdown 3 minutes.", SetTimer(180)),
    ("Can you time 5 minutes for me?", SetTimer(300)),
]
MEMORY = [
    ("Remember that my sister's name is Ana.", Remember("my sister's name is Ana")),
    ("My favourite colour is green.", Remember("My favourite colour is green")),
    ("My favorite color is green", Remember("My favorite color is green")),
    ("Please remember I'm allergic to peanuts.", Remember("I'm allergic to peanuts")),
    ("Remember my wife is called Jo", Remember("my wife is called Jo")),
    ("What do you remember about me?", Recall()),
    ("What do you know about me?", Recall()),
    ("What's my sister's name?", Recall("sister's name")),
    ("What is my favourite colour?", Recall("favourite colour")),
    ("Do you remember my sister's name?", Recall("sister's name")),
    ("Forget my sister's name.", Forget("my sister's name")),
    ("Forget that my favourite colour is green", Forget("my favourite colour is green")),
    ("I am vegetarian, remember that.", Remember("I am vegetarian")),
    ("What did I ask you to remember?", Recall()),
    ("What did I tell you about my boss?", RecallAbout("my boss")),
    ("What have I told you about the dentist?", RecallAbout("the dentist")),
    ("What do you know about my manager?", RecallAbout("my manager")),
    ("Do you remember what I told you about my sister?", RecallAbout("my sister")),
    ("What did I say about Saturday?", RecallAbout("saturday")),
    ("Sorry, where did I say my sister lives?", RecallAbout("my sister")),
    ("When did I tell you my exam is?", RecallAbout("my exam")),
    ("Do you remember anything about my neighbour?", RecallAbout("my neighbour")),
    ("What did I tell you about me?", Recall()),
    # words after the topic that only go with the question
    ("What's my sister's name again?", Recall("sister's name")),
    ("What's my sister's name, do you remember?", Recall("sister's name")),
    ("Do you remember my sister's name, by the way?", Recall("sister's name")),
    ("What is my favourite colour please?", Recall("favourite colour")),
    ("By the way, what's my sister's name?", Recall("sister's name")),
    ("Oh, what was my sister's name again?", Recall("sister's name")),
    ("What did I tell you about my boss again?", RecallAbout("my boss")),
    ("Forget what I told you about Tom, please.", Forget("tom")),
    ("Forget that.", ForgetLast()),
    ("Please forget what I just said.", ForgetLast()),
    ("Forget what I told you about my boss.", Forget("my boss")),
    ("Forget everything about my boss", Forget("my boss")),
    ("Forget about my boss.", Forget("my boss")),
    ("Forget today.", ForgetToday()),
    ("Forget everything I said today.", ForgetToday()),
    ("Forget what I told you today", ForgetToday()),
    ("Who is coming to stay this weekend?", AskPlans("Who is coming to stay this weekend?")),
    ("Is anyone visiting me soon?", AskPlans("Is anyone visiting me soon?")),
    ("When is my sister visiting?", AskPlans("When is my sister visiting?")),
    ("What am I doing on Saturday?", AskPlans("What am I doing on Saturday?")),
    ("Do I have any plans for Friday?", AskPlans("Do I have any plans for Friday?")),
]
NOT_REQUESTS = [
    "How do egg timers work?",
    "What is a timer?",
    "Remind me what the capital of France is.",
    "Do you remember the film Her?",
    "I remember when I was young.",
    "Time flies when you're having fun.",
    "What time zone is Tokyo in?",
    "How long does it take to time a race?",
    "How long does it take to boil an egg?",
    "How long until Christmas?",
    "Forget it.",
    "My head hurts.",
    "I set a timer yesterday and it did not work.",
    "Tell me a story about a timer.",
    "What is the capital of France?",
    "Remember when we talked about Paris?",
    "Why is the sky blue?",
    "",
    "Um.",
    "Stop.",
    "Never mind.",
    "What do you know about Paris?",
    "Forget about it.",
    "Forget everything I said.",
    "What am I doing wrong?",
    "Who are you?",
    "What is on TV?",
]


@pytest.mark.parametrize(("text", "expected"), TIMERS + REMINDERS + QUERIES + MEMORY)
def test_requests_are_recognised(text, expected):
    assert parse(text, NOW) == expected


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_non_requests_go_to_the_llm(text):
    assert parse(text, NOW) is None


def test_the_table_is_big_enough():
    assert len(TIMERS + REMINDERS + QUERIES + MEMORY + NOT_REQUESTS) >= 60


@pytest.mark.parametrize(("phrase", "seconds"), [
    ("10 minutes", 600), ("an hour and a half", 5400), ("half an hour", 1800), ("2 and a half minutes", 150),
    ("1 hour 30 minutes", 5400), ("45 seconds", 45), ("a couple of minutes", 120), ("nothing", None),
])
def test_durations(phrase, seconds):
    assert parse_duration(phrase) == seconds


def test_at_5_after_5_pm_is_tomorrow_morning():
    late = datetime(2026, 11, 26, 18, 0, tzinfo=TZ)
    assert parse("Remind me at 5 to feed the cat", late) == SetReminder("feed the cat", at(27, 5))
