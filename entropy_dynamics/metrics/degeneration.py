"""Degeneration of generated text, with the SEAL authors' definitions (docs/metrics.md, after the paper's section 5.1).

Pure Python (no torch). A reply is measured on its ``<think>...</think>`` text, or on the whole reply
when it has none. Tokens: ``\\w+|[^\\w\\s]`` of the lowercased text. Sentences: split after ``.!?``
and whitespace, lowercased and whitespace-collapsed, kept when >= 20 characters. Clauses: split at
sentence ends, ``,`` and ``;``, reduced to lowercase alphanumerics, kept when >= 6 words.
"Repeated mass" of a list = the number of its items whose value occurs at least twice.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from entropy_dynamics.metrics._checks import require

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_SPLIT = re.compile(r"(?<=[.!?])\s+|,\s+|;\s+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_THINK = re.compile(r"<think>(.*?)</think>", re.S | re.I)
_DISCOURSE = re.compile(r"\b(?:therefore|so|thus|hence|but the|however)\b")

MIN_SENTENCE_CHARS = 20
MIN_CLAUSE_WORDS = 6


def think_text(reply: str) -> str:
    """The text inside the first ``<think>...</think>`` block, or the whole reply if there is none."""
    match = _THINK.search(reply)
    return match.group(1) if match else reply


def tokenize(text: str) -> list[str]:
    """Lowercased word and punctuation tokens."""
    return _TOKEN.findall(text.lower())


def _sentences(text: str) -> list[str]:
    normalised = (" ".join(part.lower().split()) for part in _SENTENCE_SPLIT.split(text))
    return [sentence for sentence in normalised if len(sentence) >= MIN_SENTENCE_CHARS]


def _clauses(text: str) -> list[str]:
    normalised = (" ".join(_NON_ALNUM.sub(" ", part.lower()).split()) for part in _CLAUSE_SPLIT.split(text))
    return [clause for clause in normalised if len(clause.split()) >= MIN_CLAUSE_WORDS]


def _repeated_mass(items: Sequence) -> tuple[float, int]:
    """(share of items whose value occurs >= 2 times, highest count); (0.0, 0) for no items."""
    if not items:
        return 0.0, 0
    counts = Counter(items)
    repeated = sum(count for count in counts.values() if count >= 2)
    return repeated / len(items), max(counts.values())


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def sentence_duplication_rate(text: str) -> float:
    """Share of the text's sentences (>= 20 chars) that occur at least twice; 0.0 without sentences."""
    return _repeated_mass(_sentences(text))[0]


def repeated_ngram_ratio(text: str, n: int) -> float:
    """Share of the text's token n-grams that occur at least twice; 0.0 when shorter than n tokens."""
    require(int(n) >= 1, f"n must be >= 1, got {n}")
    return _repeated_mass(_ngrams(tokenize(text), int(n)))[0]


def clause_repetition(text: str) -> float:
    """Share of the text's clauses (>= 6 alphanumeric words) that occur at least twice."""
    return _repeated_mass(_clauses(text))[0]


def unique_token_ratio(text: str) -> float:
    """Distinct tokens / tokens; 0.0 for a text without tokens."""
    tokens = tokenize(text)
    return len(set(tokens)) / len(tokens) if tokens else 0.0


def text_degeneration(reply: str, action: str | None = None) -> dict[str, float]:
    """All per-reply degeneration statistics of one reply (measured on its think text).

    Returns (rates in [0, 1], flags 0.0/1.0): ``sentence_dup_rate``, ``max_sentence_repeat``,
    ``sentence_dup_ge_25_flag``, ``rep5_ratio``, ``max_5gram_repeat``, ``rep10_ratio``,
    ``max_10gram_repeat``, ``clause_repeat_ratio``, ``max_clause_repeat``, ``unique_token_ratio``,
    ``think_tokens``, ``local_loop_flag``, ``ramble_flag``. ``action`` (the reply's action string)
    feeds the ramble rule "the action is written twice or more in the think text".
    """
    text = think_text(reply)
    tokens = tokenize(text)
    sentence_rate, sentence_max = _repeated_mass(_sentences(text))
    rep5, max5 = _repeated_mass(_ngrams(tokens, 5))
    rep10, max10 = _repeated_mass(_ngrams(tokens, 10))
    clause_rate, clause_max = _repeated_mass(_clauses(text))
    unique = len(set(tokens)) / len(tokens) if tokens else 0.0
    loop = (clause_max >= 3 and clause_rate >= 0.25) or max5 >= 12 or (unique < 0.18 and len(tokens) > 40)
    lowered = text.lower()
    action_repeats = lowered.count(action.strip().lower()) if action and action.strip() else 0
    ramble = len(tokens) >= 180 or action_repeats >= 2 or len(_DISCOURSE.findall(lowered)) >= 6
    return {
        "sentence_dup_rate": sentence_rate,
        "max_sentence_repeat": float(sentence_max),
        "sentence_dup_ge_25_flag": float(sentence_rate >= 0.25),
        "rep5_ratio": rep5,
        "max_5gram_repeat": float(max5),
        "rep10_ratio": rep10,
        "max_10gram_repeat": float(max10),
        "clause_repeat_ratio": clause_rate,
        "max_clause_repeat": float(clause_max),
        "unique_token_ratio": unique,
        "think_tokens": float(len(tokens)),
        "local_loop_flag": float(loop),
        "ramble_flag": float(ramble),
    }


def average_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Key-wise mean of metric dicts, ignoring NaN values (NaN where a key has no finite value)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            sums.setdefault(key, 0.0)
            counts.setdefault(key, 0)
            if not math.isnan(value):
                sums[key] += value
                counts[key] += 1
    return {key: sums[key] / counts[key] if counts[key] else math.nan for key in sums}


#: per-reply statistic -> canonical batch metric
_CANONICAL = {
    "sentence_dup_rate": "degen/sentence_dup_rate",
    "rep5_ratio": "degen/rep5_ratio",
    "rep10_ratio": "degen/rep10_ratio",
    "clause_repeat_ratio": "degen/clause_repeat_ratio",
    "unique_token_ratio": "degen/unique_token_ratio",
    "local_loop_flag": "degen/loop_rate",
    "ramble_flag": "degen/ramble_rate",
}


def degeneration_metrics(texts: Sequence[str], actions: Sequence[str | None] | None = None) -> dict[str, float]:
    """Batch means of the per-reply statistics under canonical ``degen/*`` names.

    Args:
        texts: the replies of a batch (one per turn).
        actions: optional parsed action of each reply (same length), for the ramble rule.

    Returns:
        ``degen/sentence_dup_rate``, ``degen/rep5_ratio``, ``degen/rep10_ratio``,
        ``degen/clause_repeat_ratio``, ``degen/unique_token_ratio``, ``degen/loop_rate`` (share of
        replies with the local-loop flag), ``degen/ramble_rate``; NaN for an empty batch.
    """
    texts = list(texts)
    actions = [None] * len(texts) if actions is None else list(actions)
    require(len(actions) == len(texts), f"got {len(texts)} texts but {len(actions)} actions")
    if not texts:
        return dict.fromkeys(_CANONICAL.values(), math.nan)
    per_text = [text_degeneration(text, action) for text, action in zip(texts, actions, strict=True)]
    means = average_metrics({key: row[key] for key in _CANONICAL} for row in per_text)
    return {name: means[key] for key, name in _CANONICAL.items()}


def _normalise_action(action: str | None) -> str | None:
    return " ".join(action.lower().split()) if action else None


def episode_degeneration(
    turn_texts: Sequence[str], actions: Sequence[str | None], loop_length: int = 3
) -> dict[str, float]:
    """Degeneration across the turns of one episode.

    Args:
        turn_texts: the replies of the episode, in order.
        actions: the parsed action of each turn (None when unparsable), same length.
        loop_length: identical consecutive actions that make a repeated-action loop.

    Returns:
        ``degen/cross_turn_dup_rate``: share of turns after the first whose think text contains a
        sentence (>= 20 chars) already written in an earlier turn; ``degen/repeat_action_rate``: share
        of turns inside a run of >= ``loop_length`` identical consecutive actions;
        ``degen/max_action_run``: the longest such run. Rates are 0.0 where undefined.
    """
    turn_texts, actions = list(turn_texts), list(actions)
    require(len(turn_texts) == len(actions), f"got {len(turn_texts)} turn texts but {len(actions)} actions")
    seen: set[str] = set()
    duplicated_turns = 0
    for index, text in enumerate(turn_texts):
        sentences = set(_sentences(think_text(text)))
        if index > 0 and sentences & seen:
            duplicated_turns += 1
        seen |= sentences
    later_turns = len(turn_texts) - 1
    runs: list[int] = []
    previous: str | None = None
    for action in map(_normalise_action, actions):
        if runs and action is not None and action == previous:
            runs[-1] += 1
        else:
            runs.append(1)
        previous = action
    looping = sum(run for run in runs if run >= loop_length)
    return {
        "degen/cross_turn_dup_rate": duplicated_turns / later_turns if later_turns > 0 else 0.0,
        "degen/repeat_action_rate": looping / len(actions) if actions else 0.0,
        "degen/max_action_run": float(max(runs, default=0)),
    }
