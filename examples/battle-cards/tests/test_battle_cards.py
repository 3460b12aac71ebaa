"""The battle-cards plugin, tested the way any plugin author can: scripted calls, no audio."""

import pytest

from voicecoach.testing import run_conversation


def kinds(summary):
    return [prompt.kind for prompt in summary.prompts]


def test_a_named_competitor_brings_up_its_card():
    summary = run_conversation(
        [("seller", "What do you use for the books today?"), ("prospect", "We're on QuickBooks, it's fine.")],
        plugins={"battle_cards": {}},
    )
    assert kinds(summary) == ["battle_card.quickbooks"]
    assert summary.prompts[0].detail == ["Ask: What do you wish QuickBooks did that it doesn't?"]


def test_each_card_once_per_call_and_only_for_the_prospects_words():
    summary = run_conversation(
        [("seller", "Most of our customers came from Xero."),
         ("prospect", "We tried Xero last year."),
         ("prospect", "Xero was slow for us, and so was Fresh Books.")],
        plugins={"battle_cards": {}},
    )
    assert kinds(summary) == ["battle_card.xero", "battle_card.freshbooks"]


def test_no_card_for_words_that_only_look_like_a_name():
    summary = run_conversation([("prospect", "We have zero budget for quickbookkeeping tools.")],
                               plugins={"battle_cards": {}})
    assert kinds(summary) == []


def test_your_own_cards_file(tmp_path):
    cards = tmp_path / "cards.yaml"
    cards.write_text("Acme:\n  names: [acme, acme corp]\n  card: We ship in two days, they ship in ten.\n")
    summary = run_conversation([("prospect", "Acme Corp quoted us less.")],
                               plugins={"battle_cards": {"cards": str(cards)}})
    assert [p.text for p in summary.prompts] == ["Acme: We ship in two days, they ship in ten."]


def test_a_broken_cards_file_is_one_clear_warning(tmp_path):
    cards = tmp_path / "cards.yaml"
    cards.write_text("Acme: [not, a, card]\n")
    warnings = []
    summary = run_conversation([("prospect", "Acme quoted us less.")],
                               plugins={"battle_cards": {"cards": str(cards)}}, warnings=warnings)
    assert summary.prompts == []
    assert any("Acme needs a 'card' line" in w for w in warnings), warnings
