"""Load, override, validate and serialise :class:`TrainConfig` (YAML + ``--set key=value``)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml

from entropy_dynamics.errors import ConfigError


def load_config(path: str | Path | None = None, overrides: list[str] | None = None):
    """Read an optional YAML file, apply ``key=value`` overrides (dotted keys, YAML-typed values) and
    return a validated ``TrainConfig``. Any problem raises a one-line :class:`ConfigError`."""
    from entropy_dynamics.train.config import TrainConfig

    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
            raise ConfigError(f"{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the config must be a mapping of keys to values")
        raw = loaded or {}
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        _set_dotted(raw, key.strip(), value)
    return build(TrainConfig, raw, where=str(path) if path else "--set")


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {} if child is None or not _is_shorthand(part, child) else _expand(part, child)
            node[part] = child
        node = child
    node[parts[-1]] = value


#: Sections that take ``on`` / ``off`` (or true / false) for ``{enabled: ...}``.
_SWITCHED_SECTIONS = ("instruments", "phase")


def _is_shorthand(key: str, value: Any) -> bool:
    if key in _SWITCHED_SECTIONS:
        return isinstance(value, bool) or value in ("on", "off")
    return key == "seal" and isinstance(value, (bool, str, int, float))


def _expand(key: str, value: Any) -> dict[str, Any]:
    """``seal: on`` / ``seal: true`` -> ``{coef: 0.02}`` (the paper's value); ``seal: off`` -> ``{coef: 0}``;
    a number is the coefficient. ``instruments: off`` / ``phase: off`` -> ``{enabled: false}`` (and on)."""
    if key in _SWITCHED_SECTIONS:
        return {"enabled": value in (True, "on")}
    if isinstance(value, bool) or value in ("on", "off"):
        return {"coef": 0.02 if value in (True, "on") else 0.0}
    if isinstance(value, (int, float)):
        return {"coef": float(value)}
    raise ConfigError(f"{key}: expected a mapping, on/off, or a coefficient (got {value!r})")


def build(cls: type, raw: dict[str, Any], where: str, prefix: str = ""):
    """Construct dataclass ``cls`` from a mapping, recursively, checking keys and value types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key '{prefix}{unknown[0]}' (known: {', '.join(sorted(names))})")
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if _is_shorthand(name, value):
                value = _expand(name, value)
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: '{prefix}{name}' must be a mapping (got {value!r})")
            kwargs[name] = build(hint, value, where, prefix=f"{prefix}{name}.")
        else:
            kwargs[name] = _coerce(value, hint, f"{prefix}{name}", where)
    try:
        return cls(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _coerce(value: Any, hint: Any, key: str, where: str) -> Any:
    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: '{key}' must be {expected} (got {value!r})")

    if hint is Any:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise bad("true or false")
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            raise bad("an integer")
        return int(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            raise bad("a number")
        return float(value)
    if hint is str:
        if isinstance(value, (dict, list)) or value is None:
            raise bad("a string")
        return str(value)
    if hint is dict:
        if not isinstance(value, dict):
            raise bad("a mapping")
        return value
    if hint is list:
        if not isinstance(value, list):
            raise bad("a list")
        return value
    return value


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def validate(cfg) -> None:
    """Range and choice checks of a ``TrainConfig`` (called by its ``__post_init__``)."""
    from entropy_dynamics.train.config import AGG_MODES, ALGORITHMS

    _check(cfg.algorithm in ALGORITHMS, f"'algorithm' must be one of {', '.join(ALGORITHMS)} (got {cfg.algorithm!r})")
    _check(cfg.adv_scale in ("group", "batch", "none"),
           f"'adv_scale' must be group, batch or none (got {cfg.adv_scale!r})")
    _check(cfg.loss_agg_mode in AGG_MODES,
           f"'loss_agg_mode' must be one of {', '.join(AGG_MODES)} (got {cfg.loss_agg_mode!r})")
    for name in ("steps", "group_size", "games_per_step", "game_pool_size", "max_turns", "max_new_tokens",
                 "max_prompt_tokens", "epochs", "minibatches", "micro_batch_size", "max_nan_skips"):
        _check(getattr(cfg, name) >= 1, f"'{name}' must be >= 1 (got {getattr(cfg, name)!r})")
    for name in ("history_length", "checkpoint_every", "samples_every", "warmup_steps", "game_seed_start"):
        _check(getattr(cfg, name) >= 0, f"'{name}' must be >= 0 (got {getattr(cfg, name)!r})")
    for name in ("lr", "temperature"):
        _check(getattr(cfg, name) > 0, f"'{name}' must be > 0 (got {getattr(cfg, name)!r})")
    for name in ("kl_coef", "entropy_coef", "invalid_action_penalty", "weight_decay", "grad_clip", "value_coef"):
        _check(getattr(cfg, name) >= 0, f"'{name}' must be >= 0 (got {getattr(cfg, name)!r})")
    _check(cfg.group_size >= 2 or cfg.algorithm == "ppo",
           f"'group_size' must be >= 2 for {cfg.algorithm} (group baselines need several trajectories)")
    _check(cfg.wandb in ("online", "offline", "disabled"), f"'wandb' must be online, offline or disabled "
                                                            f"(got {cfg.wandb!r})")
    _check(not cfg.wandb_alerts or cfg.wandb != "disabled", "'wandb_alerts' needs wandb online or offline")
    _check(cfg.dtype in ("auto", "float32", "bfloat16", "float16"), f"'dtype' must be auto, float32, bfloat16 "
                                                                     f"or float16 (got {cfg.dtype!r})")
    _check(cfg.device == "auto" or cfg.device == "cpu" or cfg.device.startswith("cuda"),
           f"'device' must be auto, cpu or cuda[:N] (got {cfg.device!r})")
    _check(cfg.kl_coef == 0 or cfg.use_ref_model, "'kl_coef' > 0 needs use_ref_model: true")
    _check(cfg.credit in ("trajectory", "turn"), f"'credit' must be trajectory or turn (got {cfg.credit!r})")
    _check(cfg.credit_stats in ("turns", "trajectories"),
           f"'credit_stats' must be turns or trajectories (got {cfg.credit_stats!r})")
    _check(cfg.credit == "trajectory" or cfg.algorithm in ("grpo", "dr_grpo", "rloo", "reinforce_pp", "gigpo"),
           f"'credit: turn' needs a group estimator, not {cfg.algorithm} (PPO credits each turn through GAE)")
    _check(cfg.credit_stats == "turns" or cfg.algorithm in ("grpo", "dr_grpo", "gigpo"),
           f"'credit_stats: trajectories' works with grpo, dr_grpo and gigpo, not {cfg.algorithm}")
    seal = cfg.seal
    _check(seal.penalty_only in ("label", "ignore"),
           f"'seal.penalty_only' must be label or ignore (got {seal.penalty_only!r})")
    _check(seal.coef >= 0, f"'seal.coef' must be >= 0 (got {seal.coef!r})")
    _check(seal.num_layers >= 1, f"'seal.num_layers' must be >= 1 (got {seal.num_layers!r})")
    _check(seal.zero_adv_label in (0, 1, 0.0, 1.0, "ignore"),
           f"'seal.zero_adv_label' must be 1.0, 0.0 or 'ignore' (got {seal.zero_adv_label!r})")
    _check(seal.label_source in ("adv_sign", "episode_success"),
           f"'seal.label_source' must be adv_sign or episode_success (got {seal.label_source!r})")
    _check(seal.pooling in ("token", "turn_mean"), f"'seal.pooling' must be token or turn_mean (got {seal.pooling!r})")
    _check(seal.position_offset in (0, -1), f"'seal.position_offset' must be 0 or -1 (got {seal.position_offset!r})")
    _validate_live_sections(cfg)
    for name in ("clip_cov", "kl_cov"):
        _check(getattr(cfg, name) is None or isinstance(getattr(cfg, name), dict),
               f"'{name}' must be a mapping or null")
    _check(cfg.max_turns_slack is None or (isinstance(cfg.max_turns_slack, int) and cfg.max_turns_slack >= 0),
           f"'max_turns_slack' must be null or an integer >= 0 (got {cfg.max_turns_slack!r})")
    _check(cfg.dual_clip_c is None or (isinstance(cfg.dual_clip_c, (int, float)) and cfg.dual_clip_c > 1),
           f"'dual_clip_c' must be null or a number > 1 (got {cfg.dual_clip_c!r})")


def _validate_live_sections(cfg) -> None:
    """Checks of the ``instruments`` and ``phase`` sections."""
    from entropy_dynamics.train.config import ERUPTION_REACTIONS

    inst, phase = cfg.instruments, cfg.phase
    _check(inst.every >= 1, f"'instruments.every' must be >= 1 (got {inst.every!r})")
    _check(inst.max_samples >= 2, f"'instruments.max_samples' must be >= 2 (got {inst.max_samples!r})")
    _check(bool(phase.metric), "'phase.metric' must name a metric, e.g. policy/entropy")
    unknown = [r for r in phase.on_eruption if r not in ERUPTION_REACTIONS]
    _check(not unknown, f"'phase.on_eruption': unknown reaction {unknown[0]!r}; choose from "
                        f"{', '.join(ERUPTION_REACTIONS)}" if unknown else "")
    _check(phase.seal_factor > 1, f"'phase.seal_factor' must be > 1 (got {phase.seal_factor!r})")
    _check(phase.seal_max > 0, f"'phase.seal_max' must be > 0 (got {phase.seal_max!r})")
    total = phase.total_steps
    _check(total in ("auto", None) or (isinstance(total, int) and not isinstance(total, bool) and total >= 1),
           f"'phase.total_steps' must be auto, null or an integer >= 1 (got {total!r})")
    _check(not (phase.enabled and "raise_seal" in phase.on_eruption and not cfg.seal_on),
           "'phase.on_eruption' raise_seal needs SEAL on (seal.coef > 0): there is no head to weight")


def to_dict(cfg) -> dict[str, Any]:
    """The resolved config as plain data (for the log header and checkpoints)."""
    return dataclasses.asdict(cfg)


def describe(cls: type | None = None, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, default, help) for every field, nested sections flattened with dots (for docs and --help)."""
    from entropy_dynamics.train.config import TrainConfig

    cls = cls or TrainConfig
    rows: list[tuple[str, Any, str]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            rows.extend(describe(hints[f.name], prefix=f"{prefix}{f.name}."))
        else:
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            rows.append((f"{prefix}{f.name}", default, f.metadata.get("help", "")))
    return rows
