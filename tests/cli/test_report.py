import json

from entropy_dynamics.cli.main import main
from tests.report.conftest import write_full_log


def _run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_writes_one_html_file(capsys, tmp_path):
    log = write_full_log(tmp_path / "a" / "metrics.jsonl", name="grpo-a")
    out = tmp_path / "out" / "report.html"
    code, stdout, err = _run(capsys, "report", str(log), "--out", str(out))
    assert code == 0, err
    assert out.exists() and f"wrote {out}" in stdout
    html = out.read_text(encoding="utf-8")
    assert "grpo-a" in html and html.count("* plotly.js v") == 1


def test_compare_json_summary(capsys, tmp_path):
    logs = [write_full_log(tmp_path / n / "metrics.jsonl", name=n, seed=i) for i, n in enumerate(["grpo", "seal"])]
    out = tmp_path / "compare.html"
    code, stdout, err = _run(capsys, "compare", *map(str, logs), "--out", str(out), "--format", "json",
                             "--title", "GRPO vs SEAL")
    assert code == 0, err
    payload = json.loads(stdout)
    summary = payload.pop("summary")
    assert payload == {"out": str(out), "bytes": out.stat().st_size, "runs": ["grpo", "seal"],
                       "labels": ["grpo", "seal"]}
    assert "<title>GRPO vs SEAL</title>" in out.read_text(encoding="utf-8")
    assert [row["run"] for row in summary] == ["grpo", "seal"]
    assert all(row["cycles"] == "2" and row["largest"].startswith("×") for row in summary)
    assert all(row["success_metric"] == "env/success_rate" and "(" not in row["success"] for row in summary)
    for row, log in zip(summary, logs, strict=True):  # the whole-run means, as a user would compute them
        metrics = [json.loads(line)["metrics"] for line in log.read_text().splitlines()
                   if json.loads(line).get("type") == "metrics"]
        success = [m["env/success_rate"] for m in metrics if m.get("env/success_rate") is not None]
        assert row["mean_success"] == f"{sum(success) / len(success):.3g}"


def test_compare_prints_the_summary_table(capsys, tmp_path):
    logs = [write_full_log(tmp_path / n / "metrics.jsonl", name=n, seed=i) for i, n in enumerate(["grpo", "seal"])]
    code, stdout, err = _run(capsys, "compare", *map(str, logs), "--out", str(tmp_path / "c.html"))
    assert code == 0, err
    assert "Summary per run" in stdout and "mean success" in stdout and "env/success_rate" in stdout
    assert stdout.count("×") == 2 and "wrote " in stdout


def test_bad_input_is_one_line_and_exit_code_2(capsys, tmp_path):
    log = write_full_log(tmp_path / "a" / "metrics.jsonl")
    for args, expected in [
        (["report", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "r.html")], "no such file"),
        (["report", str(log), "--out", str(tmp_path / "r.html"), "--metric", "nope"], "no metric 'nope'"),
        (["compare", str(log), "--out", str(tmp_path / "c.html"), "--format", "yaml"], "--format must be"),
        (["report", str(log), "--out", str(tmp_path)], "is a folder"),
        (["compare", "--label", str(log), "--out", str(tmp_path / "c.html")], "--label wants NAME=PATH"),
        (["compare", "--label", f"={log}", "--out", str(tmp_path / "c.html")], "--label wants NAME=PATH"),
        (["compare", "--label", f"a={log}", "--label", f"b={log}", "--out", str(tmp_path / "c.html")],
         "labelled twice"),
        (["compare", "--out", str(tmp_path / "c.html")], "give at least one log path"),
        (["compare", str(log), "--smoothing", "1", "--out", str(tmp_path / "c.html")], "between 0 and 0.99"),
        (["report", str(log), "--smoothing", "-0.5", "--out", str(tmp_path / "r.html")], "between 0 and 0.99"),
        (["compare", str(log), "--layout", "grid", "--out", str(tmp_path / "c.html")], "--layout must be one of"),
    ]:
        code, _, err = _run(capsys, *args)
        assert code == 2, (args, err)
        assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_log_without_entropy_is_drawn_with_a_note(capsys, tmp_path):
    log = tmp_path / "trl.jsonl"
    log.write_text("\n".join(json.dumps({"step": s, "reward": s / 60, "kl": 0.01 * s, "loss": 1 / s})
                             for s in range(1, 61)) + "\n")
    code, stdout, err = _run(capsys, "report", str(log), "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    assert err.strip() == ("warning: trl: no entropy metric (policy/entropy or a name ending in 'entropy'); the other "
                           "metrics are drawn without phases (--metric picks one to segment)")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "no entropy metric" in html and "reward/mean" in html
    other = write_full_log(tmp_path / "a" / "metrics.jsonl", name="grpo-a")
    code, stdout, err = _run(capsys, "compare", str(log), str(other), "--out", str(tmp_path / "c.html"))
    assert code == 0 and "wrote" in stdout, err
    code, _, err = _run(capsys, "report", str(log), "--metric", "nope", "--out", str(tmp_path / "x.html"))
    assert code == 2 and "has no metric 'nope'" in err


def test_labels_name_the_runs(capsys, tmp_path):
    grpo = write_full_log(tmp_path / "grpo" / "metrics.jsonl", name="cycles_e2_ep15")
    seal = write_full_log(tmp_path / "seal" / "metrics.jsonl", name="cycles_e2_ep15_seal", seed=1)
    out = tmp_path / "c.html"
    # one path given as an argument and labelled (written differently), one only through --label
    code, stdout, err = _run(capsys, "compare", f"{grpo.parent}/", "--label", f"GRPO={grpo.parent}",
                             "--label", f"GRPO+SEAL={seal}", "--out", str(out), "--format", "json",
                             "--layout", "overlay", "--smoothing", "0.9")
    assert code == 0, err
    assert json.loads(stdout)["labels"] == ["GRPO", "GRPO+SEAL"]
    html = out.read_text(encoding="utf-8")
    assert "<tr><td>GRPO</td>" in html and "<tr><td>GRPO+SEAL</td>" in html and "cycles_e2_ep15_seal" not in html
    assert 'id="smoothing" min="0" max="0.99" step="0.01" value="0.90"' in html
    assert "Runs overlaid (smoothed" in html


def test_a_run_written_to_a_generic_folder_gets_a_telling_default_label(capsys, tmp_path):
    log = write_full_log(tmp_path / "demo" / "train" / "metrics.jsonl", name="train")
    code, stdout, err = _run(capsys, "report", str(log), "--out", str(tmp_path / "r.html"), "--format", "json")
    assert code == 0, err
    assert json.loads(stdout)["labels"] == ["demo (grpo+SEAL)"]  # the log's config: algorithm grpo, seal 0.02
    assert "<title>demo (grpo+SEAL)</title>" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_printed_summary_leaves_out_columns_no_run_fills(capsys, tmp_path, real_logs):
    csv = real_logs / "deep_grpo" / "training_dynamics_entropy.csv"  # entropy only
    code, stdout, err = _run(capsys, "compare", str(csv), "--out", str(tmp_path / "c.html"))
    assert code == 0, err
    assert "eruption cycles" in stdout and "success" not in stdout and "degeneration" not in stdout
