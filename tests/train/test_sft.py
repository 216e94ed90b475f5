"""SFT evaluation is reproducible: the same weights give the same held-out numbers however many evaluations
came before (one sampling generator used to run on across evaluations)."""

from __future__ import annotations

from entropy_dynamics.train.rollout.games import EnvPool
from entropy_dynamics.train.sft import evaluate
from tests.train.conftest import tiny_model


def test_the_same_weights_evaluate_the_same_whatever_came_before():
    cfg, policy, tokenizer = tiny_model(["max_turns=2", "max_turns_slack=null"])
    envs = EnvPool(cfg.env, cfg.env_settings)
    try:
        first = evaluate(policy, tokenizer, cfg, [0, 1], envs)
        evaluate(policy, tokenizer, cfg, [1, 0, 1], envs)  # an earlier evaluation of another epoch
        again = evaluate(policy, tokenizer, cfg, [0, 1], envs)
    finally:
        envs.close()
    assert first == again
    assert first["eval/entropy"] > 0 and first["eval/episode_len"] > 0
