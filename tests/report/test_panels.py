import numpy as np
import pandas as pd

from entropy_dynamics.logs import frame_to_run
from entropy_dynamics.report.panels import PANELS, first_logged, panel_columns, reward_column, select_panels


def test_full_log_fills_every_panel(full_run):
    panels, notes = select_panels(full_run)
    assert [p.spec.key for p in panels] == [s.key for s in PANELS]
    assert notes == []
    by_key = {p.spec.key: p.columns for p in panels}
    assert by_key["turn"] == ("policy/entropy/turn_0", "policy/entropy/turn_1", "policy/entropy/turn_2")
    assert "degen/sentence_dup_rate" in by_key["degen"] and "halluc/rate" in by_key["halluc"]
    assert reward_column(full_run) == "reward/mean"


def test_turns_sort_numerically_and_unknown_columns_are_ignored():
    spec = next(s for s in PANELS if s.key == "turn")
    cols = ["policy/entropy/turn_10", "policy/entropy/turn_2", "policy/entropy/turn_x", "foo"]
    assert panel_columns(spec, cols) == ("policy/entropy/turn_2", "policy/entropy/turn_10")


def test_entropy_only_export_gets_one_note_per_missing_panel():
    frame = pd.DataFrame({"actor/entropy": np.linspace(0.5, 0.1, 50), "reward/mean": np.nan},
                         index=pd.Index(np.arange(50), name="step"))
    run = frame_to_run("w", "x.csv", "wandb-csv", frame)
    panels, notes = select_panels(run)
    assert panels == []
    assert len(notes) == len(PANELS)
    assert any("reward" in n for n in notes) and any("degen/*" in n for n in notes)
    assert reward_column(run) is None


def test_first_logged_takes_the_first_name_any_run_logs():
    steps = pd.Index(np.arange(5), name="step")
    success = frame_to_run("a", "a", "t", pd.DataFrame({"env/success_rate": np.ones(5)}, index=steps))
    reward = frame_to_run("b", "b", "t", pd.DataFrame({"reward/mean": np.ones(5)}, index=steps))
    assert first_logged([reward], ("env/success_rate", "reward/mean")) == "reward/mean"
    assert first_logged([reward, success], ("env/success_rate", "reward/mean")) == "env/success_rate"
    assert first_logged([success], ("halluc/rate",)) is None


def test_first_logged_can_skip_a_metric_that_never_changes():
    steps = pd.Index(np.arange(5), name="step")
    run = frame_to_run("a", "a", "t", pd.DataFrame({"degen/sentence_dup_rate": np.zeros(5),
                                                     "degen/rep5_ratio": [0.0, 0.1, 0.0, 0.2, 0.1]}, index=steps))
    names = ("degen/sentence_dup_rate", "degen/rep5_ratio")
    assert first_logged([run], names) == "degen/sentence_dup_rate"
    assert first_logged([run], names, varying=True) == "degen/rep5_ratio"
    flat = frame_to_run("b", "b", "t", pd.DataFrame({"degen/sentence_dup_rate": np.zeros(5)}, index=steps))
    assert first_logged([flat], names, varying=True) == "degen/sentence_dup_rate"
