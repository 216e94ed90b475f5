import pandas as pd
import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs


def test_csv_with_step_column(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,Step,entropy,reward,tag\n0,1,0.5,0.1,a\n0,2,0.4,,b\n1,2,0.35,0.3,c\n1,4,nan,0.4,d\n")
    assert detect_format(path) == "csv"
    run = read_runs(path)[0]
    assert run.name == "metrics" and run.reader == "csv"
    assert run.series("policy/entropy").to_dict() == {1: 0.5, 2: 0.35}
    assert run.series("reward/mean").to_dict() == {1: 0.1, 2: 0.3, 4: 0.4}
    assert "tag" not in run.metrics.columns
    assert run.stats.duplicate_steps == 1 and run.stats.non_finite == 1 and run.stats.non_numeric == 4
    with pytest.raises(LogReadError, match=r"metrics\.csv:2: non-numeric value 'a' for 'tag'"):
        read_runs(path, strict=True)


def test_csv_without_step_column_says_what_it_looked_for(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,loss\n1,2\n")
    with pytest.raises(LogReadError, match=r"t\.csv: no step column \(looked for step, _step, global_step"):
        read_runs(path)


def test_malformed_rows_lenient_and_strict(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("step,loss\n1,2\n2,3,4,5\n3,4\n")
    run = read_runs(path)[0]
    assert run.series("loss/total").to_dict() == {1: 2.0, 3: 4.0}
    assert run.stats.bad_lines == 1
    with pytest.raises(LogReadError, match="malformed CSV"):
        read_runs(path, strict=True)


def test_parquet(tmp_path):
    path = tmp_path / "log.parquet"
    pd.DataFrame({"_step": [0, 1, 2], "actor/entropy": [0.3, 0.2, float("inf")], "x": [1, 2, 3]}).to_parquet(path)
    assert detect_format(path) == "parquet"
    run = read_runs(path)[0]
    assert run.series("policy/entropy").to_dict() == {0: 0.3, 1: 0.2}
    assert run.stats.non_finite == 1
    with pytest.raises(LogReadError, match=r"log\.parquet:3: non-finite value"):
        read_runs(path, strict=True)


def test_sb3_entropy_loss_is_flipped_and_the_longest_alias_wins(tmp_path):
    path = tmp_path / "progress.csv"
    rows = ["time/iterations,time/total_timesteps,train/entropy_loss,rollout/ep_rew_mean"]
    rows += [f"{i},{i * 2048},{-1.0 + i * 0.01},{i}" for i in range(1, 51)]
    path.write_text("\n".join(rows) + "\n")
    (run,) = read_runs(path, step_column="time/iterations")
    assert run.series("policy/entropy").iloc[0] == pytest.approx(0.99)  # a collapse stays a collapse
    assert run.source_names["policy/entropy"].startswith("-train/entropy_loss")
    assert "train/entropy_loss" in run.unmapped
    # without SB3's keys beside it, an entropy_loss of unknown sign is left unmapped
    path.write_text("step,train/entropy_loss\n1,-1\n2,-0.9\n")
    assert read_runs(path)[0].unmapped == ["train/entropy_loss"]


def test_competing_aliases_most_points_wins(tmp_path):
    path = tmp_path / "m.csv"
    rows = ["step,actor/entropy,actor/entropy_loss"]
    rows += [f"{s},{'1.0' if s % 30 == 0 else ''},{s}" for s in range(1, 301)]
    path.write_text("\n".join(rows) + "\n")
    (run,) = read_runs(path)
    assert run.points()["policy/entropy"] == 300 and run.source_names["policy/entropy"] == "actor/entropy_loss"
    assert run.competing == {"policy/entropy": ["actor/entropy"]}


def test_a_tensorboard_csv_download_is_its_tag_not_wall_time_and_value(tmp_path):
    path = tmp_path / "run-grpo_seed1-tag-actor_entropy.csv"
    path.write_text("Wall time,Step,Value\n1733500000.5,1,0.9\n1733500010.5,2,0.8\n")
    run = read_runs(path)[0]
    assert run.name == "grpo_seed1" and list(run.metrics.columns) == ["policy/entropy"]
    assert run.source_names == {"policy/entropy": "actor/entropy"} and run.steps.tolist() == [1, 2]
    verl = tmp_path / "run-a-tag-response_length_mean.csv"  # verl's response_length/mean
    verl.write_text("Wall time,Step,Value\n1.5,1,100\n")
    assert read_runs(verl)[0].source_names == {"response/mean_length": "response_length/mean"}
    odd = tmp_path / "run-a-tag-my_probe_x.csv"  # no known name with '/' put back: the tag as it is
    odd.write_text("Wall time,Step,Value\n1.5,1,100\n")
    assert list(read_runs(odd)[0].metrics.columns) == ["my_probe_x"]


def test_a_csv_with_semicolons_between_fields_reads_decimal_commas(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffstep;entropy;reward\r\n1;0,5;1\r\n2;0,75;-0,5\r\n".encode())
    run = read_runs(path, strict=True)[0]
    assert run.series("entropy").tolist() == [0.5, 0.75] and run.series("reward").tolist() == [1.0, -0.5]
