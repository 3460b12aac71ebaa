"""VADER sentiment for one utterance: its compound score and the words behind it.

VADER (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for
Sentiment Analysis of Social Media Text", ICWSM) is a lexicon of about 7,500
words rated by people from -4 to +4, with rules for negation ("not good"),
boosters ("really bad") and "but". Its lexicon ships inside the vaderSentiment
package: nothing is downloaded.
"""

from __future__ import annotations

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText, negated

# Changes to VADER's lexicon for spoken sales calls, on its -4..+4 scale.
SALES_LEXICON = {
    # VADER's raters scored "honest" as praise (+2.3), but on a call "to be honest"
    # and "honestly" mostly open bad news: "To be honest, that's too expensive"
    # would otherwise read as positive (+0.51).
    "honest": 0.0,
    "honestly": 0.0,
    # Price words VADER lacks. Milder than "problem" (-1.7), stronger than its
    # "costly" (-0.4), which almost never moves a sentence (our choice).
    "expensive": -1.0,
    "pricey": -1.0,
    "overpriced": -1.5,
}


class Scorer:
    """One call's VADER analyser, with the sales changes and the profile's own words."""

    def __init__(self, lexicon: dict | None = None):
        self.analyzer = SentimentIntensityAnalyzer()
        for word, valence in {**SALES_LEXICON, **(lexicon or {})}.items():
            if valence:
                self.analyzer.lexicon[word.lower()] = float(valence)
            else:
                # Not a sentiment word at all (VADER's rules look through unrated words).
                self.analyzer.lexicon.pop(word.lower(), None)

    def compound(self, text: str) -> float:
        """VADER's normalised score, from -1 (most negative) to +1 (most positive)."""
        return self.analyzer.polarity_scores(text)["compound"]

    def words(self, text: str, sign: int = -1) -> list[str]:
        """The words of ``text`` that pull its score in the direction of ``sign`` (-1 or +1).

        Each word's valence is VADER's own, after its rules for negation and
        boosters; a word whose sign a negation flipped comes with the words from
        the negation on: "not happy", "no complaints".
        """
        senti_text = SentiText(text)
        tokens = senti_text.words_and_emoticons
        lowered = [token.lower() for token in tokens]
        valences = []
        for i, token in enumerate(tokens):
            if lowered[i] in BOOSTER_DICT or (lowered[i] == "kind" and lowered[i + 1:i + 2] == ["of"]):
                valences.append(0.0)
                continue
            self.analyzer.sentiment_valence(0.0, senti_text, token, i, valences)
        found = []
        for i, valence in enumerate(valences):
            if valence * sign <= 0:
                continue
            phrase = lowered[i]
            if self.analyzer.lexicon.get(lowered[i], 0.0) * valence < 0:
                for j in range(i - 1, max(-1, i - 4), -1):
                    if lowered[j] == "no" or negated([lowered[j]]):
                        phrase = " ".join(lowered[j:i + 1])
                        break
            if phrase not in found:
                found.append(phrase)
        return found
