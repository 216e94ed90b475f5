"""The analysis side must not pull in the deep-learning stack (not even indirectly)."""

import subprocess
import sys

CODE = """
import sys
import entropy_dynamics.logs, entropy_dynamics.analysis, entropy_dynamics.report, entropy_dynamics.cli.main
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
print(",".join(heavy))
"""


def test_analysis_side_imports_without_torch_or_transformers():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"imported: {done.stdout.strip()}"
