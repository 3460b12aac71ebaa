"""The labelled corpus, the scoring, and `voicecoach eval`."""

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from voicecoach import PROSPECT, SELLER, Utterance
from voicecoach.evaluation import (
    SPLITS,
    STAGE_NAMES,
    AudioRunner,
    CorpusError,
    LabelledUtterance,
    ObjectionScores,
    Outcome,
    _align,
    _Spoken,
    eval_command,
    evaluate_objections,
    evaluate_objections_audio,
    evaluate_stages,
    load_corpus,
    load_dialogue,
    load_dialogues,
    time_matcher,
    word_error_rate,
)
from voicecoach_objections import load_playbook

CATEGORIES = {objection.category for objection in load_playbook()}
DOMAINS = {"direct_sales", "insurance", "software", "home_services", "b2b_services"}

DIALOGUE = """
title: A tiny bookkeeping call
domain: software
lines:
  - {speaker: seller, text: "Hi Maria, thanks for taking the time today.", stage: opening}
  - {speaker: prospect, text: "Sure, happy to.", stage: opening, objection: none}
  - {speaker: seller, text: "How do you handle your bookkeeping today?", stage: discovery}
  - {speaker: prospect, text: "I do it myself in a spreadsheet.", stage: discovery, objection: none}
  - {speaker: seller, text: "Our software connects to your bank and sorts every payment.", stage: presentation}
  - {speaker: prospect, text: "Honestly that sounds too expensive for us.", stage: objection_handling, objection: price}
  - {speaker: seller, text: "Shall we get you started with a free trial?", stage: closing}
"""


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


@pytest.fixture
def dialogue_folder(tmp_path):
    folder = tmp_path / "dialogues"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(DIALOGUE)
    return folder


def test_the_corpus_is_big_varied_and_labelled_with_real_categories(corpus):
    assert len(corpus) >= 300
    assert sum(item.hard_negative for item in corpus) >= 100
    assert all(item.hard_negative is False or not item.labels for item in corpus)
    labels = Counter(label for item in corpus for label in item.labels)
    assert set(labels) == CATEGORIES
    assert min(labels.values()) >= 20, labels
    assert {item.domain for item in corpus} == DOMAINS
    assert {item.split for item in corpus} == set(SPLITS)
    texts = [item.text.lower() for item in corpus]
    assert len(texts) == len(set(texts)), [text for text, n in Counter(texts).items() if n > 1]


def test_every_shipped_dialogue_is_labelled_with_known_stages_and_objections():
    for dialogue in load_dialogues():
        assert dialogue.lines, dialogue.path
        for line in dialogue.lines:
            assert line.stage in STAGE_NAMES
            if line.objections:
                assert line.objections <= CATEGORIES, (dialogue.path, line.text)


def test_scores_count_each_category_and_the_false_prompts():
    scores = ObjectionScores(
        [
            Outcome("too expensive", frozenset({"price"}), frozenset({"price"})),
            Outcome("pricey, ask my wife", frozenset({"price", "consult"}), frozenset({"price"})),
            Outcome("money is no problem", frozenset(), frozenset({"price"}), hard_negative=True),
            Outcome("my wife loves it", frozenset(), frozenset(), hard_negative=True),
        ]
    )
    price, consult = scores.counts("price"), scores.counts("consult")
    assert (price.tp, price.fp, price.fn) == (2, 1, 0)
    assert price.precision == pytest.approx(2 / 3) and price.recall == 1.0
    assert (consult.tp, consult.fn) == (0, 1) and consult.f1 == 0.0
    assert scores.false_prompt_rate == 0.5
    assert [o.text for o in scores.mistakes] == ["pricey, ask my wife", "money is no problem"]
    assert scores.to_dict()["categories"]["price"]["support"] == 2


def test_each_utterance_is_scored_on_its_own_even_when_the_same_objection_repeats():
    items = [LabelledUtterance("It's too expensive.", frozenset({"price"}))] * 3
    scores = evaluate_objections(items)
    assert [o.found for o in scores.outcomes] == [frozenset({"price"})] * 3


def test_the_tuned_matcher_keeps_its_figures_on_the_tuning_set(corpus):
    # A regression guard for trigger edits (triggers alone); other splits are reported, not asserted.
    scores = evaluate_objections([item for item in corpus if item.split == "tune"], settings={"by_meaning": False})
    assert scores.micro.f1 >= 0.95
    assert scores.false_prompt_rate <= 0.05


def test_the_detection_timing_covers_every_utterance(corpus):
    # The figures themselves are a benchmark (`voicecoach eval` prints them), not a test.
    timing = time_matcher(item.text for item in corpus[:20])
    assert 0 < timing["mean_ms"] <= timing["p95_ms"] <= timing["max_ms"]


def test_stage_accuracy_per_utterance(dialogue_folder):
    (dialogue,) = load_dialogues(str(dialogue_folder))
    scores = evaluate_stages([dialogue])
    assert len(scores.outcomes) == len(dialogue.lines)
    assert scores.outcomes[0].found == "opening"
    assert scores.accuracy == pytest.approx(
        sum(o.expected == o.found for o in scores.outcomes) / len(dialogue.lines)
    )
    assert [o.expected for o in scores.objections.outcomes] == [frozenset(), frozenset(), frozenset({"price"})]
    assert scores.objections.counts("price").tp == 1


def test_a_bad_corpus_is_one_clear_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("utterances:\n  - {text: 'It is too expensive.'}\n")
    with pytest.raises(CorpusError, match=r"bad.yaml: utterances\[1\] needs a `label`"):
        load_corpus(str(path))
    path.write_text("lines:\n  - {speaker: seller, text: Hi, stage: greeting}\n")
    with pytest.raises(CorpusError, match=r"lines\[1\]: stage must be one of"):
        load_dialogue(str(path))


def test_transcripts_are_matched_to_the_line_they_came_from():
    spoken = [_Spoken(SELLER, 0.5, 2.0), _Spoken(PROSPECT, 2.6, 4.0), _Spoken(PROSPECT, 6.0, 7.5)]
    heard = [
        Utterance(speaker=PROSPECT, text="too expensive", start=2.7, end=3.2),
        Utterance(speaker=PROSPECT, text="for us", start=3.5, end=4.1),  # the same line, cut at a pause
        Utterance(speaker=SELLER, text="hello", start=0.4, end=2.1),
        Utterance(speaker=PROSPECT, text="late", start=7.9, end=8.2),  # just after its line
    ]
    assert [[u.text for u in line] for line in _align(spoken, heard)] == [["hello"], ["too expensive", "for us"], ["late"]]


def test_word_error_rate():
    assert word_error_rate([("It's too expensive.", "its too expensive")]) == pytest.approx(1 / 3)
    assert word_error_rate([("a b c d", "a b c d")]) == 0.0


def test_the_eval_command_prints_the_figures(tmp_path, dialogue_folder):
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text(
        "utterances:\n"
        "  - {text: It's way too expensive., label: price, domain: software}\n"
        "  - {text: Money is no problem for us., label: none, hard_negative: true, domain: software}\n"
        "  - {text: Let me talk to my wife first., label: consult, domain: insurance, split: heldout}\n"
    )
    runner = CliRunner()
    result = runner.invoke(eval_command, ["--corpus", str(corpus), "--dialogues", str(dialogue_folder)])
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "price" in result.output and "consult" in result.output
    assert "false prompts on hard negatives: 0/1 (0.0%)" in result.output
    assert "per-utterance stage accuracy" in result.output
    assert "time per utterance, triggers and model" in result.output

    result = runner.invoke(eval_command, ["--corpus", str(corpus), "--only", "objections", "--split", "heldout", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["objections_text"]["utterances"] == 1
    assert figures["objections_text"]["categories"]["consult"]["f1"] == 1.0


def test_the_eval_command_reports_a_missing_corpus(tmp_path):
    result = CliRunner().invoke(eval_command, ["--corpus", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "none.yaml does not exist" in result.output


@pytest.mark.slow
def test_audio_mode_scores_what_speech_recognition_heard(transcriber):
    items = [
        LabelledUtterance("That is just too expensive for us right now.", frozenset({"price"})),
        LabelledUtterance("We have two offices in Ohio.", frozenset()),
        LabelledUtterance("I need to talk to my wife first.", frozenset({"consult"})),
    ]
    scores = evaluate_objections_audio(items, AudioRunner(transcriber=transcriber))
    assert [o.text for o in scores.outcomes] == [item.text for item in items]
    assert all(o.heard for o in scores.outcomes)
    assert "expensive" in scores.outcomes[0].heard.lower()
    assert scores.outcomes[0].found == frozenset({"price"})
    assert scores.outcomes[1].found == frozenset()


def test_the_eval_command_scores_with_an_objections_setting(tmp_path):
    corpus = tmp_path / "corpus.yaml"
    corpus.write_text(
        "utterances:\n"
        "  - {text: \"Honestly we're tapped out this month, every penny's spoken for.\", label: price, domain: software}\n"
    )
    runner = CliRunner()
    base = ["--corpus", str(corpus), "--only", "objections", "--json"]
    with_model = json.loads(runner.invoke(eval_command, base).output)
    without = json.loads(runner.invoke(eval_command, base + ["--set", "by_meaning=false"]).output)
    assert with_model["objections_text"]["micro"]["recall"] == 1.0
    assert without["objections_text"]["micro"]["recall"] == 0.0
    result = runner.invoke(eval_command, base + ["--set", "by_meaning"])
    assert result.exit_code != 0 and "is not KEY=VALUE" in result.output
