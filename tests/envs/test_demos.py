from __future__ import annotations

from pathlib import Path

from entropy_dynamics.envs import build_messages, expert_demos, make_env, parse_reply, play_expert
from entropy_dynamics.envs.think import expert_think


def test_demo_records_are_turns_in_the_trainer_format(game_cache: Path) -> None:
    records = expert_demos("textworld-cooking", 2, seed_start=0, cache_dir=game_cache)
    env = make_env("textworld-cooking", cache_dir=game_cache)
    try:
        firsts = {seed: env.reset(seed) for seed in (0, 1)}
    finally:
        env.close()
    assert {r["seed"] for r in records} == {0, 1}
    for seed, first in firsts.items():
        info = first.info
        turns = [r for r in records if r["seed"] == seed]
        assert [r["turn"] for r in turns] == list(range(len(info["expert_actions"])))
        actions = []
        for record in turns:
            assert set(record) == {"env", "seed", "turn", "messages", "reply"}
            assert record["env"] == "textworld-cooking"
            parsed = parse_reply(record["reply"])
            assert parsed.format_ok and parsed.think
            actions.append(parsed.action)
            # the expert's action is one of the actions the prompt shows
            assert f"{parsed.action}" in record["messages"][1]["content"].split("Admissible actions: [")[1]
        assert actions == info["expert_actions"]
        assert turns[0]["messages"] == build_messages(info["task"], [], first.observation,
                                                      info["admissible_actions"])


def test_history_in_demo_prompts_follows_history_length(game_cache: Path) -> None:
    env = make_env("textworld-cooking", cache_dir=game_cache)
    try:
        records, episode = play_expert(env, 2, history_length=1)
    finally:
        env.close()
    assert episode.won
    last = records[-1]["messages"][1]["content"]
    n = len(records) - 1
    assert f"[Action {n}: " in last and f"[Action {n - 1}: " not in last


def test_closed_loop_expert_when_there_is_no_walkthrough(game_cache: Path) -> None:
    class PlannerOnly:
        """The TextWorld env with its walkthrough hidden: the expert must follow the planner."""

        def __init__(self) -> None:
            self.inner = make_env("textworld-cooking", cache_dir=game_cache, track_expert=True)
            self.name, self.observation_markers = self.inner.name, self.inner.observation_markers

        def reset(self, seed):
            first = self.inner.reset(seed)
            first.info["expert_actions"] = []
            return first

        def step(self, action):
            return self.inner.step(action)

        def close(self):
            self.inner.close()

    env = PlannerOnly()
    try:
        records, episode = play_expert(env, 3)
    finally:
        env.close()
    assert episode.won and len(records) == len(episode.turns)


def test_expert_think_templates() -> None:
    assert expert_think("go east") == "My goal is not in this room, so I go east."
    assert "knife" in expert_think("Dice yellow potato with knife")
    assert expert_think("xyzzy") == "The next step towards the goal is to xyzzy."
