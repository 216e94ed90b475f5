import pytest

from entropy_dynamics.logs.names import (
    ALIASES,
    CANONICAL,
    canonical_name,
    competing_names,
    is_canonical,
    map_names,
)


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("actor/entropy", "policy/entropy"), ("actor/entropy_loss", "policy/entropy"),
        ("actor/main_chain/entropy", "policy/entropy"), ("train/entropy", "policy/entropy"),
        ("losses/entropy", "policy/entropy"), ("critic/score/mean", "reward/mean"),
        ("train/reward", "reward/mean"), ("frac_reward_zero_std", "reward/frac_zero_std_groups"),
        ("clip_ratio/region_mean", "policy/clip_frac"), ("completions/mean_length", "response/mean_length"),
        ("response_length/mean", "response/mean_length"), ("actor_grad_norm", "optim/grad_norm"),
        ("ppo_kl", "policy/approx_kl"), ("episode/success_rate", "env/success_rate"),
        ("actor/classification_loss", "loss/seal"), ("policy/entropy/turn_3", "policy/entropy/turn_3"),
        ("interference/grad_norm_seal", "interference/grad_norm_seal"), ("val-core/acc", None),
    ],
)
def test_canonical_name(source, canonical):
    assert canonical_name(source) == canonical


def test_every_alias_targets_a_canonical_name():
    assert all(is_canonical(target) for target in ALIASES.values())
    assert "response/mean_length" in CANONICAL


def test_map_names_prefers_the_canonical_then_earlier_alias():
    assert map_names(["actor/entropy_loss", "actor/entropy", "x"]) == {
        "actor/entropy_loss": "actor/entropy_loss", "actor/entropy": "policy/entropy", "x": "x"}
    assert map_names(["actor/entropy", "policy/entropy"])["policy/entropy"] == "policy/entropy"


def test_the_alias_with_most_points_wins_and_the_others_are_listed():
    mapping = map_names(["actor/entropy", "actor/entropy_loss"], {"actor/entropy": 10, "actor/entropy_loss": 335})
    assert mapping == {"actor/entropy": "actor/entropy", "actor/entropy_loss": "policy/entropy"}
    assert competing_names(mapping) == {"policy/entropy": ["actor/entropy"]}


@pytest.mark.parametrize(("source", "canonical"), [
    ("response_length/clip_ratio", "response/truncated_ratio"),
    ("completions/clipped_ratio", "response/truncated_ratio"),
    ("actor/pg_clipfrac_lower", "policy/clip_frac_lower"), ("critic/vf_loss", "loss/value"),
    ("zero_std_ratio", "reward/frac_zero_std_groups"), ("completion_length", "response/mean_length"),
    ("num_turns/mean", "env/episode_len"), ("reward_extra_info/acc", "reward/extra/acc"),
    ("train/entropy_loss", None), ("entropy_loss", None),  # sign unknown: SB3's is minus the entropy
    ("grpo_actor/entropy/avg", "policy/entropy"), ("grpo_actor/task_reward/avg", "reward/mean"),  # AReaL
    ("grpo_actor/entropy/max", None), ("grpo_actor/final_reward/avg", None),
])
def test_more_aliases(source, canonical):
    assert canonical_name(source) == canonical


def test_every_name_the_metrics_library_writes_is_canonical():
    import numpy as np

    from entropy_dynamics.metrics import (
        TurnRecord,
        degeneration_metrics,
        episode_degeneration,
        hallucination_metrics,
        separation_metrics,
    )

    written = {
        **degeneration_metrics(["<think>a b c.</think><action>go</action>"]),
        **episode_degeneration(["x", "y"], ["go", "go"]),
        **hallucination_metrics([TurnRecord("room", "<think>t</think><action>go</action>", "go", ["go"])]),
        **separation_metrics(np.eye(6), np.arange(6) % 2 == 0),
    }
    written.update(dict.fromkeys(["interference/grad_cos_pg_kl", "interference/grad_norm_entropy"]))
    assert [name for name in written if not is_canonical(name)] == []


def test_every_name_in_the_shipped_training_logs_is_canonical():
    # real logs of our trainer and of sft (every instrument on); a new name must be added to CANONICAL
    import json
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "sample_logs"
    written = set()
    for log in samples.rglob("metrics.jsonl"):
        for line in log.read_text().splitlines():
            record = json.loads(line)
            if record.get("type") == "metrics":
                written.update(record["metrics"])
    assert "policy/entropy" in written and "loss/sft" in written
    assert sorted(name for name in written if not is_canonical(name)) == []


def test_an_areal_csv_reads_its_entropy_reward_and_kl():
    from pathlib import Path

    from entropy_dynamics.logs import read_runs

    areal = Path(__file__).resolve().parents[2] / "sample_logs" / "public" / "areal_gsm8k"
    log = areal / "logs_email_failed" / "trial_20251129_171626.csv"
    (run,) = read_runs(log)
    assert run.source_names["policy/entropy"] == "grpo_actor/entropy/avg"
    assert {"reward/mean", "policy/approx_kl", "policy/clip_frac", "optim/grad_norm"} <= set(run.metrics.columns)
    assert len(run.series("policy/entropy")) == 50 and run.series("grpo_actor/entropy/avg").equals(
        run.series("policy/entropy"))
