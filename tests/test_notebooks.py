"""Execute every committed notebook, so that they never rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_the_five_notebooks_are_there() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_replicate_technocratic_planning",
        "03_ai_in_government_themes",
        "04_human_in_the_loop",
        "05_codebook_development",
    ]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    # committed with outputs, so that they read well on a code host
    assert any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
