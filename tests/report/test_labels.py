import pytest

from entropy_dynamics.errors import EntropyDynamicsError
from entropy_dynamics.report.labels import default_label, parse_label, run_labels


class FakeRun:  # the label functions read only these two fields
    def __init__(self, name, config=None, source="logs/metrics.jsonl"):
        self.name, self.config, self.source = name, config or {}, source


def test_parse_label():
    assert parse_label("GRPO+SEAL=runs/seal") == ("GRPO+SEAL", "runs/seal")
    assert parse_label(" a b = x=y.jsonl ") == ("a b", "x=y.jsonl")  # split at the first '='
    for bad in ("runs/seal", "=runs/seal", "NAME=", " = "):
        with pytest.raises(EntropyDynamicsError, match="NAME=PATH"):
            parse_label(bad)


def test_default_label_replaces_a_generic_folder_name():
    assert default_label(FakeRun("cycles_e2_ep15_seal")) == "cycles_e2_ep15_seal"
    demo = FakeRun("train", {"output_dir": "runs/demo/train", "algorithm": "grpo", "seal": {"coef": 0.02}})
    assert default_label(demo) == "demo (grpo+SEAL)"
    plain = FakeRun("train", {"algorithm": "grpo", "seal": {"coef": 0.0}}, source="exp7/train/metrics.jsonl")
    assert default_label(plain) == "exp7 (grpo)"
    assert default_label(FakeRun("logs", source="logs/metrics.jsonl")) == "logs"


def test_run_labels_prefer_given_names_and_stay_unique():
    runs = [FakeRun("a"), FakeRun("b"), FakeRun("a")]
    assert run_labels(runs) == ["a #1", "b", "a #2"]
    assert run_labels(runs, ["x", None, "y"]) == ["x", "b", "y"]
    with pytest.raises(EntropyDynamicsError, match="2 labels for 3 runs"):
        run_labels(runs, ["x", "y"])
