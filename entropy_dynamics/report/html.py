"""Page rendering: jinja2 (autoescaped) templates with plotly.js inlined once in <head>."""

from __future__ import annotations

import datetime as _dt
import functools
import os
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from entropy_dynamics import __version__
from entropy_dynamics.errors import EntropyDynamicsError

PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]}


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment: every ``{{ value }}`` is HTML-escaped unless marked safe."""
    return Environment(loader=PackageLoader("entropy_dynamics.report", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@functools.lru_cache(maxsize=1)
def plotly_js() -> Markup:
    """plotly.min.js as shipped with the installed plotly (checked to hold no ``</script``)."""
    source = plotly.offline.get_plotlyjs()
    if "</script" in source.lower():
        raise EntropyDynamicsError("the installed plotly.js cannot be inlined safely (contains '</script')")
    return Markup(source)


def figure_div(fig: go.Figure, div_id: str) -> Markup:
    """A figure as a <div> + <script> fragment that uses the page's plotly.js.

    Strings inside the figure are JSON-encoded by plotly with ``<`` / ``>`` / ``/`` as unicode escapes,
    so a ``</script>`` in a label cannot end the script; labels from logs are also HTML-escaped
    before they reach plotly (see :func:`entropy_dynamics.report.theme.esc`).
    """
    return Markup(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOT_CONFIG))


def render_page(template: str, **context: Any) -> str:
    """Render a template with the shared context (plotly.js, version, creation time)."""
    created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return environment().get_template(template).render(
        plotly_js=plotly_js(), version=__version__, created=created, **context)


def write_page(text: str, out: str | os.PathLike[str]) -> Path:
    """Write the page atomically (a half-written report never replaces a good one)."""
    path = Path(out)
    if path.is_dir():
        raise EntropyDynamicsError(f"{path}: is a folder; give a file name such as report.html")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise EntropyDynamicsError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
    return path
