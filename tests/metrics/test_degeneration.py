"""Text degeneration metrics against naive re-implementations of the SEAL definitions, and known cases."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.metrics import (
    average_metrics,
    clause_repetition,
    degeneration_metrics,
    episode_degeneration,
    repeated_ngram_ratio,
    sentence_duplication_rate,
    text_degeneration,
    unique_token_ratio,
)


def naive_repeated_share(items: list) -> float:
    """Quadratic reference: for each item count how many items equal it."""
    if not items:
        return 0.0
    return sum(1 for item in items if sum(other == item for other in items) >= 2) / len(items)


def naive_ngram_ratio(text: str, n: int) -> float:
    tokens = re.findall(r"\w+|[^\w\s]", text.lower())
    return naive_repeated_share([" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)])


def naive_clause_rate(text: str) -> float:
    clauses = []
    for part in re.split(r"(?<=[.!?])\s+|,\s+|;\s+", text):
        words = "".join(c if c.isascii() and c.isalnum() else " " for c in part.lower()).split()
        if len(words) >= 6:
            clauses.append(" ".join(words))
    return naive_repeated_share(clauses)


def naive_sentence_rate(text: str) -> float:
    sentences = [" ".join(s.lower().split()) for s in re.split(r"(?<=[.!?])\s+", text)]
    return naive_repeated_share([s for s in sentences if len(s) >= 20])


WORDS = ["go", "to", "the", "kitchen", "take", "apple", "from", "table", "i", "should", "now", "open"]
word_texts = st.lists(st.sampled_from([*WORDS, ".", ",", "!", ";"]), max_size=80).map(" ".join)


@settings(max_examples=25, deadline=None)
@given(text=word_texts, n=st.integers(1, 10))
def test_ratios_match_naive_and_are_rates(text, n):
    assert repeated_ngram_ratio(text, n) == pytest.approx(naive_ngram_ratio(text, n))
    assert sentence_duplication_rate(text) == pytest.approx(naive_sentence_rate(text))
    assert clause_repetition(text) == pytest.approx(naive_clause_rate(text))
    for value in (repeated_ngram_ratio(text, n), sentence_duplication_rate(text), clause_repetition(text)):
        assert 0.0 <= value <= 1.0
    tokens = re.findall(r"\w+|[^\w\s]", text.lower())
    assert unique_token_ratio(text) == pytest.approx(len(set(tokens)) / len(tokens) if tokens else 0.0)


def test_known_values():
    sentence = "I should go to the kitchen and take the apple."
    looped = " ".join([sentence] * 3 + ["Then I will open the fridge door."])
    assert sentence_duplication_rate(looped) == pytest.approx(3 / 4)
    assert sentence_duplication_rate("Short. Short. Short.") == 0.0  # sentences under 20 chars are ignored
    assert repeated_ngram_ratio("a b c a b c", 3) == pytest.approx(2 / 4)
    assert repeated_ngram_ratio("a b", 5) == 0.0
    clauses = "we need to find the key first, we need to find the key first; then open the big door now"
    assert clause_repetition(clauses) == pytest.approx(2 / 3)
    assert unique_token_ratio("") == 0.0


def test_flags_and_think_extraction():
    loop_reply = "<think>" + " ".join(["i will take the apple from the table"] * 14) + "</think><action>x</action>"
    stats = text_degeneration(loop_reply)
    assert stats["local_loop_flag"] == 1.0 and stats["max_5gram_repeat"] >= 12
    assert stats["think_tokens"] == 8 * 14
    clean = "<think>The apple is on the table, so I take it.</think><action>take apple from table</action>"
    assert text_degeneration(clean, "take apple from table")["ramble_flag"] == 0.0
    twice = "<think>take apple. yes, take apple now.</think><action>take apple</action>"
    assert text_degeneration(twice, "take apple")["ramble_flag"] == 1.0
    markers = "<think>" + "so it is, however, thus hence therefore but the door. " * 1 + "</think>"
    assert text_degeneration(markers)["ramble_flag"] == 1.0
    # only the think text counts: a loop written in the action part does not
    assert text_degeneration("<think>ok</think>" + "go north. " * 40)["local_loop_flag"] == 0.0


def test_batch_means_under_canonical_names():
    replies = ["<think>" + "go to the kitchen now. " * 30 + "</think>", "<think>I take the apple.</think>"]
    out = degeneration_metrics(replies)
    per_reply = [text_degeneration(text) for text in replies]
    assert out["degen/rep5_ratio"] == pytest.approx((per_reply[0]["rep5_ratio"] + per_reply[1]["rep5_ratio"]) / 2)
    assert out["degen/loop_rate"] == pytest.approx(0.5)
    assert {"degen/sentence_dup_rate", "degen/rep10_ratio", "degen/unique_token_ratio"} <= set(out)
    assert all(math.isnan(v) for v in degeneration_metrics([]).values())
    with pytest.raises(EntropyDynamicsError, match="2 texts but 1 actions"):
        degeneration_metrics(replies, ["a"])


def test_episode_cross_turn_duplication_and_action_loops():
    first = "<think>I am in the kitchen and see a table.</think>"
    second = "<think>I am in the kitchen and see a table. Take the apple.</think>"
    third = "<think>Something entirely new happens in the garden.</think>"
    actions = ["look", "take apple", "Take  Apple", "take apple", "go north", None, None]
    out = episode_degeneration([first, second, third, first, third, "x", "y"], actions)
    assert out["degen/cross_turn_dup_rate"] == pytest.approx(3 / 6)
    assert out["degen/repeat_action_rate"] == pytest.approx(3 / 7)  # unparsable actions never loop
    assert out["degen/max_action_run"] == 3.0
    single = episode_degeneration([first], ["look"])
    assert single["degen/cross_turn_dup_rate"] == 0.0 and single["degen/repeat_action_rate"] == 0.0


def test_average_metrics_ignores_nan():
    assert average_metrics([{"a": 1.0, "b": math.nan}, {"a": 3.0, "b": math.nan}]) == {
        "a": 2.0,
        "b": pytest.approx(math.nan, nan_ok=True),
    }


def test_text_functions_do_not_import_torch():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from entropy_dynamics.metrics import sentence_duplication_rate, hallucination_metrics, separation\n"
        "sentence_duplication_rate('a. b.')\n"
        "separation(np.random.default_rng(0).normal(size=(8, 3)), np.arange(8) % 2 == 0)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
