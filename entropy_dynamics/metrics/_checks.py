"""Input checks shared by the metric functions: each failure is one clear line."""

from __future__ import annotations

from entropy_dynamics.errors import EntropyDynamicsError


class MetricInputError(EntropyDynamicsError, ValueError):
    """A metric function was given inputs of the wrong shape, type or value."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`MetricInputError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise MetricInputError(message)


def require_same_shape(name_a: str, shape_a: tuple[int, ...], name_b: str, shape_b: tuple[int, ...]) -> None:
    """Raise unless two shapes are equal, naming both inputs."""
    require(
        tuple(shape_a) == tuple(shape_b),
        f"{name_a} has shape {tuple(shape_a)} but {name_b} has shape {tuple(shape_b)}; they must match",
    )
