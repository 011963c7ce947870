import json
import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = os.path.join(os.path.dirname(__file__), "..", "..", "notebooks")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec for this interpreter, which has fcnlab installed (the
    system-wide 'python3' kernel may be another Python)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "fcnlab-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fcnlab test", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(root)
    os.environ["FCNLAB_NOTEBOOK_SMALL"] = "1"
    return "fcnlab-test"


@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "02_net_surgery.ipynb", "03_pytorch_loop.ipynb"])
def test_notebook_runs_without_errors(name, kernel, tmp_path):
    notebook = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    # Raises CellExecutionError on the first failing cell.
    NotebookClient(notebook, timeout=600, kernel_name=kernel,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
