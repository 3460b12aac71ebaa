"""Card, account and phone numbers and emails never reach the log."""

import pytest

import voicecoach
from voicecoach.redaction import redact
from voicecoach.testing import run_conversation


@pytest.mark.parametrize("said, expected", [
    ("My card is 4111 1111 1111 1111, expiry 12 27.", "My card is [card number], expiry 12 27."),
    ("it's 4111-1111-1111-1111", "it's [card number]"),
    ("four one one one one one one one one one one one one one one one", "[card number]"),
    ("Call me on 555-867-5309 or +44 20 7946 0958.", "Call me on [phone number] or [phone number]."),
    ("my number is five five five eight six seven five three zero nine", "my number is [phone number]"),
    ("it's (555) 867 5309", "it's [phone number]"),
    # As tiny.en writes numbers spoken digit by digit, and a card read in groups.
    ("It is 5, 5, 5, 8, 6, 7, 5, 3, 0, 9.", "It is [phone number]."),
    # Digits and digit words mixed in one run, as tiny.en wrote a card number once.
    ("My card is 4-one-one-one-one-1-1-1, one one one one", "My card is [account number]"),
    ("call 555 eight six seven five three oh nine", "call [phone number]"),
    ("The card is 4,111,111,111,111,111,111", "The card is [account number]"),
    ("email jane.doe@example.com please", "email [email] please"),
    ("it is jane dot doe at example dot com", "it is [email]"),
    ("account GB29 NWBK 6016 1331 9268 19 thanks", "account [account number] thanks"),
    ("the account number is 12345678", "the account number is [account number]"),
])
def test_private_numbers_and_addresses_are_replaced(said, expected):
    assert redact(said) == expected


@pytest.mark.parametrize("said", [
    "It costs $40 a month, since 2026, meet at 10:30.",
    "we have 250 employees and 1,200 customers",
    "about 1500000 dollars a year",
    "a budget of $15,000,000 next year",
    "we sold 1,500,000 units",
    "at least one or two of them, maybe three",
    "a 16-digit number is what we need",
    "4111 1111 1111 1112",  # fails the Luhn check: not a card, but long: an account number
])
def test_what_coaching_needs_is_kept(said):
    if said.startswith("4111"):
        assert redact(said) == "[account number]"
    else:
        assert redact(said) == said


CALL = [
    ("seller", "Great, what's the best number to reach you?"),
    ("prospect", "It's 555-867-5309, or email me at pat.lee@example.org."),
    ("seller", "And the card for the deposit?"),
    ("prospect", "Sure, 4111 1111 1111 1111."),
]


def logged_text(db_path):
    db = voicecoach.open_log(db_path, create=False)
    return " ".join(row["text"] for row in db["utterances"].rows)


def test_the_log_and_every_plugin_see_only_the_redacted_words(db_path):
    recorder = voicecoach.testing.CallRecorder()
    run_conversation(CALL, plugins=["sqlite_log"], extra_plugins=[recorder], db_path=db_path)
    text = logged_text(db_path)
    assert "[phone number]" in text and "[email]" in text and "[card number]" in text
    assert "5309" not in text and "example.org" not in text and "1111" not in text
    assert "5309" not in " ".join(u.text for u in recorder.utterances)
    db = voicecoach.open_log(db_path, create=False)
    assert list(db["utterances"].search("5309")) == []


def test_a_profile_may_turn_redaction_off(db_path):
    from voicecoach.pipeline import Pipeline
    from voicecoach.script import ScriptSource, lines_to_utterances, utterance_events
    from voicecoach.testing import make_profile

    profile = make_profile(["sqlite_log"])
    profile.redact = False
    utterances = lines_to_utterances(CALL)
    Pipeline(ScriptSource(utterances), None, profile, db_path=db_path).run_events(utterance_events(utterances))
    assert "555-867-5309" in logged_text(db_path)
