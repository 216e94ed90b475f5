import io
import json
from pathlib import Path

import pytest

from entropy_dynamics.cli.main import main
from entropy_dynamics.envs import list_envs, make_env, parse_reply


@pytest.fixture(autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Games go to ``<basetemp>/games`` through ENTROPY_DYNAMICS_CACHE: the same folder tests/envs uses,
    so each game is generated once per session."""
    monkeypatch.setenv("ENTROPY_DYNAMICS_CACHE", str(tmp_path_factory.getbasetemp()))
    return tmp_path_factory.getbasetemp() / "games"


def _run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_envs_list_json_matches_the_library(capsys):
    code, out, err = _run(capsys, "envs", "list", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert [e["name"] for e in payload["envs"]] == [s.name for s in list_envs()]
    assert payload["envs"][0]["default_settings"]["recipe"] == 1
    code, out, _ = _run(capsys, "envs", "list")
    assert code == 0 and "textworld-cooking" in out and "webshop" in out


def test_play_expert_json_summary(capsys, cache):
    code, out, err = _run(capsys, "envs", "play", "textworld-cooking", "--seed", "3", "--expert",
                          "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    env = make_env("textworld-cooking", cache_dir=cache)
    try:
        first = env.reset(3)
    finally:
        env.close()
    assert list(summary) == ["env", "seed", "won", "lost", "steps", "score", "max_score", "invalid_actions"]
    assert summary == {"env": "textworld-cooking", "seed": 3, "won": True, "lost": False,
                       "steps": len(first.info["expert_actions"]), "score": first.info["max_score"],
                       "max_score": first.info["max_score"], "invalid_actions": 0}
    # the transcript went to stderr, so stdout is pure JSON
    assert "> eat meal" in err and first.observation.splitlines()[0] in err


def test_play_as_a_person_reads_lines_until_end_of_input(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("inventory\nrestart\ndance\n"))
    code, out, err = _run(capsys, "envs", "play", "textworld-cooking", "--seed", "1", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["steps"], summary["invalid_actions"], summary["won"]) == (3, 2, False)
    assert "[blocked]" in err and "[not admissible]" in err and "Actions: " in err


def test_demos_writes_turn_records(capsys, tmp_path):
    target = tmp_path / "sub" / "demos.jsonl"
    code, _, err = _run(capsys, "envs", "demos", "textworld-cooking", "--n", "2", "--out", str(target),
                        "--history-length", "1")
    assert code == 0, err
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert {r["seed"] for r in records} == {0, 1}
    assert all(parse_reply(r["reply"]).format_ok for r in records)
    assert f"{len(records)} turns from 2/2 won games" in err


@pytest.mark.parametrize("args", [
    ["envs", "play", "zork"],
    ["envs", "play", "textworld-cooking", "--set", "go"],
    ["envs", "play", "textworld-cooking", "--set", "flavour=sweet"],
    ["envs", "demos", "alfworld", "--n", "1", "--set", "data_dir=/nonexistent"],
    ["envs", "demos", "webshop", "--n", "1"],
    ["envs", "play", "textworld-coin", "--set", "level=abc"],
    ["envs", "demos", "textworld-coin", "--n", "1", "--set", "difficulty=\"easy\"", "--history-length", "-1"],
])
def test_bad_input_is_one_error_line_and_exit_2(capsys, args):
    code, _out, err = _run(capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
