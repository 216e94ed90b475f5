"""Text logs in the encodings editors and Windows tools write: UTF-8 (with or without BOM), UTF-16, UTF-32."""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def sniff_encoding(head: bytes) -> str:
    """The encoding of a text file from its first bytes: a UTF-16/32 byte-order mark, or NUL bytes
    between ASCII characters (UTF-16 without a mark); ``utf-8-sig`` otherwise (a UTF-8 BOM is dropped)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    return "utf-8-sig"


def as_utf8(data: bytes) -> tuple[bytes, str | None]:
    """``data`` as UTF-8 bytes and, when it was another encoding, that encoding's name. Undecodable
    UTF-16 is replaced by U+FFFD, so a damaged file still yields its readable lines; so are JSON escapes
    of lone surrogates (``"\\ud800"``), which no file or terminal can write back out."""
    encoding = sniff_encoding(data[:4096])
    if encoding == "utf-8-sig":
        data = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    else:
        data = data.decode(encoding, errors="replace").encode("utf-8")
    if _ANY_SURROGATE.search(data):
        data = _SURROGATE_ESCAPE.sub(lambda m: m.group() if len(m.group()) == 12 else b"\\ufffd", data)
    return data, None if encoding == "utf-8-sig" else encoding


_ANY_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
#: A surrogate pair (kept: JSON joins it into one character) or a lone surrogate escape (replaced).
_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

