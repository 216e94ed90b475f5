from __future__ import annotations

from entropy_dynamics.envs.episode import expert_policy, run_episode


def test_scripted_episode_summary_counts_invalid_and_blocked_turns(cooking) -> None:
    seen = []

    def make_policy(first):
        script = iter(["dance", "restart", *first.info["expert_actions"]])
        return lambda observation, info: next(script, None)

    episode = run_episode(cooking, 0, make_policy, on_turn=lambda turn, info: seen.append((turn, info)))
    summary = episode.summary()
    expert = episode.first.info["expert_actions"]
    assert summary == {"env": "textworld-cooking", "seed": 0, "won": True, "lost": False,
                       "steps": len(expert) + 2, "score": episode.first.info["max_score"],
                       "max_score": episode.first.info["max_score"], "invalid_actions": 2}
    assert [t.blocked for t in episode.turns[:2]] == [False, True]
    assert [t for t, _ in seen] == episode.turns


def test_policy_returning_none_stops_the_episode(cooking) -> None:
    episode = run_episode(cooking, 1, lambda first: lambda obs, info: None)
    assert episode.turns == [] and episode.summary()["steps"] == 0 and not episode.won


def test_expert_policy_replays_the_walkthrough(cooking) -> None:
    first = cooking.reset(2)
    act = expert_policy(first)
    plan = [act("", {}) for _ in range(len(first.info["expert_actions"]) + 1)]
    assert plan == [*first.info["expert_actions"], None]
    # without a walkthrough it follows the planner's next action each turn
    first.info["expert_actions"] = []
    planner = expert_policy(first)
    assert planner("", {"expert_next_actions": ["go east", "go west"]}) == "go east"
    assert planner("", {"expert_next_actions": []}) is None
