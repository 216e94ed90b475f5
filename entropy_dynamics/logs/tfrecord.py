"""TFRecord framing (TensorBoard event files) with CRC-32C checks and re-sync after corruption.

A record is ``length u64 | masked_crc32c(length) u32 | data | masked_crc32c(data) u32``. The CRCs are
computed with numpy over all records at once (byte position by byte position), so checking costs
little next to decoding. After a bad record the reader searches forward for the next offset where a
header's CRC and its data's CRC both hold, and goes on from there; what it skipped is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_POLY = 0x82F63B78
#: Data CRCs are checked for records up to this size (scalar events are ~50 bytes); larger ones (images,
#: histograms) rely on their length CRC, as a byte-by-byte check of megabytes would dominate reading.
MAX_CHECKED_DATA = 65536
_WINDOW = 1 << 20


def _table() -> np.ndarray:
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(_POLY), crc >> 1).astype(np.uint32)
    return crc


_TABLE = _table()


def crc32c(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(n,) uint32 CRC-32C of the byte ranges ``buf[starts[i] : starts[i] + lengths[i]]``."""
    order = np.argsort(-lengths, kind="stable")
    starts_sorted, lengths_sorted = starts[order], lengths[order]
    crc = np.full(len(starts), 0xFFFFFFFF, dtype=np.uint32)
    longest = int(lengths_sorted[0]) if len(lengths_sorted) else 0
    # active[i]: how many (sorted, longest first) ranges are longer than i
    active = np.searchsorted(-lengths_sorted, -np.arange(longest), side="left")
    for i in range(longest):
        n = int(active[i])
        part = crc[:n]
        crc[:n] = _TABLE[(part ^ buf[starts_sorted[:n] + i]) & 0xFF] ^ (part >> 8)
    result = np.empty_like(crc)
    result[order] = crc ^ np.uint32(0xFFFFFFFF)
    return result


def masked(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint32)
    return (((crc >> 15) | (crc << 17)) + np.uint32(0xA282EAD8)).astype(np.uint32)


def _u32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    return (buf[at].astype(np.uint32) | buf[at + 1].astype(np.uint32) << 8 | buf[at + 2].astype(np.uint32) << 16
            | buf[at + 3].astype(np.uint32) << 24)


@dataclass
class Records:
    """What :func:`read_records` found in one file."""

    payloads: list[bytes] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    skipped: list[tuple[int, int]] = field(default_factory=list)
    """``(offset, bytes)`` of every corrupt stretch passed over."""
    partial_tail: int = 0
    """Bytes of a last record still being written (its header is sound, its data incomplete)."""


def _walk(data: bytes, pos: int) -> tuple[list[int], list[int], int]:
    """Record starts and lengths from ``pos`` trusting each length field, until one does not fit."""
    starts, lengths = [], []
    size = len(data)
    while pos + 12 <= size:
        length = int.from_bytes(data[pos : pos + 8], "little")
        if pos + 16 + length > size:
            break
        starts.append(pos)
        lengths.append(length)
        pos += 16 + length
    return starts, lengths, pos


def _sound(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(n,) bool: the header CRC holds, and the data CRC too where the data is small enough to check."""
    if not len(starts):
        return np.zeros(0, dtype=bool)
    ok = masked(crc32c(buf, starts, np.full(len(starts), 8))) == _u32(buf, starts + 8)
    small = ok & (lengths <= MAX_CHECKED_DATA)
    if small.any():
        data_crc = masked(crc32c(buf, starts[small] + 12, lengths[small]))
        ok[np.flatnonzero(small)] = data_crc == _u32(buf, starts[small] + 12 + lengths[small])
    return ok


def _resync(data: bytes, buf: np.ndarray, start: int) -> int | None:
    """The first offset at or after ``start`` where a whole sound record begins, or None."""
    size = len(data)
    for window in range(start, max(start, size - 15), _WINDOW):
        offsets = np.arange(window, min(window + _WINDOW, size - 15), dtype=np.int64)
        header_ok = masked(crc32c(buf, offsets, np.full(len(offsets), 8))) == _u32(buf, offsets + 8)
        for candidate in offsets[header_ok].tolist():
            length = int.from_bytes(data[candidate : candidate + 8], "little")
            if candidate + 16 + length <= size and _sound(buf, np.array([candidate]), np.array([length]))[0]:
                return candidate
    return None


def read_records(data: bytes) -> Records:
    """Every sound record of a TFRecord file, in order, re-syncing after corrupt stretches."""
    buf = np.frombuffer(data, dtype=np.uint8)
    found = Records()
    pos = 0
    while pos < len(data):
        starts, lengths, end = _walk(data, pos)
        ok = _sound(buf, np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64))
        bad = int(np.argmin(ok)) if len(ok) and not ok.all() else len(starts)
        for s, n in zip(starts[:bad], lengths[:bad], strict=True):
            found.payloads.append(data[s + 12 : s + 12 + n])
            found.offsets.append(s)
        if bad == len(starts):
            if end >= len(data):
                break
            header_sound = end + 12 <= len(data) and bool(
                masked(crc32c(buf, np.array([end]), np.array([8])))[0] == _u32(buf, np.array([end + 8]))[0])
            if header_sound or len(data) - end < 12:
                found.partial_tail = len(data) - end
                break
            bad_at = end
        else:
            bad_at = starts[bad]
        next_sound = _resync(data, buf, bad_at + 1)
        found.skipped.append((bad_at, (len(data) if next_sound is None else next_sound) - bad_at))
        if next_sound is None:
            break
        pos = next_sound
    return found
