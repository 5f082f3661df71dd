"""The companion benchmark's scoring rules (scripts/bench_companion.py) on hand-written replies:
every rule passes a good reply and fails a bad one, taken from what the small model really said
(issue 11). No model is loaded."""

from __future__ import annotations

import sys

import pytest
from conftest import PROJECT

sys.path.insert(0, str(PROJECT / "scripts"))
import bench_companion as bc  # noqa: E402

RUNS = bc.prompt_runs(bc.persona_prompt(None))


def failed(line: bc.Line, reply: str | None) -> list[str]:
    return [rule for rule, ok in bc.score(line, reply, RUNS).items() if not ok]


ROUGH = bc.Line("Hi Samantha, I had a really rough day at work today.", bc.FEEL)
JAPAN = bc.Line("What's the capital of Japan?", "fact", ("tokyo",))


def test_echo():
    assert "echo" in failed(ROUGH, "Okay, Samantha, I had a very rough day at work today.")
    assert "echo" in failed(JAPAN, "What's the capital of Japan?")  # starts with the user's first 4 words
    assert "echo" in failed(bc.Line("My boss yelled at me in front of everyone."),
                            "Oh no. Your boss yelled at me in front of everyone? That's awful.")
    assert "echo" not in failed(ROUGH, "Oh no, I'm sorry you had a rough day. Want to tell me what happened?")
    assert "echo" not in failed(bc.Line("Good morning!"), "Good morning! Did you sleep well?")  # too short to echo


def test_self_address():
    assert "self" in failed(ROUGH, "Samantha, I see. That sounds hard.")
    assert "self" in failed(ROUGH, "Okay, Samantha, that sounds like a hard day.")
    assert "self" in failed(bc.Line("Thanks for listening, Samantha."), "You're welcome, Samantha!")
    assert "self" not in failed(bc.Line("Who are you, anyway?"), "I'm Samantha. I'm here to keep you company.")
    assert "self" not in failed(ROUGH, "Oh no, that sounds hard. I'm here.")


def test_prompt_leak():
    who = bc.Line("Who are you, anyway?")
    assert "leak" in failed(who, "I'm a companion talking out loud with the person at the desk, and I care about them.")
    assert "leak" in failed(who, "My system prompt tells me to be kind.")
    assert "leak" in failed(who, "As an AI language model, I don't have feelings.")
    assert "leak" not in failed(who, "I'm Samantha, a friend to talk to. How are you doing?")


def test_refusal():
    boss = bc.Line("My boss yelled at me in front of everyone.", bc.FEEL)
    assert "refusal" in failed(boss, "I'm sorry, but I can't assist with that.")
    assert "refusal" in failed(boss, "I cannot help with that request.")
    assert "refusal" not in failed(boss, "Oh no, I'm sorry, that's humiliating. You didn't deserve that.")


@pytest.mark.parametrize("reply", ["I... (interrupted)", "Sure [...] okay.", "Hello<|im_end|>", "*smiles* Hi there.",
                                   "Of course. (laughs) I'd love to."])
def test_markers_fail(reply):
    assert "marker" in failed(JAPAN, reply)


def test_no_marker_in_plain_speech():
    assert "marker" not in failed(JAPAN, "It's Tokyo, a huge city (about 14 million people).")


def test_length():
    assert "length" in failed(JAPAN, "")  # an empty reply to a question is not an answer
    assert "length" in failed(JAPAN, "Tokyo. " * 4)  # four sentences
    assert "length" in failed(JAPAN, "It is Tokyo, " + "which is a very big city " * 10 + "indeed.")  # > 60 words
    assert "length" in failed(JAPAN, "I'm sorry, I")  # cut off mid-sentence
    assert "length" not in failed(JAPAN, "It's Tokyo. Have you been?")


def test_empathy_on_feelings_only():
    assert "empathy" in failed(ROUGH, "Work is a place where people earn money. What do you do?")
    assert "empathy" not in failed(ROUGH, "Oh no, that sounds exhausting. What happened?")
    happy = bc.Line("Guess what, my sister is visiting on Saturday!", bc.FEEL, mood="happy")
    assert "empathy" not in failed(happy, "That's wonderful! What are you going to do together?")
    assert "empathy" in failed(happy, "I'm sorry to hear that. Do you want to talk?")
    tired = bc.Line("I slept terribly and I'm so tired.", bc.FEEL)
    assert "empathy" in failed(tired, "I'm sorry, but I don't have any details on why you're tired. Tell me more?")
    assert "empathy" in failed(tired, "That's great, I'm glad you're feeling well.")
    assert "empathy" not in failed(tired, "I'm sorry, that sounds rough. Maybe a nap later?")
    assert "empathy" not in bc.score(JAPAN, "Tokyo.", RUNS)  # facts are not checked for it


def test_answer_and_recall_need_the_detail():
    assert "answer" in failed(JAPAN, "It's Kyoto.")
    assert "answer" not in failed(JAPAN, "It's Tokyo.")
    boss = bc.Line("What did I tell you about my boss?", "recall", ("yell", "shout", "in front of"))
    assert "recall" in failed(boss, "You didn't tell me anything about your boss.")
    assert "recall" not in failed(boss, "You said he yelled at you in front of everyone.")  # a stem: yell -> yelled


def test_forget_matches_whole_words():
    line = bc.Line("Do you remember anything about my neighbour?", "forget", forbid=bc.NEIGHBOUR)
    assert "forget" in failed(line, "Yes, Tom and his dog that barks all night.")
    assert "forget" not in failed(line, "Not really. Shall we talk about tomorrow instead?")  # "tomorrow" is not Tom


def test_stop_phrases_need_silence():
    stop = bc.Line("never mind", bc.STOP)
    assert bc.score(stop, "", RUNS) == {"silence": True}
    assert bc.score(stop, "Sure, I'll stop.", RUNS) == {"silence": False}
    assert bc.score(stop, None, RUNS) == {"silence": False}  # no answer at all: the process died


def test_a_missing_reply_fails_every_rule():
    assert all(not ok for ok in bc.score(ROUGH, None, RUNS).values())


def test_the_script_covers_the_issue():
    lines = [line for s in bc.SCRIPT for _, conv in s.conversations for line in conv]
    kinds = {line.kind for line in lines}
    assert len(lines) >= 40 and len(bc.SCRIPT) == 2 and {"feeling", "fact", "recall", "stop", "forget"} <= kinds
    recall_next_day = [line for _, conv in bc.SCRIPT[1].conversations for line in conv if line.kind == "recall"]
    assert any("maya" in line.expect for line in recall_next_day)  # told on Monday, asked on Tuesday


def test_summary_counts_rules_guard_and_latency():
    turns = [bc.Turn("s", "c", ROUGH.text, ROUGH.kind, "Okay, Samantha, I had a very rough day at work today.",
                     2.0, [{"type": "guard", "reason": "echo", "action": "regenerated", "seconds": 0.5},
                           {"type": "reply", "llm_first_token_seconds": 0.2, "first_sentence_seconds": 0.4}]),
             bc.Turn("s", "c", "stop", bc.STOP, "", 0.1, [{"type": "dismissed"}])]
    for turn, line in zip(turns, (ROUGH, bc.Line("stop", bc.STOP)), strict=True):
        turn.checks = bc.score(line, turn.reply, RUNS)
    s = bc.summarise(turns)
    assert s["failures"]["echo"] == 1 and s["failures"]["self"] == 1 and s["rules"]["silence"]["passed"] == 1
    assert s["guard"]["replies_guarded"] == 1 and s["guard"]["replies"] == 1
    assert s["latency"]["llm_first_token_seconds"]["median"] == 0.2
    assert s["repeats"] == []
    assert "FAILED: echo, self" in bc.format_brain({"brain": "b.gguf", "processes": [], "summary": s,
                                                    "turns": [bc.asdict(t) | {"failed": t.failed} for t in turns]})


def test_an_empathetic_reply_may_reuse_the_users_words():
    assert "echo" not in failed(ROUGH, "Oh no, I'm sorry you had a rough day at work today.")
    assert "echo" in failed(bc.Line("I'm so tired today."), "I'm so tired today too.")
    assert "echo" not in failed(JAPAN, "The capital of Japan is Tokyo.")  # an answer restating the question
    assert "echo" in failed(JAPAN, "Hmm, what's the capital of Japan?")
    ready = bc.Line("What's something small I could do tonight to feel ready?")
    assert "echo" in failed(ready, "Sure, something small I could do tonight to feel ready is to go for a walk.")
    boil = bc.Line("What's the boiling point of water in Celsius?")
    assert "echo" not in failed(boil, "The boiling point of water in Celsius is 100 degrees.")


def test_a_reply_said_again_is_counted():
    said = "I'm sorry, but I don't have any details on that. Can you tell me more about it?"
    turns = [bc.Turn("s", "c", "one?", "chat", said), bc.Turn("s", "c", "two?", "chat", said),
             bc.Turn("s", "c", "three?", "chat", "It's Tokyo, a big city.")]
    assert [r["user"] for r in bc.summarise(turns)["repeats"]] == ["two?"]
