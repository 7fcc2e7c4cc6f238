"""ncdc, the neural circuit diagram compiler: .ncd specs to checked, readable PyTorch."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import check_file, check_source, compile_file, compile_source, load  # noqa: E402
from .diagnostics import Diagnostic, NcdcError  # noqa: E402
from .tracker import Tracker  # noqa: E402
from .generated import install as _install_finder  # noqa: E402

_install_finder()  # saved models of loaded specs unpickle in a fresh process that imports ncdc

__all__ = ["check_source", "check_file", "compile_source", "compile_file", "load", "Diagnostic", "NcdcError", "Tracker",
           "cost", "__version__"]


def cost(spec, module=None, sizes=None, batch=None, dtype="float32", fast_memory=None, machine=None,
         machine_file=None):
    """Parameters, FLOPs, memory, transfers and the roofline bound of a spec's modules and defs: see
    docs/cost.md and `ncdc.backend.cost.cost` (imported here only when called: `import ncdc` stays light)."""
    from .backend.cost import cost as run

    return run(spec, module, sizes, batch, dtype, fast_memory, machine, machine_file)
