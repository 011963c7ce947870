import os
import sys

import pytest
import torch

# The plain PyTorch FCN-Alexnet, written independently from the design notes.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peers"))


def pytest_sessionstart(session):
    import fcnlab
    fcnlab.reuse_freed_memory()  # as the CLI does


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)
    torch.set_num_threads(2)
