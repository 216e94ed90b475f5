"""Config: YAML + --set overrides, typed parsing, one-line errors, documented fields."""

from __future__ import annotations

import pytest

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.config import TrainConfig
from entropy_dynamics.train.config_io import describe, load_config, to_dict


def test_defaults_and_contract_keys():
    cfg = load_config()
    assert isinstance(cfg, TrainConfig)
    data = to_dict(cfg)
    for key in ("model", "env", "algorithm", "steps", "group_size", "seed", "output_dir"):
        assert key in data
    assert "coef" in data["seal"] and cfg.seal.coef == 0.0 and not cfg.seal_on


def test_yaml_then_overrides_win(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("algorithm: rloo\nlr: 1.0e-3\nseal:\n  coef: 0.05\n  num_layers: 6\n")
    cfg = load_config(path, ["lr=5e-4", "seal.zero_adv_label=ignore", "steps=7", "clip_cov={ratio: 0.001}"])
    assert cfg.algorithm == "rloo"
    assert cfg.lr == pytest.approx(5e-4)
    assert cfg.seal.coef == pytest.approx(0.05) and cfg.seal.num_layers == 6
    assert cfg.seal.zero_adv_label == "ignore"
    assert cfg.steps == 7 and isinstance(cfg.steps, int)
    assert cfg.clip_cov == {"ratio": 0.001}


@pytest.mark.parametrize(("value", "coef"), [("on", 0.02), ("true", 0.02), ("off", 0.0), ("0.1", 0.1)])
def test_seal_shorthand(value, coef):
    assert load_config(None, [f"seal={value}"]).seal.coef == pytest.approx(coef)


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("foo=1", "unknown key 'foo'"),
        ("seal.bar=1", "unknown key 'seal.bar'"),
        ("lr=fast", "'lr' must be a number"),
        ("steps=2.5", "'steps' must be an integer"),
        ("algorithm=sac", "'algorithm' must be one of"),
        ("group_size=1", "'group_size' must be >= 2"),
        ("seal.coef=-1", "'seal.coef' must be >= 0"),
        ("loss_agg_mode=sum", "'loss_agg_mode' must be one of"),
        ("kl_coef=0.1", "needs use_ref_model"),
        ("wandb=yes", "'wandb' must be online, offline or disabled"),
        ("wandb_alerts=true", "'wandb_alerts' needs wandb online or offline"),
        ("noequals", "expected key=value"),
    ],
)
def test_bad_values_give_one_line_config_errors(override, needle):
    with pytest.raises(ConfigError) as info:
        load_config(None, [override])
    message = str(info.value)
    assert needle in message
    assert "\n" not in message


def test_bad_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lr: 1\nseal: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_every_field_is_documented():
    rows = describe()
    assert len(rows) > 50
    undocumented = [key for key, _, help_text in rows if not help_text]
    assert undocumented == []
    assert any(key == "seal.position_offset" for key, _, _ in rows)


def test_shipped_configs_load():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "configs"
    for name in ("tiny_cooking_sft", "tiny_cooking_grpo", "tiny_cooking_seal"):
        cfg = load_config(root / f"{name}.yaml")
        assert cfg.env == "textworld-cooking"
    assert load_config(root / "tiny_cooking_seal.yaml").seal.coef == pytest.approx(0.02)


def test_a_binary_or_utf16_config_file_is_a_config_error_in_load_config(tmp_path):
    """Every caller of load_config (train, sft, sweep, the demo, scripts) gets the one-line ConfigError, not a
    UnicodeDecodeError to catch on its own."""
    import pytest

    from entropy_dynamics.errors import ConfigError
    from entropy_dynamics.train.config_io import load_config

    path = tmp_path / "utf16.yaml"
    path.write_text("steps: 5\n", encoding="utf-16")
    with pytest.raises(ConfigError, match=r"utf16.yaml: not UTF-8 text"):
        load_config(path)
