"""Battle cards: when the prospect names a competitor, show what to say about them.

A third-party VoiceCoach plugin, built only on the public plugin API. The cards
come with the package (cards.yaml) or from your own file (the ``cards`` setting).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from voicecoach import HIGH, PROSPECT, Observation, Prompt, hookimpl

DEFAULTS = {
    "cards": None,  # a YAML file of your own cards; None: the cards shipped here
}


@dataclass
class Card:
    competitor: str
    names: list[str]
    card: str
    ask: str = ""

    def heard_in(self, text: str) -> bool:
        return any(re.search(rf"\b{re.escape(name)}\b", text) for name in self.names)


def load_cards(path: str | None = None) -> list[Card]:
    source = os.path.expanduser(path) if path else str(resources.files(__name__) / "cards.yaml")
    try:
        with open(source, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except OSError as error:
        raise ValueError(f"battle cards file {source} cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"battle cards file {source} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected competitor names, each with names and card")
    cards = []
    for competitor, entry in data.items():
        if not isinstance(entry, dict) or not entry.get("card"):
            raise ValueError(f"{source}: {competitor} needs a 'card' line")
        names = [str(name).lower() for name in entry.get("names") or [competitor]]
        cards.append(Card(str(competitor), names, str(entry["card"]), str(entry.get("ask") or "")))
    return cards


@hookimpl
def session_started(session):
    settings = session.settings("battle_cards", DEFAULTS)
    return BattleCards(load_cards(settings["cards"]))


class BattleCards:
    """One call: each competitor's card is shown the first time the prospect names them."""

    def __init__(self, cards: list[Card]):
        self.cards = cards
        self.shown: set[str] = set()

    @hookimpl
    def transcript(self, session, utterance):
        if utterance.speaker != PROSPECT:
            return None
        text = utterance.text.lower()
        results = []
        for card in self.cards:
            if card.competitor in self.shown or not card.heard_in(text):
                continue
            self.shown.add(card.competitor)
            results.append(
                Prompt(
                    kind=f"battle_card.{card.competitor.lower()}",
                    text=f"{card.competitor}: {card.card}",
                    priority=HIGH,
                    detail=[f"Ask: {card.ask}"] if card.ask else [],
                    key=str(utterance.id),
                )
            )
            results.append(Observation(kind="competitor_mentioned", value=card.competitor))
        return results or None
