"""Shared test set-up: the hand-written references are importable as `notebook` and `vision`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))


@pytest.fixture(scope="session")
def spec_path():
    return lambda name: SPECS / name
