import numpy as np
import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs
from tests.logs.log_writers import write_events


def test_all_points_beyond_the_10k_reservoir(tmp_path):
    steps = np.arange(12_000)
    write_events(tmp_path / "tb" / "run_a", {"train/entropy": [(int(s), 1.0 / (s + 1)) for s in steps]})
    runs = read_runs(tmp_path / "tb")
    assert [r.name for r in runs] == ["run_a"]
    series = runs[0].series("policy/entropy")
    assert len(series) == 12_000
    assert series[11_999] == pytest.approx(1 / 12_000)


def test_each_folder_is_a_run_and_tensor_scalars_are_read(tmp_path):
    write_events(tmp_path / "logs" / "grpo", {"actor/entropy": [(1, 0.5), (2, 0.4)], "reward": [(1, 0.1)]})
    event_file = write_events(tmp_path / "logs" / "seal", {"actor/entropy": [(1, 0.6), (2, float("nan"))]},
                              tensor_style=True)
    assert detect_format(tmp_path / "logs") == "tensorboard"
    assert detect_format(event_file) == "tensorboard"
    runs = {r.name: r for r in read_runs(tmp_path / "logs")}
    assert set(runs) == {"grpo", "seal"}
    assert runs["grpo"].points() == {"policy/entropy": 2, "reward/mean": 1}
    assert runs["seal"].series("policy/entropy").to_dict() == {1: pytest.approx(0.6)}
    assert runs["seal"].stats.non_finite == 1
    with pytest.raises(LogReadError, match=r"non-finite value for 'actor/entropy' \(event"):
        read_runs(tmp_path / "logs" / "seal", strict=True)


def test_restart_in_same_folder_later_values_win(tmp_path):
    folder = tmp_path / "run"
    write_events(folder, {"loss": [(1, 1.0), (2, 2.0), (3, 3.0)]})
    first = next(folder.glob("*tfevents*"))
    first.rename(folder / ("events.out.tfevents.0000000001." + first.name.split(".", 4)[-1]))
    write_events(folder, {"loss": [(2, 20.0), (3, 30.0)]})
    files = sorted(folder.glob("*tfevents*"))
    files[-1].rename(folder / "events.out.tfevents.9999999999.host")
    run = read_runs(folder)[0]
    assert run.series("loss/total").to_dict() == {1: 1.0, 2: 20.0, 3: 30.0}
    assert run.stats.duplicate_steps == 2 and run.stats.backwards_steps == 1
    with pytest.raises(LogReadError, match="goes back"):
        read_runs(folder, strict=True)
