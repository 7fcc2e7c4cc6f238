"""ncdc, the neural circuit diagram compiler: .ncd specs to checked, readable PyTorch."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import check_file, check_source, compile_file, compile_source, load  # noqa: E402
from .diagnostics import Diagnostic, NcdcError  # noqa: E402
from .tracker import Tracker  # noqa: E402
from .cost import cost  # noqa: E402

__all__ = ["check_source", "check_file", "compile_source", "compile_file", "load", "Diagnostic", "NcdcError", "Tracker",
           "cost", "__version__"]
