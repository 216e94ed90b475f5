import json
import math

import numpy as np
import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import MetricLogWriter, read_runs


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_our_jsonl_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(3)
    values = rng.standard_normal((40, 3))
    path = tmp_path / "run1" / "metrics.jsonl"
    with MetricLogWriter(path) as log:
        log.header("run1", config={"lr": 1e-4, "seal": {"coef": 0.02}}, versions={"python": "3"})
        for i, row in enumerate(values):
            log.metrics(2 * i + 1, {"policy/entropy": row[0], "actor/pg_loss": row[1], "my/metric": row[2]})
        log.event(5, "phase", phase="eruption", start_step=3, confirmed_at_step=5)
        log.metrics(81, {"policy/entropy": float("nan"), "my/metric": float("inf")})
    run = read_runs(path)[0]
    assert run.name == "run1" and run.reader == "jsonl"
    assert run.config == {"lr": 1e-4, "seal": {"coef": 0.02}}
    assert run.steps.tolist() == [2 * i + 1 for i in range(40)] + [81]
    assert run.series("policy/entropy").tolist() == values[:, 0].tolist()
    assert run.series("loss/pg").tolist() == values[:, 1].tolist()
    assert run.series("my/metric").tolist() == values[:, 2].tolist()
    assert run.source_names["loss/pg"] == "actor/pg_loss"
    assert run.stats.non_finite == 2  # NaN and inf written as null, counted
    assert run.stats.warnings == [f"{path}: 2 NaN/inf values left out"]
    assert run.events[0]["phase"] == "eruption"


def test_trailing_partial_line_is_skipped_silently(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"type":"metrics","step":1,"metrics":{"policy/entropy":0.5}}\n{"type":"metrics","st')
    run = read_runs(path, strict=True)[0]
    assert run.points() == {"policy/entropy": 1}
    assert run.stats.bad_lines == 0


def test_corrupt_line_lenient_counts_and_strict_names_line(tmp_path):
    path = _write(tmp_path / "m.jsonl", ['{"step": 1, "entropy": 0.1}', "{oops", '{"step": 2, "entropy": 0.2}'])
    run = read_runs(path)[0]
    assert run.stats.bad_lines == 1 and run.points() == {"policy/entropy": 2}
    assert any("m.jsonl:2" in w for w in run.stats.warnings)
    with pytest.raises(LogReadError, match=r"m\.jsonl:2: corrupt JSON"):
        read_runs(path, strict=True)


@pytest.mark.parametrize(
    ("lines", "message", "line"),
    [
        (['{"step": 1, "a": 1}', '{"step": 2, "a": "high"}'], "non-numeric value 'high' for 'a'", 2),
        (['{"step": 1, "a": 1}', '{"step": 2, "a": NaN}'], "non-finite value", 2),
        (['{"step": 1, "a": 1}', '{"step": 1, "a": 2}'], "step 1 repeats step 1", 2),
        (['{"step": 5, "a": 1}', '{"step": 6, "a": 1}', '{"step": 3, "a": 2}'], "step 3 goes back from step 6", 3),
        (['{"a": 1}'], "no integer 'step'", 1),
    ],
)
def test_strict_fails_on_first_problem_with_file_and_line(tmp_path, lines, message, line):
    path = _write(tmp_path / "m.jsonl", lines)
    with pytest.raises(LogReadError) as info:
        read_runs(path, strict=True)
    assert message in str(info.value)
    assert info.value.line == line and info.value.path == str(path)


def test_a_log_of_only_unusable_lines_says_so(tmp_path):
    path = _write(tmp_path / "m.jsonl", ['{"step": "3", "a": 1}', "[1, 2]"])
    with pytest.raises(LogReadError, match=r"no metric records found \(2 unusable lines; --strict names the first"):
        read_runs(path)


def test_duplicates_later_value_wins_and_counted(tmp_path):
    path = _write(tmp_path / "m.jsonl", [json.dumps({"step": s, "data": {"actor/entropy": v}})
                                         for s, v in [(1, 0.1), (2, 0.2), (3, 0.3), (2, 9.0), (3, 8.0), (4, 0.4)]])
    run = read_runs(path)[0]
    assert run.reader == "verl-jsonl"
    assert run.series("policy/entropy").to_dict() == {1: 0.1, 2: 9.0, 3: 8.0, 4: 0.4}
    assert run.stats.duplicate_steps == 2 and run.stats.backwards_steps == 1  # 2 after 3; 3 after 3 is not lower
    assert f"{path}: 2 duplicate steps; later values win" in run.stats.warnings
    assert f"{path}:4: step 2 goes back from 3; later values win" in run.stats.warnings
    assert all(w.startswith(str(path)) for w in run.stats.warnings)  # one line each, naming the file first


def test_non_numeric_and_nested_values(tmp_path):
    path = _write(tmp_path / "flat.jsonl", ['{"step": 1, "a": "x", "b": {"c": 2}}', '{"step": 2, "a": 3}'])
    run = read_runs(path)[0]
    assert run.reader == "flat-jsonl"
    assert run.points() == {"a": 1, "b/c": 1}
    assert run.stats.non_numeric == 1
    assert math.isnan(run.metrics.loc[1, "a"])


def test_metrics_field_that_is_not_an_object(tmp_path):
    path = _write(tmp_path / "m.jsonl", ['{"type": "metrics", "step": 1, "metrics": [1, 2]}',
                                         '{"type": "metrics", "step": 2, "metrics": {"policy/entropy": 0.3}}'])
    run = read_runs(path)[0]
    assert run.stats.bad_lines == 1 and run.points() == {"policy/entropy": 1}
    with pytest.raises(LogReadError, match=r"m\.jsonl:1: 'metrics' is not a JSON object \(got list\)"):
        read_runs(path, strict=True)


def test_strict_accepts_null_our_encoding_of_nan(tmp_path):
    """The trainer writes an undefined metric (NaN) as null (metrics.md): strict reading counts it, no error."""
    path = _write(tmp_path / "m.jsonl", ['{"type": "metrics", "step": 1, "metrics": {"a": 1, "b": null}}',
                                         '{"type": "metrics", "step": 2, "metrics": {"a": 2, "b": 0.5}}'])
    run = read_runs(path, strict=True)[0]
    assert run.stats.non_finite == 1
    assert run.series("b").to_dict() == {2: 0.5}
