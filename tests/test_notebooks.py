"""The notebooks execute top to bottom on the shipped sample logs (so they never rot)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def python3_kernel() -> str:
    """The `python3` kernel spec the notebooks name; installed for this interpreter when missing (fresh CI)."""
    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(user=True, kernel_name="python3")
    return "python3"


def test_there_are_four_notebooks_with_cleared_outputs():
    assert {p.stem for p in NOTEBOOKS} == {"analyze_run", "compare_grpo_seal", "seal_question", "wandb_project"}
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, path.name
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name}: outputs not cleared"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_sample_logs(path: Path, python3_kernel: str, monkeypatch):
    monkeypatch.setenv("ENTROPY_DYNAMICS_SAMPLE_LOGS", str(ROOT / "sample_logs"))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name=python3_kernel, timeout=120,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    produced = [c for c in nb.cells if c.cell_type == "code" and c.outputs]
    assert len(produced) >= 3, f"{path.name}: expected visible results"
