import os
import shutil
import subprocess
import sys
import time

import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs
from entropy_dynamics.logs.wandb_offline import find_run_files


def _by_name(runs):
    return {r.name: r for r in runs}


def test_wandb_folder_holding_many_runs(wandb_dir):
    assert detect_format(wandb_dir) == "wandb-offline"
    runs = _by_name(read_runs(wandb_dir))
    assert set(runs) == {"grpo-a", "grpo-b"}
    a = runs["grpo-a"]
    assert a.reader == "wandb-offline"
    assert a.steps.tolist() == list(range(1, 302))
    entropy = a.series("policy/entropy")
    assert len(entropy) == 300 and entropy[7] == pytest.approx(1 / 7)
    assert a.series("reward/mean")[300] == pytest.approx(3.0)
    assert a.config["lr"] == 1e-5 and a.config["seal"] == {"coef": 0.02}
    assert a.stats.non_numeric == 300 and a.stats.non_finite == 1  # "note" strings, the NaN
    assert a.metadata["finished"] is True and a.metadata["project"] == "probe"
    b = runs["grpo-b"]
    assert b.steps.tolist() == list(range(50))
    assert b.points()["big"] == 49  # the 70 KB string (a record spanning blocks) is the 50th value


def test_run_folder_file_and_parent_folder(wandb_dir):
    run_folder = next(wandb_dir.glob("offline-run-*"))
    run_file = next(run_folder.glob("run-*.wandb"))
    assert detect_format(run_file) == "wandb-offline"
    assert len(read_runs(run_folder)) == 1
    assert len(read_runs(run_file)) == 1
    assert len(read_runs(wandb_dir.parent)) == 2  # the folder that holds wandb/


def test_run_still_being_written_is_readable(wandb_dir, tmp_path):
    source = max(find_run_files(wandb_dir), key=lambda f: f.stat().st_size)
    data = source.read_bytes()
    partial = tmp_path / "run-live.wandb"
    partial.write_bytes(data[: len(data) * 2 // 3])
    run = read_runs(partial, strict=True)[0]
    full = read_runs(source)[0]
    assert 0 < len(run.metrics) < len(full.metrics)
    assert run.steps.tolist() == full.steps[: len(run.metrics)].tolist()


def test_corrupt_record_lenient_skips_strict_fails(wandb_dir, tmp_path):
    source = next(f for f in find_run_files(wandb_dir) if "grpo-a" in str(read_runs(f)[0].name))
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken = tmp_path / "run-broken.wandb"
    broken.write_bytes(bytes(data))
    run = read_runs(broken)[0]
    full = read_runs(source)[0]
    assert run.stats.bad_lines >= 1
    assert len(run.metrics) >= 250
    kept = run.series("policy/entropy")
    assert kept.equals(full.series("policy/entropy").loc[kept.index])  # what was read is exact
    with pytest.raises(LogReadError, match=r"run-broken\.wandb"):  # strict: its first problem, named
        read_runs(broken, strict=True)


def test_not_a_wandb_file(tmp_path):
    path = tmp_path / "run-x.wandb"
    path.write_bytes(b"hello world, no header")
    with pytest.raises(LogReadError, match="not a W&B run file"):
        read_runs(path)
    empty_dir = tmp_path / "wandb"
    empty_dir.mkdir()
    with pytest.raises(LogReadError, match="holds no log"):
        read_runs(empty_dir)
    shutil.rmtree(empty_dir)


LIVE_SCRIPT = """
import sys, wandb
run = wandb.init(project="live", name="live-run", mode="offline", dir=sys.argv[1],
                 settings=wandb.Settings(x_transaction_log_flush_interval=0.2))
for step in range(200):
    wandb.log({"actor/entropy": step * 0.01}, step=step)
print("logged", flush=True)
sys.stdin.read()
wandb.finish()
"""


def test_reads_a_run_while_wandb_is_still_writing_it(tmp_path):
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true"}
    proc = subprocess.Popen([sys.executable, "-c", LIVE_SCRIPT, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "logged"
        deadline, run = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            files = list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))
            if files and files[0].stat().st_size > 7:
                run = read_runs(tmp_path / "wandb", strict=True)[0]
                if len(run.metrics) > 0:
                    break
            time.sleep(0.2)
        assert run is not None and run.metadata["finished"] is False
        assert run.name == "live-run" and len(run.metrics) > 0
        entropy = run.series("policy/entropy")
        assert entropy.index.tolist() == list(range(len(entropy)))
    finally:
        proc.communicate("", timeout=60)
    done = read_runs(tmp_path / "wandb")[0]
    assert done.metadata["finished"] is True and len(done.metrics) == 200


def test_strict_names_file_and_record(wandb_dir):
    files = {read_runs(f)[0].name: f for f in find_run_files(wandb_dir)}
    with pytest.raises(LogReadError, match=r"run-\w+\.wandb: record \d+: non-numeric value 'xxxx.* for 'big'$"):
        read_runs(files["grpo-b"], strict=True)


def test_a_run_folder_with_several_run_files_reads_the_newest_and_says_so(wandb_dir, tmp_path):
    source = next(wandb_dir.glob("offline-run-*"))
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    run_file = next(folder.glob("run-*.wandb"))
    shutil.copy(run_file, folder / "run-00000000.wandb")  # an older file beside it (sorted first)
    runs = read_runs(folder)
    assert len(runs) == 1 and runs[0].source == str(run_file)
    assert any("the newest of 2 run files" in w for w in runs[0].stats.warnings)
    assert not any("run files" in w for w in read_runs(source)[0].stats.warnings)
