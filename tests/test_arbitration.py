from voicecoach import CRITICAL, HIGH, LOW, Prompt
from voicecoach.arbitration import Arbiter, ArbitrationSettings


def arbiter(**settings):
    return Arbiter(ArbitrationSettings(**settings))


def test_most_urgent_prompt_goes_first_and_the_rest_wait_their_turn():
    a = arbiter(min_interval=3, cooldown=0)
    a.offer(Prompt(kind="talk", text="low", priority=LOW), now=10)
    a.offer(Prompt(kind="objection.price", text="price", priority=HIGH), now=10)
    assert [p.text for p in a.due(10)] == ["price"]
    assert a.due(11) == []
    assert [p.text for p in a.due(13)] == ["low"]


def test_critical_prompts_skip_the_interval():
    a = arbiter(min_interval=5, cooldown=0)
    a.offer(Prompt(kind="a", text="first", priority=HIGH), now=0)
    assert len(a.due(0)) == 1
    a.offer(Prompt(kind="b", text="urgent", priority=CRITICAL), now=1)
    assert [p.text for p in a.due(1)] == ["urgent"]


def test_the_same_instance_is_never_shown_twice():
    a = arbiter(min_interval=0, cooldown=0)
    a.offer(Prompt(kind="objection.price", text="x", key="u1"), now=0)
    assert len(a.due(0)) == 1
    a.offer(Prompt(kind="objection.price", text="x", key="u1"), now=5)
    assert a.due(5) == []
    a.offer(Prompt(kind="objection.price", text="x", key="u2"), now=6)
    assert len(a.due(6)) == 1


def test_cooldown_paces_one_kind_and_stale_prompts_are_dropped():
    a = arbiter(min_interval=0, cooldown=30, max_age=5)
    a.offer(Prompt(kind="talk_ratio", text="ask a question"), now=0)
    assert len(a.due(0)) == 1
    a.offer(Prompt(kind="talk_ratio", text="ask a question"), now=10)
    assert a.due(10) == []
    a.offer(Prompt(kind="talk_ratio", text="again"), now=40)
    assert len(a.due(40)) == 1
    b = arbiter(min_interval=100, cooldown=0, max_age=5)
    b.offer(Prompt(kind="a", text="a"), now=0)
    b.offer(Prompt(kind="b", text="b"), now=0)
    assert len(b.due(0)) == 1
    assert b.due(200) == []  # "b" waited too long to still be useful
