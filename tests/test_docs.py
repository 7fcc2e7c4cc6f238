"""The language reference: every spec in it checks, and what it pastes is what the compiler says."""

from __future__ import annotations

import os
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


NOISY_SOURCE = """\
# A reference

```ncd
def f(X: a) -> a:
    return X
```

@@py f

```text
def g(X: a) -> b:
    return X
```

@@err

@@run ncdc check x.ncd
"""


def test_nothing_on_standard_error_reaches_the_reference(tmp_path):
    """A warning that every tool prints on standard error (torch's, when NumPy is missing) fails the
    build loudly instead of being pasted into the reference."""
    noise = tmp_path / "noise"
    noise.mkdir()
    (noise / "sitecustomize.py").write_text(
        "import sys\nsys.stderr.write(\"UserWarning: Failed to initialize NumPy: No module named 'numpy'\\n\")\n")
    source, output = tmp_path / "src.md", tmp_path / "out.md"
    source.write_text(NOISY_SOURCE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(noise)}
    result = subprocess.run([sys.executable, str(DOCS / "build.py"), str(source), "-o", str(output)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 1
    assert "standard error" in result.stderr and "Failed to initialize NumPy" in result.stderr
    assert result.stderr.count("printed") >= 3  # the compile, @@err and @@run each report it
    assert not output.exists()


def test_a_quiet_build_of_the_same_source_pastes_only_standard_output(tmp_path):
    source, output = tmp_path / "src.md", tmp_path / "out.md"
    source.write_text(NOISY_SOURCE, encoding="utf-8")
    result = subprocess.run([sys.executable, str(DOCS / "build.py"), str(source), "-o", str(output)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    text = output.read_text(encoding="utf-8")
    assert "error[E0302]" in text and "$ ncdc check x.ncd\nchecked 1 spec: ok\n" in text
    assert "Warning" not in text
