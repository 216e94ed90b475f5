"""Every input of the bad-input corpus (``bad_corpus.py``) through inspect, inspect --strict, analyze and
report: the documented outcome, one line per problem, nothing from the data reaches the terminal raw."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from entropy_dynamics.cli.main import main
from tests.cli.bad_corpus import CASES, Case

_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _input(case: Case, tmp_path: Path) -> str:
    return str(case.write(tmp_path))


def _assert_one_line_error(code: int, err: str, expected: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, err[:2000]
    assert len(lines) == 1 and lines[0].startswith("error: "), err[:2000]
    assert expected in lines[0], lines[0][:2000]


def _assert_read(code: int, out: str, err: str, case: Case) -> list[str]:
    assert code == 0, err[:2000]
    lines = err.strip().splitlines()
    assert all(line.startswith("warning: ") for line in lines), err[:2000]
    assert len(lines) == case.warnings, err[:2000]
    assert not _RAW_CONTROL.search(out + err)
    return lines


def _ids(cases: list[Case]) -> list[str]:
    return [c.name for c in cases]


def test_the_corpus_has_over_100_inputs():
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_inspect(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "inspect", _input(case, tmp_path))
    if case.error is not None:
        _assert_one_line_error(code, err, case.error)
        return
    _assert_read(code, out, err, case)
    assert len(out) < 200_000  # names are capped in the table, whatever their length
    if case.shows is not None:
        assert case.shows in out


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_inspect_strict(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _cli(capsys, "inspect", "--strict", "--format", "json", _input(case, tmp_path))
    expected = case.strict_error or case.error
    if expected is not None:
        _assert_one_line_error(code, err, expected)
    else:
        _assert_read(code, "", err, case)


@pytest.mark.parametrize("case", [c for c in CASES if c.error is None], ids=_ids([c for c in CASES if c.error is None]))
def test_analyze_shows_the_reader_warnings(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _input(case, tmp_path)
    _, _, inspect_err = _cli(capsys, "inspect", path, "--format", "json")
    code, out, err = _cli(capsys, "analyze", path)
    lines = err.strip().splitlines()
    if not case.entropy:
        assert code == 2 and lines[-1].startswith("error: ") and "no metric" in lines[-1], err[:2000]
        lines = lines[:-1]
    else:
        assert code == 0, err[:2000]
    reader_warnings = inspect_err.strip().splitlines()
    assert lines[: len(reader_warnings)] == reader_warnings
    assert all(line.startswith("warning: ") for line in lines)
    assert not _RAW_CONTROL.search(out + err)


SHOWN = [c for c in CASES if c.shows is not None or c.name.startswith(("jsonl run name", "wandb offline 2 KB"))]


@pytest.mark.parametrize("case", SHOWN, ids=_ids(SHOWN))
def test_report_and_compare(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _input(case, tmp_path)
    other = str(CASES[0].write(tmp_path / "other" if (tmp_path / "other").mkdir() is None else tmp_path))
    code, out, err = _cli(capsys, "report", path, "--out", str(tmp_path / "r.html"))
    assert code == 0, err[:2000]
    assert len(err.strip().splitlines()) == case.warnings
    code, out, err = _cli(capsys, "compare", path, other, "--out", str(tmp_path / "c.html"))
    assert code == 0, err[:2000]
    assert not _RAW_CONTROL.search(out + err)
    if case.shows is not None and "run name" in case.name:
        assert case.shows in out


def test_output_paths_that_cannot_be_written_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = CASES[0].write(tmp_path)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for args, expected in [
        (["inspect", str(log), "--out", str(a_file / "x.json"), "--format", "json"], "file: a file is in the way"),
        (["inspect", str(log), "--out", str(a_file / "x.txt")], "file: a file is in the way"),
        (["analyze", str(log), "--out", str(a_file / "x.json"), "--format", "json"], "file"),
        (["report", str(log), "--out", str(tmp_path)], str(tmp_path)),
        (["compare", str(log), str(log), "--out", str(a_file / "c.html")], "file"),
        (["inspect", str(log), "--reader", "nope"], "unknown format 'nope'"),
        (["watch", str(tmp_path / "missing.jsonl"), "--follow", "--timeout", "0"], "missing.jsonl"),
    ]:
        code, _, err = _cli(capsys, *args)
        _assert_one_line_error(code, err, expected)


def test_library_warnings_are_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """numpy / scipy / pandas warnings (overflow on values near 1e308, a fit without covariance) are one
    ``warning:`` line each, never the source line Python prints under them."""
    log = tmp_path / "m.jsonl"
    log.write_text("".join(f'{{"step": {s}, "entropy": {1 + 0.1 * (s % 7)}, "reward": {(-1) ** s * 1e308}}}\n'
                           for s in range(1, 80)))
    report = ["report", str(log), "--out", str(tmp_path / "r.html")]
    for args in (["analyze", str(log), "--table", "--no-cache"], report):
        code, _, err = _cli(capsys, *args)
        lines = err.strip().splitlines()
        assert code == 0 and any(line.startswith("warning: RuntimeWarning: ") for line in lines), err
        assert all(line.startswith("warning: ") for line in lines), err
