"""Shared test set-up: the hand-written references are importable as `notebook` and `vision`."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
sys.path.insert(0, str(Path(__file__).resolve().parent / "reference"))

# ncdc.load caches generated files: in a throw-away folder, never the user's home (subprocesses inherit it).
_CACHE = tempfile.mkdtemp(prefix="ncdc-test-cache-")
os.environ["NCDC_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture(scope="session")
def spec_path():
    return lambda name: SPECS / name
