import pytest

from entropy_dynamics.logs import detect_format, read_runs

TRL_STDOUT = """\
***** Running training *****
  Num examples = 100
{bar1}{{'loss': 0.0123, 'grad_norm': 1.5, 'learning_rate': 1e-06, 'reward': 0.25, 'reward_std': 0.1, \
'entropy': 0.9, 'kl': 0.0, 'epoch': 0.02}}
{bar2}{{'loss': '0.0456', 'grad_norm': nan, 'learning_rate': 2e-06, 'reward': 0.5, 'entropy': 0.8, 'epoch': 0.04}}
 20%|##        | 5/25 [00:02<00:08,  2.4it/s]
{{'eval_loss': 0.3, 'eval_runtime': 1.0, 'epoch': 0.04}}
{{'train_runtime': 12.5, 'train_samples_per_second': 8.0, 'train_loss': 0.03, 'epoch': 0.04}}
"""


def test_trl_console_lines_with_progress_bar_steps(tmp_path):
    path = tmp_path / "train.out"
    path.write_text(TRL_STDOUT.format(bar1="\r  1%|          | 10/1000 [00:10<16:30,  1.0s/it]",
                                      bar2="\r  2%|          | 20/1000 [00:20<16:20,  1.0s/it]"))
    assert detect_format(path) == "hf-stdout"
    (run,) = read_runs(path)
    assert run.reader == "hf-stdout" and list(run.metrics.index) == [10, 20]
    assert run.series("policy/entropy").tolist() == [0.9, 0.8]
    assert run.series("reward/mean").tolist() == [0.25, 0.5]
    assert run.series("loss/total").tolist() == [0.0123, 0.0456]
    assert run.series("eval_loss").to_dict() == {20: 0.3}
    assert run.metadata["summary"]["train_runtime"] == 12.5
    assert run.stats.non_finite == 1 and len(run.stats.warnings) == 1  # the NaN grad_norm


def test_without_steps_the_logging_call_number_is_used_and_warned(tmp_path):
    path = tmp_path / "train.log"
    path.write_text(TRL_STDOUT.format(bar1="", bar2="").replace(" 20%|##        | 5/25 [00:02<00:08,  2.4it/s]\n", ""))
    (run,) = read_runs(path)
    assert list(run.metrics.index) == [1, 2]
    assert any("step = number of the logging call" in w for w in run.stats.warnings)


def test_strict_fails_on_a_nan(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("{'loss': 1.0, 'step': 1}\n{'loss': nan, 'step': 2}\n")
    from entropy_dynamics.errors import LogReadError

    with pytest.raises(LogReadError, match=r"train\.log:2: non-finite value"):
        read_runs(path, strict=True)
