import pytest

from entropy_dynamics.errors import LogReadError
from entropy_dynamics.logs import detect_format, read_runs
from entropy_dynamics.logs.verl_console import parse_line, parse_value

CONSOLE = "\n".join([
    "(TaskRunner pid=4242) {'actor_rollout_ref': {'actor': {'entropy_coeff': 0, 'ppo_epochs': 1}},",
    "(TaskRunner pid=4242)  'trainer': {'total_training_steps': 3, 'logger': ['console']}}",
    "Training Progress:  33%|###3      | 1/3 [00:05<00:10,  5.0s/it]",
    "\x1b[36m(TaskRunner pid=4242)\x1b[0m step:0 - val-core/gsm8k/acc/mean@1:np.float64(0.12)",
    "\x1b[36m(TaskRunner pid=4242)\x1b[0m step:1 - actor/entropy:np.float64(0.61) - actor/pg_loss:-0.02 - "
    "critic/score/mean:np.float64(0.25) - response_length/mean:np.int64(212) - timing_s/gen:tensor(3.5, "
    "device='cuda:0') - actor/lr:1e-06",
    "(WorkerDict pid=99) WARNING: something unrelated step:abc",
    "step:2 - actor/entropy:0.58 - actor/pg_loss:nan - critic/score/mean:0.30 - note:hello",
    "step:3 - actor/entropy:0.55 - critic/score/mean:0.35",
    "step:2 - actor/entropy:0.57 - critic/score/mean:0.31",
    "(TaskRunner pid=4242) Final validation metrics: {'val-core/gsm8k/acc/mean@1': 0.4}",
])


@pytest.fixture
def console_log(tmp_path):
    path = tmp_path / "verl_train.log"
    path.write_text(CONSOLE + "\n")
    return path


def test_values_are_unwrapped():
    assert parse_value("np.float64(0.3)") == 0.3
    assert parse_value("np.int64(3)") == 3.0
    assert parse_value("tensor(0.25, device='cuda:0')") == 0.25
    assert parse_value(" 1e-06 ") == 1e-06
    assert parse_value("hello") == "hello"
    assert parse_line("config: {'step': 3}") is None


def test_reads_records_ignoring_noise(console_log):
    assert detect_format(console_log) == "verl-console"
    run = read_runs(console_log)[0]
    assert run.reader == "verl-console" and run.name == "verl_train"
    assert run.steps.tolist() == [0, 1, 2, 3]
    assert run.series("policy/entropy").to_dict() == {1: 0.61, 2: 0.57, 3: 0.55}  # resumed step 2: later wins
    assert run.series("reward/mean").to_dict() == {1: 0.25, 2: 0.31, 3: 0.35}
    assert run.series("response/mean_length").to_dict() == {1: 212.0}
    assert run.series("timing_s/gen").to_dict() == {1: 3.5}
    assert run.series("val-core/gsm8k/acc/mean@1").to_dict() == {0: 0.12}
    assert run.stats.duplicate_steps == 1 and run.stats.backwards_steps == 1
    assert run.stats.non_finite == 1 and run.stats.non_numeric == 1


def test_strict_names_the_first_bad_line(console_log):
    with pytest.raises(LogReadError, match=r"verl_train\.log:7: non-finite value \(nan\) for 'actor/pg_loss'$"):
        read_runs(console_log, strict=True)


def test_log_without_records_is_refused(tmp_path):
    path = tmp_path / "out.log"
    path.write_text("hello\nworld\n")
    with pytest.raises(LogReadError, match="no verl 'step:N - key:value' lines"):
        read_runs(path, format="verl-console")


def test_a_log_of_two_runs_is_split_and_warned(tmp_path):
    path = tmp_path / "two.log"
    first = [f"step:{s} - actor/entropy:{1.0 / s}" for s in range(1, 11)]
    second = [f"step:{s} - actor/entropy_loss:{0.5 + s / 1000} - critic/score/mean:{s}" for s in range(1, 336)]
    resume = [f"step:{s} - actor/entropy_loss:0.1" for s in range(300, 336)]  # a resume is not a new run
    path.write_text("\n".join(first + second + resume) + "\n")
    runs = read_runs(path)
    assert [r.name for r in runs] == ["two", "two#2"]
    assert runs[0].points() == {"policy/entropy": 10}
    assert runs[1].points()["policy/entropy"] == 335 and runs[1].stats.duplicate_steps == 36
    assert runs[0].stats.warnings[0].endswith("holds 2 runs (the step starts over at lines 11); read as separate runs")
