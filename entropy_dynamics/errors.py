"""User-facing errors: each renders as one line that says what is wrong and where."""

from __future__ import annotations


class EntropyDynamicsError(Exception):
    """Base class for errors caused by the user's input (files, names, settings).

    The CLI prints ``str(error)`` as a single line and exits with code 2.
    """


class LogReadError(EntropyDynamicsError):
    """A log could not be read: the message names the file and, when known, the line."""

    def __init__(self, path: object, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ConfigError(EntropyDynamicsError):
    """A configuration key or value is invalid."""


class MetricNotFoundError(EntropyDynamicsError):
    """A requested metric is not in a run; the message lists what is available."""
