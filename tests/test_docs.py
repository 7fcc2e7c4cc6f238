"""The language reference: every spec in it checks, and what it pastes is what the compiler says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TEXT = (DOCS / "language.md").read_text(encoding="utf-8")
BLOCKS = {f"line {TEXT.count(chr(10), 0, m.start()) + 1}": m.group(1)
          for m in re.finditer(r"^```ncd\n(.*?)^```$", TEXT, re.M | re.S)}


def test_the_reference_has_specs():
    assert len(BLOCKS) > 20


@pytest.mark.parametrize("spec", BLOCKS.values(), ids=BLOCKS.keys())
def test_every_ncd_block_checks(spec):
    ncdc.check_source(spec, "language.md")


def test_the_reference_is_built_from_its_source():
    result = subprocess.run([sys.executable, str(DOCS / "build.py"), "--check"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, "run `python docs/build.py` and read the diff:\n" + result.stdout + result.stderr
