"""The objections plugin: what it hears, what it ignores, and what the seller did about it."""

import pytest

from voicecoach import HIGH, hookimpl
from voicecoach.testing import run_conversation
from voicecoach_objections import load_playbook
from voicecoach_objections.playbook import PlaybookError

OPENER = ("seller", "So, what do you think?")


class Observations:
    """Records every observation the plugins log."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def observed(self, session, observation):
        self.seen.append(observation)

    def of(self, kind):
        return [(o.value, o.data) for o in self.seen if o.kind == kind]


def objection_kinds(lines, settings=None, warnings=None):
    summary = run_conversation(lines, plugins={"objections": settings or {}}, warnings=warnings)
    return [prompt.kind for prompt in summary.prompts if prompt.kind.startswith("objection.")]


def heard(text, speaker="prospect"):
    return objection_kinds([OPENER, (speaker, text)])


PARAPHRASES = {
    "price": [
        "It's too expensive for us.",
        "its to expensive",  # Whisper's homophone, no apostrophe
        "wow thats two expensive",
        "That's way too much money for me.",
        "we cant afford it right now",
        "I cannot afford this.",
        "Honestly, that's a lot of money for us.",
        "the price is too high",
        "That's more than we wanted to spend.",
        "we dont have the budget for this",
        "Money is tight at the moment.",
        "It's a bit pricey.",
        "thats out of my price range",
        "i just cant justify the cost",
    ],
    "timing": [
        "Not right now.",
        "now is not a good time",
        "This is a bad time for us.",
        "we're not ready yet",
        "We are really busy right now.",
        "call me back in a few months",
        "Maybe next year.",
        "let's wait until after the holidays",
        "i dont have time for this right now",
    ],
    "consult": [
        "I'll have to talk to my wife first.",
        "i need to talk it over with my husband",
        "Let me run it by my partner.",
        "I'd have to check with my boss.",
        "I would need to talk to my spouse.",
        "My wife handles the finances.",
        "It's not my decision alone.",
        "i cant decide this on my own",
        "I need my family's approval.",
        "let me see what my wife thinks",
        "we make these decisions together",
    ],
    "no_need": [
        "I'm not interested.",
        "im not really interested",
        "We don't need it.",
        "We're fine with what we have.",
        "It's not for me.",
        "I don't see the point.",
        "i'll pass",
        "why would i need this",
    ],
    "trust": [
        "Is this a pyramid scheme?",
        "is this one of those pyramid things",
        "That sounds too good to be true.",
        "sounds to good to be true",
        "Is this a scam?",
        "It's not a scam, is it?",
        "how do i know this is legit",
        "I've heard bad things about these companies.",
        "whats the catch",
        "isnt this an mlm",
    ],
    "competitor": [
        "We already use another company for that.",
        "We're happy with our current supplier.",
        "we already have a provider",
        "We've been with them for years.",
        "Why would we switch?",
        "we are locked into a contract",
        "We're looking at other options.",
    ],
    "stall": [
        "Let me think about it.",
        "let me think about it and get back to you",
        "I need some time to think it over.",
        "I'll think about it.",
        "Can you just send me some information?",
        "just send me some info",
        "Send me a brochure.",
        "i need to sleep on it",
        "I'll get back to you.",
        "put it in an email",
    ],
    "doubt": [
        "I don't think it will work for us.",
        "Does it really work?",
        "im not convinced it works",
        "I've tried something like this before.",
        "It didn't work for me last time.",
        "i doubt it",
        "How do I know it will work?",
    ],
    "opportunity": [
        "I don't want to sell to my friends.",
        "i dont want to sell to my friends",
        "I'm not a salesperson.",
        "I'm not good at selling.",
        "I'd hate to bother my friends.",
        "I don't know enough people.",
        "i dont want to be one of those people",
    ],
}


# Read otherwise by the objection model since it learned from 24,000 examples (README,
# "How well it hears"): the model's stall for "i cant decide this on my own" overrules
# the consult trigger. Strict: a model that hears them again fails here, to be moved back.
MODEL_MISSES = {"i cant decide this on my own", "We're looking at other options.",
                "Now is a good time."}


def _known(*values):
    text = values[-1]
    if isinstance(text, str) and text in MODEL_MISSES:
        return pytest.param(*values, marks=pytest.mark.xfail(strict=True, reason="the objection model reads it otherwise"))
    return values if len(values) > 1 else text


@pytest.mark.parametrize(
    "category, text", [_known(category, text) for category, texts in PARAPHRASES.items() for text in texts]
)
def test_each_category_is_heard_in_many_phrasings(category, text):
    assert f"objection.{category}" in heard(text)


HARD_NEGATIVES = [
    # Money without a price objection.
    "The price is not a problem.",
    "money is no issue",
    "Price isn't an issue for us.",
    "money's not a problem",
    "It's not too expensive.",
    "i dont think its too expensive",
    "We spent a lot of money on marketing last year.",
    "We have a big budget for this.",
    "Our old system was too expensive.",
    "It's expensive, but worth every penny.",
    "How much does it cost?",
    # Time without a timing objection.
    "Now is a good time.",
    "time is not an issue",
    "We're ready to start.",
    "I'll wait for my colleague to join.",
    # Family without needing to consult them.
    "My wife uses your product already and loves it.",
    "I talked to my husband and he's on board.",
    "My partner and I run a bakery.",
    "My boss asked me to find a solution.",
    # Brands and tools without a competitor objection.
    pytest.param(
        "We use Salesforce and HubSpot.",
        marks=pytest.mark.xfail(strict=True, reason="the objection model reads 'we use <brand>' as a competitor objection"),
    ),
    "I bought a Dyson last year.",
    "I do it myself in a spreadsheet.",
    # Agreement and interest.
    "I'm interested.",
    "I'm good, thanks. How are you?",
    "I trust you.",
    "I think it will work great for us.",
    "I'd love to tell my friends about it.",
    "That makes sense, what are the next steps?",
    "No problem at all.",
    "I'm thinking we could start next month.",
]


@pytest.mark.parametrize("text", [_known(text) for text in HARD_NEGATIVES])
def test_mentions_without_objecting_give_no_prompt(text):
    assert heard(text) == []


@pytest.mark.parametrize(
    "text", ["That's too expensive, I know.", "You might need to talk to your wife first.", "Let me think about it.",
             "Is this a pyramid scheme? No, and here is why."]
)
def test_seller_words_never_trigger(text):
    assert heard(text, speaker="seller") == []


def test_one_channel_recordings_count_the_mixed_voice():
    assert heard("It's too expensive for us.", speaker="mixed") == ["objection.price"]


def test_the_prompt_carries_the_playbook_answer():
    summary = run_conversation([OPENER, ("prospect", "Honestly it's too expensive.")], plugins={"objections": {}})
    (prompt,) = summary.prompts
    assert prompt.kind == "objection.price"
    assert prompt.priority == HIGH
    assert prompt.text.startswith("Price: ")
    assert prompt.key == str(prompt.trigger.id)
    assert len(prompt.detail) >= 3 and prompt.detail[-1].startswith("Ask: ")
    assert prompt.data["category"] == "price"
    assert prompt.data["matched"] == "it's too expensive"
    assert prompt.data["utterance_id"] == prompt.trigger.id


def test_the_demo_objections_are_heard():
    kinds = objection_kinds(
        [
            ("seller", "It is forty nine dollars a month, and that includes support."),
            ("prospect", "To be honest, that sounds too expensive for us right now."),
            ("seller", "I understand, cost matters. How much is your time worth?"),
            ("prospect", "I see your point. But I would need to talk to my husband first."),
            ("seller", "Of course. Does he work on the books with you?"),
            ("prospect", "Let me think about it and get back to you."),
        ]
    )
    assert kinds == ["objection.price", "objection.consult", "objection.stall"]


def test_two_objections_in_one_breath_are_both_prompted():
    assert sorted(heard("It's too expensive and I need to talk to my wife.")) == ["objection.consult", "objection.price"]


def test_each_objection_is_prompted_once():
    kinds = objection_kinds(
        [
            OPENER,
            ("prospect", "It's too expensive."),
            # Same turn (the recogniser cut at a pause): the same objection, said again.
            ("prospect", "Way too expensive, honestly."),
            ("seller", "I hear you. What are you comparing it to?"),
            # A new turn after the seller answered: a new instance.
            ("prospect", "Still, it's just too expensive for us."),
        ]
    )
    assert kinds == ["objection.price", "objection.price"]


def test_answered_when_the_seller_replies_first():
    recorder = Observations()
    run_conversation(
        [OPENER, ("prospect", "It's too expensive."), ("seller", "Fair question. What are you comparing it to?")],
        plugins={"objections": {}},
        extra_plugins=[recorder],
    )
    assert [value for value, _ in recorder.of("objection")] == ["price"]
    ((value, data),) = recorder.of("objection_answered")
    assert value == "price"
    assert data["answer"] == "Fair question. What are you comparing it to?"
    assert recorder.of("objection_unanswered") == []


def test_unanswered_when_the_prospect_speaks_again_first():
    recorder = Observations()
    run_conversation(
        [
            {"speaker": "seller", "text": "So, what do you think?", "start": 0, "end": 2},
            {"speaker": "prospect", "text": "Let me think about it.", "start": 3, "end": 4.5},
            {"speaker": "prospect", "text": "Anyway, what else do you sell?", "start": 8, "end": 10},
            {"speaker": "seller", "text": "We also have a payroll module.", "start": 11, "end": 13},
        ],
        plugins={"objections": {}},
        extra_plugins=[recorder],
    )
    assert [value for value, _ in recorder.of("objection_unanswered")] == ["stall"]
    assert recorder.of("objection_answered") == []


def test_a_backchannel_is_not_an_answer():
    recorder = Observations()
    run_conversation(
        [OPENER, ("prospect", "I need to talk to my wife."), ("seller", "Mm-hm."), ("prospect", "She does our money.")],
        plugins={"objections": {}},
        extra_plugins=[recorder],
    )
    assert [value for value, _ in recorder.of("objection_unanswered")] == ["consult"]


def test_a_pause_inside_the_prospects_turn_is_not_speaking_again():
    recorder = Observations()
    run_conversation(
        [
            OPENER,
            ("prospect", "It's too expensive."),
            ("prospect", "For a bakery our size, I mean."),
            ("seller", "I understand. What would it need to save you?"),
        ],
        plugins={"objections": {}},
        extra_plugins=[recorder],
    )
    assert [value for value, _ in recorder.of("objection_answered")] == ["price"]
    assert recorder.of("objection_unanswered") == []


def test_mixed_recordings_do_not_guess_who_answered():
    recorder = Observations()
    run_conversation(
        [("mixed", "It's too expensive."), ("mixed", "I understand, what are you comparing it to?")],
        plugins={"objections": {}},
        extra_plugins=[recorder],
    )
    assert recorder.of("objection")
    assert recorder.of("objection_answered") == recorder.of("objection_unanswered") == []


USER_PLAYBOOK = """
words:
  carrier: [post office, courier, ups, fedex]
objections:
  shipping:
    label: Shipping
    triggers:
      - (shipping|delivery) (takes|is) (to|so|way to) (long|slow)
      - the {carrier} (lost|lose|damaged|broke)
    responses:
      - Understood. When do you need it by? Then offer express delivery.
    follow_up: What delivery date would work for you?
  price:
    responses:
      - Our own price answer. What is it compared to?
"""


def test_a_users_playbook_adds_and_changes_objections(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(USER_PLAYBOOK)
    summary = run_conversation(
        [OPENER, ("prospect", "shipping takes way too long"), ("seller", "I hear you, when do you need it?"),
         ("prospect", "Last time the courier lost my parcel."), ("seller", "That's bad, let me explain our insurance."),
         ("prospect", "And it's too expensive.")],
        plugins={"objections": {"playbook": str(path)}},
    )
    kinds = [prompt.kind for prompt in summary.prompts]
    assert kinds == ["objection.shipping", "objection.shipping", "objection.price"]
    assert summary.prompts[0].text == "Shipping: Understood. When do you need it by? Then offer express delivery."
    assert summary.prompts[0].detail[-1] == "Ask: What delivery date would work for you?"
    # Only the responses were replaced: the shipped price triggers still apply.
    assert summary.prompts[2].text == "Price: Our own price answer. What is it compared to?"


def test_inline_profile_objections():
    settings = {
        "objections": {
            "contract_length": {
                "label": "Contract length",
                "triggers": ["(twelve|12|one year|a year) (month|) (is|seems|sounds) (to|so|very) long"],
                "responses": ["Fair. What length would feel safe? Then offer the monthly plan."],
            }
        }
    }
    assert objection_kinds([OPENER, ("prospect", "a year seems too long")], settings) == ["objection.contract_length"]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("objections: [price]", "objections must be a mapping"),
        ("objections:\n  price:\n    respones: [x]", "objections.price.respones is not a field"),
        ("objections:\n  price:\n    triggers: too expensive", "objections.price.triggers must be a list"),
        ("objections:\n  fees:\n    label: Fees\n    triggers: [fees]", "objections.fees is missing responses"),
        ("objections:\n  fees:\n    label: Fees\n    triggers: ['(fees|charges']\n    responses: [x]",
         "objections.fees.triggers[1]: trigger '(fees|charges' has an unclosed '('"),
        ("objections:\n  fees:\n    label: Fees\n    triggers: ['{costs} fees']\n    responses: [x]",
         "uses {costs}, which is not a word list"),
        ("objections:\n  price: {label: [1, 2]}", "objections.price.label must be a non-empty text"),
        ("prices:\n  price: {}", "expected a mapping with an 'objections' key"),
        ("objections:\n  price:\n    label: 'x\n", "YAML syntax error at line"),
    ],
)
def test_a_bad_playbook_is_one_clear_error(tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ValueError) as raised:
        load_playbook(extra_file=str(path))
    message = str(raised.value)
    assert str(path) in message and expected in message
    assert "\n" not in message


def test_a_bad_playbook_in_a_run_warns_and_the_call_goes_on(tmp_path):
    warnings = []
    kinds = objection_kinds(
        [OPENER, ("prospect", "It's too expensive.")], {"playbook": str(tmp_path / "missing.yaml")}, warnings
    )
    assert kinds == []
    assert any("missing.yaml does not exist" in warning for warning in warnings), warnings


def test_bad_inline_objections_name_the_profile_key():
    with pytest.raises(PlaybookError, match=r"<test profile>: plugins.objections.objections.fees is missing triggers"):
        load_playbook(
            inline={"fees": {"label": "Fees", "responses": ["x"]}},
            inline_origin="<test profile>",
            inline_key="plugins.objections.objections",
        )


def test_unknown_setting_is_reported():
    warnings = []
    objection_kinds([OPENER, ("prospect", "It's too expensive.")], {"playbok": "x.yaml"}, warnings)
    assert any("plugins.objections.playbok is not a setting" in warning for warning in warnings), warnings


@pytest.mark.parametrize(
    "text, expected",
    [
        # Extra words stay inside one clause: "know what, ... think" is not "see what X thinks".
        ("You know what, let me think it over this weekend.", ["objection.stall"]),
        # A negation does not reach into a clause opened by "if" or "what".
        ("I just don't know if I can trust a company I found on Facebook.", ["objection.trust"]),
        ("I really don't see what problem this would solve for us.", ["objection.no_need"]),
        # ...but still negates the words it governs.
        ("It's not too expensive, actually.", []),
    ],
)
def test_clauses_limit_gaps_and_negation(text, expected):
    assert heard(text) == expected


def test_a_trigger_can_carry_its_own_negation():
    assert heard("I'm not comfortable asking people for money.") == ["objection.opportunity"]
    assert heard("I'm comfortable asking people for money.") == []


EXAMPLES_PLAYBOOK = """
objections:
  delivery:
    label: Delivery time
    examples:
      - How long until it actually gets here?
      - Your deliveries always take forever.
      - We can't wait weeks for the parts to show up.
    responses:
      - Fair. What date do you need it by? Then offer express delivery.
"""


def test_a_users_examples_prompt_by_meaning_without_any_trigger(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(EXAMPLES_PLAYBOOK)
    settings = {"playbook": str(path)}
    summary = run_conversation(
        [OPENER, ("prospect", "So how long will it take to actually get to us?")], plugins={"objections": settings}
    )
    [prompt] = [prompt for prompt in summary.prompts if prompt.kind.startswith("objection.")]
    assert prompt.kind == "objection.delivery"
    assert prompt.data["by_meaning"] is True
    # It says which of the user's sentences it was like.
    assert prompt.data["trigger"].startswith('like "') and prompt.data["trigger"][6:-1] in EXAMPLES_PLAYBOOK
    assert objection_kinds([OPENER, ("prospect", "We have two offices in Ohio.")], settings) == []


def test_the_model_hears_objections_no_trigger_phrase_covers():
    # Wordings the trigger phrases miss (checked with by_meaning off).
    for text, category in [
        ("Honestly we're tapped out this month, every penny's spoken for.", "price"),
        ("Who's to say you won't just vanish with my deposit?", "trust"),
    ]:
        assert objection_kinds([OPENER, ("prospect", text)], {"by_meaning": False}) == []
        assert objection_kinds([OPENER, ("prospect", text)]) == [f"objection.{category}"]


def test_a_trigger_phrase_the_model_reads_otherwise_does_not_prompt():
    # "send it over" is a stall's trigger; the sentence is the opposite of a stall.
    agreeing = [OPENER, ("prospect", "Send it over and I'll sign it tonight.")]
    assert objection_kinds(agreeing, {"trigger_agreement": 0}) == ["objection.stall"]
    assert objection_kinds(agreeing) == []
    # The model knows nothing of a user's own objection: its triggers always count.
    stalled = [OPENER, ("prospect", "Honestly, send it over and I'll get back to you next month.")]
    assert objection_kinds(stalled) == ["objection.stall"]
    mine = {"objections": {"contract_length": {
        "label": "Contract length", "triggers": ["(a year|twelve months) (is|seems) (to|so) long"],
        "responses": ["Fair. What length would feel safe? Then offer the monthly plan."]}},
        "trigger_agreement": 1}
    assert objection_kinds([OPENER, ("prospect", "a year seems so long")], mine) == ["objection.contract_length"]


def test_by_meaning_can_be_switched_off_and_bad_thresholds_are_one_clear_error():
    assert objection_kinds([OPENER, ("prospect", "It's too expensive.")], {"by_meaning": False}) == ["objection.price"]
    warnings = []
    objection_kinds([OPENER, ("prospect", "It's too expensive.")], {"meaning_threshold": 2}, warnings=warnings)
    assert any("meaning_threshold must be a number between 0 and 1" in warning for warning in warnings), warnings
    warnings = []
    objection_kinds([OPENER, ("prospect", "It's too expensive.")], {"trigger_agreement": -0.1}, warnings=warnings)
    assert any("trigger_agreement must be a number between 0 and 1" in warning for warning in warnings), warnings


def test_the_shipped_model_was_trained_on_the_shipped_examples():
    from voicecoach_objections.training import main

    assert main(["--check"]) == 0, "run python -m voicecoach_objections.training BASE after editing examples/"


def test_the_training_examples_are_not_the_evaluation_corpus():
    from voicecoach.evaluation import load_corpus
    from voicecoach_objections.training import load_examples

    examples = {" ".join(text.lower().split()) for text, _ in load_examples()}
    overlap = [item.text for item in load_corpus() if " ".join(item.text.lower().split()) in examples]
    assert overlap == []
