"""Load, override and serialise :class:`TrainConfig` (YAML + ``--set key=value``); the checks of the values
are in :mod:`~entropy_dynamics.train.config_checks` (run by the config itself)."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml

from entropy_dynamics.errors import ConfigError
from entropy_dynamics.train.config import TrainConfig


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """Read an optional YAML file, apply ``key=value`` overrides (dotted keys, YAML-typed values) and
    return a validated ``TrainConfig``. Any problem raises a one-line :class:`ConfigError`."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:  # a binary file, or a config saved as UTF-16
            raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
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


def to_dict(cfg) -> dict[str, Any]:
    """The resolved config as plain data (for the log header and checkpoints)."""
    return dataclasses.asdict(cfg)


def describe(cls: type | None = None, prefix: str = "") -> list[tuple[str, Any, str]]:
    """(key, default, help) for every field, nested sections flattened with dots (for docs and --help)."""
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
