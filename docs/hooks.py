"""MkDocs hooks: the site's home page is the README (one text, links rewritten from the repository root to the
docs folder), so the two never drift apart."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_as_home(text: str) -> str:
    """The README with its ``docs/...`` links made relative to the docs folder."""
    text = re.sub(r"\]\(docs/", "](", text)
    return text.replace("](index.md)", "](#documentation)")


def on_page_markdown(markdown: str, page, config, files) -> str:  # the MkDocs hook signature
    if page.file.src_uri == "index.md":
        return readme_as_home(README.read_text(encoding="utf-8"))
    return markdown
