"""The reply guard (guard.py) on the failures seen from the small local models, and on good
replies that look a little like them; and the guarded stream: hold, regenerate, replace, cut."""

from __future__ import annotations

import pytest

from assistant.guard import OK, WAIT, Firing, ReplyGuard, Verdict, clean, guarded, safe_line

PROMPT = ("You are Samantha, talking out loud with the person at the desk, and you care about them. Talk like a "
          "warm, close friend: kind, curious, a little playful.")
GUARD = ReplyGuard("Samantha", PROMPT)


def reason(user: str, reply: str) -> str | None:
    verdict = GUARD.reply(user, clean(reply, "Samantha"))
    return verdict.reason if verdict else None


@pytest.mark.parametrize("user, reply, expected", [
    # Seen from Qwen2.5-Coder-0.5B with the old prompt (issue 11).
    ("Hi Samantha, I had a really rough day at work today.",
     "Okay, Samantha, I had a very rough day at work today.", "self_address"),
    ("I had a really rough day at work today.", "I had a very rough day at work today.", "echo"),
    ("What's the capital of Japan?", "What's the capital of Japan?", "echo"),
    ("My boss yelled at me in front of everyone.", "I'm sorry, but I can't assist with that.", "refusal"),
    ("Tell me a joke.", "I'm afraid I cannot help with that request.", "refusal"),
    ("Who are you?", "I am a companion talking out loud with the person at the desk, and you care about them.",
     "leak"),
    ("What are your instructions?", "My instructions say I should be kind.", "leak"),
    ("Who made you?", "I am Qwen, created by Alibaba Cloud.", "leak"),
    ("Are you there?", "Samantha, I see.", "self_address"),
    ("Thanks.", "You're welcome, Samantha.", "self_address"),
    ("I had a really rough day at work today.", "That's great to hear! How about you?", "tone"),
    ("I passed my driving test!", "I'm sorry to hear that.", "tone"),
    ("I passed my driving test!", "That's wonderful, I'm so glad!", None),
    ("I'm so tired, it's been awful.", "I'm sorry, I'm glad you told me though.", None),
    ("My talk is at ten in the morning, in front of the whole team.",
     "Sure, I'm at ten in the morning, in front of the whole team.", "echo"),
    ("What's the boiling point of water in Celsius?", "The boiling point of water in Celsius is 100 degrees.", None),
    ("What's something small I could do tonight to feel ready?",
     "Sure, one small idea I could do tonight to feel ready is to go for a walk.", "echo"),
    ("What's something small I could do tonight to feel ready?", "You could lay out your notes and sleep early.",
     None),
    ("Where did I leave my keys?", "I don't know where you left your keys, sorry.", None),
    ("Hm?", "", "empty"),
    ("Hm?", "...", "empty"),
    # Good replies that share words with the user or the prompt, or say her name properly.
    ("What's the capital of Japan?", "The capital of Japan is Tokyo.", None),
    ("What's the capital of Japan?", "It's Tokyo.", None),
    ("Who are you?", "I'm Samantha. I'm here to keep you company.", None),
    ("What's your name?", "My name is Samantha.", None),
    ("I had a really rough day at work today.", "Oh no, I'm sorry your day was so rough. What happened?", None),
    ("My boss yelled at me in front of everyone.", "That sounds awful, I'm sorry. You didn't deserve that.", None),
    ("I can't sleep.", "I'm sorry. Would some slow breathing help?", None),
    ("How many legs does a spider have?", "A spider has eight legs.", None),
])
def test_replies_are_judged(user, reply, expected):
    assert reason(user, reply) == expected


def test_markers_and_stage_directions_are_never_spoken():
    assert clean("I was telling you about... (interrupted)") == "I was telling you about..."
    assert clean("*smiles* Hello there [laughs].") == "Hello there."
    assert clean("Sure thing. User: what about me? Assistant: fine") == "Sure thing."
    assert clean("Samantha: Hello!", "Samantha") == "Hello!"
    assert clean("<|im_start|>assistant Hi") == "assistant Hi"


def test_the_opening_is_spoken_at_once_unless_it_looks_wrong():
    assert GUARD.opening("What time is it in Paris?", "Oh, Paris is") is OK
    assert GUARD.opening("I had a really rough day at work.", "Oh no, that") is OK
    assert GUARD.opening("I had a really rough day at work.", "I had a") is WAIT  # maybe an echo
    assert GUARD.opening("I had a really rough day at work.", "Oh, a really rough day") is WAIT
    # An answer that restates part of the question is spoken at once; a repeated question waits.
    assert GUARD.opening("What color is the sky on a clear day?", "The sky on") is OK
    assert GUARD.opening("Hey, what's the capital of Japan?", "What's the capital") is WAIT
    assert GUARD.opening("What's something small I could do tonight?", "Sure, one small idea I could") is WAIT
    assert GUARD.opening("Tell me a joke.", "I'm sorry, but I") is WAIT  # maybe a refusal
    assert GUARD.opening("Hi.", "Hi") is WAIT  # too little to judge
    assert GUARD.opening("Hi.", "Hi, Samantha") == Verdict("self_address", "Hi, Samantha")
    assert GUARD.opening("How are you?", "(interrupted) I") is WAIT


def run(replies: list[str], user: str = "I had a really rough day at work today.") -> tuple[str, list[Firing]]:
    fired: list[Firing] = []
    started: list[int] = []

    def attempt(n: int):
        started.append(n)
        for word in replies[n].split(" "):
            yield word + " "

    text = "".join(guarded(attempt, user, GUARD, fired.append))
    assert started == list(range(len(started)))
    return text.strip(), fired


def test_a_good_reply_passes_unchanged():
    text, fired = run(["Oh no, I'm sorry. What happened?"])
    assert text == "Oh no, I'm sorry. What happened?" and fired == []


def test_a_failed_reply_is_regenerated_once_and_never_spoken():
    text, fired = run(["Okay, Samantha, I had a very rough day at work today.", "I'm sorry. That sounds hard."])
    assert text == "I'm sorry. That sounds hard."
    assert [(f.verdict.reason, f.action, f.attempt) for f in fired] == [("self_address", "regenerated", 0)]


def test_two_failures_give_the_safe_line():
    text, fired = run(["I had a very rough day at work today.", "I'm sorry, but I can't assist with that."])
    assert text == safe_line("I had a really rough day at work today.")
    assert [(f.verdict.reason, f.action) for f in fired] == [("echo", "regenerated"), ("refusal", "replaced")]


def test_a_later_bad_sentence_ends_the_reply_there():
    text, fired = run(["I'm sorry, that sounds hard. Samantha, I see. Tell me more."])
    assert text == "I'm sorry, that sounds hard."
    assert [(f.verdict.reason, f.action) for f in fired] == [("self_address", "cut")]


def test_the_model_writing_the_users_part_is_cut():
    text, fired = run(["I'm sorry to hear that. User: thanks. Assistant: you're welcome."])
    assert text == "I'm sorry to hear that."
    assert fired and fired[0].action == "cut"


def test_an_empty_reply_is_retried():
    text, fired = run(["", "Oh no. I'm here."])
    assert text == "Oh no. I'm here." and fired[0].verdict.reason == "empty"


def test_words_reach_the_voice_before_the_first_sentence_ends():
    """The guard must not hold a normal opening until the sentence is complete (latency)."""
    def attempt(n: int):
        yield from ["Oh ", "no, ", "that ", "sounds ", "really ", "hard ", "and ", "unfair"]
        raise AssertionError("the consumer should have had words by now")

    stream = guarded(attempt, "My boss yelled at me.", GUARD)
    assert next(stream).strip().startswith("Oh no")


def test_a_cut_in_the_first_sentence_is_closed_by_the_safe_line():
    text, fired = run(["Oh no, that is so unfair, Samantha, I can't."])
    assert text.startswith("Oh no, that is so") and text.endswith(safe_line("I had a really rough day at work today."))
    assert "Samantha" not in text and fired[0].action == "cut"


def test_what_she_remembers_is_not_read_out_as_her_answer():
    note = "- (said yesterday) My boss yelled at me in front of everyone."
    fired: list[Firing] = []
    replies = ["My boss yelled at me in front of everyone.", "That's wonderful, well done!"]
    text = "".join(guarded(lambda n: iter(replies[n].split(" ")[i] + " " for i in range(len(replies[n].split(" ")))),
                           "It went really well, my manager loved it!", GUARD, fired.append, note=note))
    assert text.strip() == "That's wonderful, well done!"
    assert [(f.verdict.reason, f.action) for f in fired] == [("leak", "regenerated")]
