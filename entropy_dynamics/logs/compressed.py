"""Gzip-compressed logs (``metrics.jsonl.gz``, ``trainer_state.json.gz``, ``progress.csv.gz``, ...): read as the
file they hold, which is judged by its own name (the ``.gz`` dropped) and first bytes."""

from __future__ import annotations

import contextlib
import gzip
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from entropy_dynamics.errors import LogReadError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is a gzip file (by its first two bytes, whatever its name)."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def inner_name(path: Path) -> str:
    """The name of the file a gzip file holds: ``metrics.jsonl.gz`` -> ``metrics.jsonl`` (``.tgz`` is refused:
    an archive of several files is not one log)."""
    name = path.name
    if name.lower().endswith(".tgz") or name.lower().endswith(".tar.gz"):
        raise LogReadError(path, "a tar archive holds several files: unpack it and read the folder")
    return name[:-3] if name.lower().endswith(".gz") else name


@contextlib.contextmanager
def gunzipped(path: Path, notes: list[str] | None = None) -> Iterator[Path]:
    """The decompressed copy of ``path`` in a temporary folder (removed afterwards), under :func:`inner_name` in a
    sub-folder named as ``path``'s own folder, so run names taken from the folder stay the same. A truncated gzip
    file (a copy cut short) gives what was decompressed before the cut; bytes after the last complete member (junk
    appended to a finished file) are passed over, and said in ``notes``."""
    with tempfile.TemporaryDirectory(prefix="entropy-dynamics-") as folder:
        inner = Path(folder) / (path.resolve().parent.name or "run") / inner_name(path)
        inner.parent.mkdir()
        with gzip.open(path, "rb") as src, open(inner, "wb") as dst:
            try:
                while chunk := src.read1(_CHUNK):  # read1: a chunk read before an error is written, not dropped
                    dst.write(chunk)
            except EOFError:
                pass  # cut short: keep what came before (the readers skip a half-written last line)
            except gzip.BadGzipFile as exc:
                # "Not a gzipped file" after decompressed data: every member before it passed its CRC check
                if not (str(exc).startswith("Not a gzipped file") and dst.tell() > 0):
                    raise LogReadError(path, f"not a readable gzip file ({exc})") from None
                if notes is not None:
                    notes.append(f"{path}: bytes after the compressed data (not gzip) passed over")
            except zlib.error as exc:  # damaged compressed data (a flipped byte)
                raise LogReadError(path, f"not a readable gzip file ({exc})") from None
        if inner.stat().st_size == 0:
            raise LogReadError(path, "holds no data after decompression (empty, or cut short in its gzip header)")
        yield inner


@contextlib.contextmanager
def named_as(inner: Path, outer: Path) -> Iterator[None]:
    """Errors raised inside name ``outer`` (the ``.gz`` file the user gave) instead of its decompressed temporary
    copy ``inner``, which is gone once the command ends."""
    try:
        yield
    except LogReadError as exc:
        path = exc.path.replace(str(inner), str(outer))
        raise LogReadError(path, exc.message.replace(str(inner), str(outer)), exc.line) from None
