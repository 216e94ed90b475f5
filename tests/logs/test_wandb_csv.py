import pandas as pd
import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs
from entropy_dynamics.logs.wandb_csv import split_column

EXPORT = (
    '\ufeff"global_step","run - a - actor/entropy","run - a - actor/entropy__MIN","run - a - actor/entropy__MAX",'
    '"Group: seal - actor/entropy","Group: seal - actor/entropy__MIN","Group: seal - actor/entropy__MAX"\n'
    '1,0.5,0.5,0.5,0.7,0.6,0.8\n'
    '2,,,,0.65,0.6,0.7\n'
    '3,0.4,0.4,0.4,,,\n'
    '4,oops,0.4,0.4,inf,,\n'
)


def test_split_column_uses_last_separator():
    assert split_column("my - run - actor/entropy") == ("my - run", "actor/entropy", False)
    assert split_column("Group: g1 - reward") == ("g1", "reward", True)


def test_export_with_groups_blank_cells_and_any_x_column(tmp_path):
    path = tmp_path / "chart.csv"
    path.write_text(EXPORT, encoding="utf-8")
    assert detect_format(path) == "wandb-csv"
    runs = read_runs(path)
    assert [r.name for r in runs] == ["run - a", "seal"]
    a, seal = runs
    assert a.series("policy/entropy").to_dict() == {1: 0.5, 3: 0.4}
    assert a.stats.non_numeric == 1
    assert seal.series("policy/entropy").to_dict() == {1: 0.7, 2: 0.65}
    assert seal.stats.non_finite == 1 and seal.metadata["group"] is True
    assert a.metadata["x_axis"] == "global_step"
    with pytest.raises(LogReadError, match=r"chart\.csv:5: non-numeric value 'oops' for 'actor/entropy'"):
        read_runs(path, strict=True)


def test_time_x_axis_is_refused(tmp_path):
    path = tmp_path / "chart.csv"
    path.write_text('"Relative Time (Process)","r - loss","r - loss__MIN","r - loss__MAX"\n0.5,1,1,1\n1.7,2,2,2\n')
    with pytest.raises(LogReadError, match="not an integer step"):
        read_runs(path)


def test_export_without_value_columns_is_refused(tmp_path):
    path = tmp_path / "chart.csv"
    path.write_text('"Step","r - loss__MIN","r - loss__MAX"\n1,1,1\n')
    with pytest.raises(LogReadError, match="only __MIN/__MAX columns"):
        read_runs(path)


def test_real_deep_grpo_exports_match_pandas(real_logs):
    """Every run of every real export, with the point counts pandas sees in the value columns."""
    files = sorted((real_logs / "deep_grpo").glob("*.csv"))
    assert len(files) == 6
    for path in files:
        raw = pd.read_csv(path)
        value_cols = [c for c in raw.columns[1:] if not c.endswith(("__MIN", "__MAX"))]
        expected = {c.rsplit(" - ", 1)[0]: (int(raw[c].notna().sum()), int(raw.loc[raw[c].notna(), "Step"].min()),
                                            int(raw.loc[raw[c].notna(), "Step"].max())) for c in value_cols}
        runs = read_runs(path)
        got = {r.name: (sum(r.points().values()), r.first_step, r.last_step) for r in runs}
        assert got == expected, path.name
    tree = read_runs(real_logs / "deep_grpo" / "tree_methods_training_instability_entropy.csv")
    assert [(r.name, r.points()) for r in tree] == [("Qwen2.5-0.5B-Instruct-TreeRL", {"policy/entropy": 927})]
    depth = read_runs(real_logs / "deep_grpo" / "depth_and_entropy.csv")
    assert sorted(r.points()["policy/entropy"] for r in depth) == [2958, 3434, 4485]
