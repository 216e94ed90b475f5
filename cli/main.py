"""Entry point of the ``entropy-dynamics`` console script."""

from __future__ import annotations

import sys
import traceback
import warnings
from pathlib import Path
from typing import Annotated

import typer
from typer._click import exceptions as click_errors  # typer vendors click: its own exception classes

from entropy_dynamics import __version__
from entropy_dynamics.cli.common import LINE_LIMIT, STATE, clean, err, warn
from entropy_dynamics.cli.lazy import LazyCommandGroup, plain_flags
from entropy_dynamics.errors import EntropyDynamicsError

app = typer.Typer(
    cls=LazyCommandGroup,
    name="entropy-dynamics",
    help="See what agent RL training is doing: read any run, find its entropy phases, report, train with SEAL.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    STATE["debug"] = debug


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one line and exit 2, never a traceback (unless --debug)."""
    args = sys.argv[1:] if argv is None else argv
    STATE["debug"] = "--debug" in args
    if not args:
        args = ["--help"]
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            command = plain_flags(typer.main.get_command(app))
            code = command.main(args=args, prog_name="entropy-dynamics", standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C (and our SIGTERM handler's KeyboardInterrupt) into exit code 130
            err.print("interrupted", markup=False)
        return code if isinstance(code, int) else 0
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except click_errors.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help())
        return 0
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "entropy-dynamics"
        message = " ".join(exc.format_message().split())
        _line(f"{where}: {message} (see --help)")
        return 2
    except click_errors.ClickException as exc:
        _line(" ".join(exc.format_message().split()))
        return exc.exit_code
    except EntropyDynamicsError as exc:
        if STATE["debug"]:
            traceback.print_exc()
        _line(str(exc))
        return 2
    except OSError as exc:  # an output path that cannot be written (a file where a folder goes, no space...)
        if STATE["debug"]:
            traceback.print_exc()
        where = exc.filename if exc.filename is not None else "output"
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            _line(f"{where}: a file is in the way where a folder is needed")
        else:
            _line(f"{where}: cannot write or read: {exc.strerror or type(exc).__name__}")
        return 2
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return 130
    except Exception as exc:  # the contract: one line, no traceback
        if STATE["debug"]:
            traceback.print_exc()
        else:
            _line(f"{type(exc).__name__}: {' '.join(str(exc).split())} (run with --debug for details)")
        return 1
    return 0


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: object = None, line: str | None = None) -> None:
    """A Python warning raised by a library (numpy overflow on values near 1e308, a fit that cannot estimate its
    covariance, pandas falling back to another parser...) as one ``warning:`` line, not the source line under it."""
    where = Path(filename).stem if STATE["debug"] is False else f"{filename}:{lineno}"
    warn(f"{category.__name__}: {' '.join(str(message).split())} ({where})")


def _line(message: str) -> None:
    err.print(f"error: {clean(message, LINE_LIMIT)}", markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
