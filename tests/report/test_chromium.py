"""Without Chromium the browser tests fail with one line naming the install command (never skip, never EACCES)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .chromium import INSTALL, find_chromium, missing_message

REPO = Path(__file__).resolve().parents[2]


def test_find_chromium_honours_chromium_and_path(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    assert find_chromium({}, path=str(tmp_path)) is None  # not executable: never handed to playwright (EACCES)
    fake.chmod(0o755)
    assert find_chromium({}, path=str(tmp_path)) == str(fake)
    assert find_chromium({"CHROMIUM": str(fake)}, path="") == str(fake)
    assert find_chromium({"CHROMIUM": str(tmp_path / "nope")}, path=str(tmp_path)) is None
    assert INSTALL in missing_message()


def test_the_browser_tests_fail_with_the_install_command_when_chromium_is_missing(tmp_path):
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-chromium"), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rfEs",
                           "tests/report/test_browser.py::test_comparison_renders"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:]
    summary = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR", "SKIPPED"))]
    assert len(summary) == 1 and summary[0].startswith("FAILED"), done.stdout[-2000:]
    assert f"`{INSTALL}`" in summary[0]
