import json

import pandas as pd

from entropy_dynamics.cli.main import main
from entropy_dynamics.logs import MetricLogWriter


def _run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _log(path, steps=4, name="[jsonl] run"):
    with MetricLogWriter(path) as log:
        log.header(name, config={"lr": 1e-5}, versions={})
        for step in range(1, steps + 1):
            log.metrics(step, {"actor/entropy": 1.0 / step, "custom/thing": step})
    return path


def test_inspect_real_exports_json_lists_every_run_with_pandas_counts(real_logs, capsys):
    files = sorted(str(p) for p in (real_logs / "deep_grpo").glob("*.csv"))
    code, out, err = _run(capsys, "inspect", *files, "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    expected = []
    for f in files:
        raw = pd.read_csv(f)
        for col in raw.columns[1:]:
            if col.endswith(("__MIN", "__MAX")):
                continue
            filled = raw.loc[raw[col].notna(), "Step"]
            expected.append((col.rsplit(" - ", 1)[0], f, int(filled.min()), int(filled.max()), len(filled)))
    got = [(r["run"], r["source"], r["first_step"], r["last_step"], sum(r["metrics"].values()))
           for r in payload["runs"]]
    assert got == expected
    assert len(payload["runs"]) == 11  # 3 + 2 + 2 + 2 + 1 + 1 runs in the six exports
    for entry in payload["runs"]:
        assert {"run", "source", "reader", "first_step", "last_step", "metrics"} <= set(entry)
        assert entry["reader"] == "wandb-csv"
    tree = [r for r in payload["runs"] if r["source"].endswith("tree_methods_training_instability_entropy.csv")]
    assert tree[0]["metrics"] == {"policy/entropy": 927}


def test_inspect_json_contract_and_unmapped(tmp_path, capsys):
    path = _log(tmp_path / "r" / "metrics.jsonl")
    code, out, _ = _run(capsys, "inspect", str(path), "--format", "json")
    assert code == 0
    entry = json.loads(out)["runs"][0]
    assert entry["run"] == "[jsonl] run" and entry["reader"] == "jsonl" and entry["source"] == str(path)
    assert (entry["first_step"], entry["last_step"]) == (1, 4)
    assert entry["metrics"] == {"policy/entropy": 4, "custom/thing": 4}
    assert entry["unmapped"] == ["custom/thing"]
    assert entry["source_names"] == {"policy/entropy": "actor/entropy"}


def test_inspect_table_escapes_markup_and_writes_out_file(tmp_path, capsys):
    path = _log(tmp_path / "r" / "metrics.jsonl")
    code, out, _ = _run(capsys, "inspect", str(path))
    assert code == 0
    assert "[jsonl] run  [jsonl]  steps 1..4" in out
    assert "custom/thing (unmapped)" in out
    target = tmp_path / "report" / "inspect.json"
    code, out, _ = _run(capsys, "inspect", str(path), "--format", "json", "--out", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["runs"][0]["metrics"]["policy/entropy"] == 4


def test_bad_input_exit_2_one_line_no_traceback(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"step": 1, "a": 1}\n{"step": 2, "a": "x"}\n{"step": 2, "a": 3}\n')
    code, out, err = _run(capsys, "inspect", str(bad))
    assert code == 0 and "policy/entropy" not in out and "a " in out
    assert "warning:" in err and "1 non-numeric" in err and "duplicate" in err
    cases = [
        (["inspect", str(bad), "--strict"], f"error: {bad}:2: non-numeric value 'x' for 'a'"),
        (["inspect", str(tmp_path / "nope.jsonl")], f"error: {tmp_path / 'nope.jsonl'}: no such file or folder"),
        (["inspect", str(bad), "--reader", "excel"], "error: "),
        (["inspect", str(bad), "--format", "yaml"], "error: --format must be table or json"),
    ]
    for args, first in cases:
        code, _, err = _run(capsys, *args)
        assert code == 2, args
        assert err.startswith(first), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_help_renders(capsys):
    for command in ("inspect", "pull"):
        code, out, err = _run(capsys, command, "--help")
        assert code == 0, err
        assert "[/RUN_ID]" in out and "error" not in err


def test_a_table_of_30000_metrics_shows_500_and_says_so(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    path.write_text("step," + ",".join(f"c{i}" for i in range(30000)) + "\n1," + ",".join(["1"] * 30000) + "\n")
    code, out, err = _run(capsys, "inspect", str(path))
    assert code == 0, err
    assert "29500 more metrics not shown (--format json lists all)" in " ".join(out.split())
    code, out, _ = _run(capsys, "inspect", str(path), "--format", "json")
    assert len(json.loads(out)["runs"][0]["metrics"]) == 30000
