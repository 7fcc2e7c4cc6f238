"""The Python interface: check, compile and load specs."""

from __future__ import annotations

import gc
import types
from pathlib import Path

from contextlib import contextmanager

from . import ir
from .checker import check
from .diagnostics import Diagnostic, NcdcError
from .imports import Parses, parse_once, resolve
from .names import python_name
from .syntax import nesting_error


def check_source(text: str, path: str = "<string>", sizes: dict[str, int] | None = None,
                 shared: Parses | None = None) -> ir.Program:
    """Parse and check spec text; raises NcdcError with diagnostics on errors in it.  `shared`: the
    parses of specs checked together (`imports.Parses`)."""
    with _nesting_guard(path), _fewer_collections():
        return check(resolve(parse_once(text, path, shared), path, shared), path, sizes)


@contextmanager
def _fewer_collections():
    """Checking allocates many small objects that all live until the end, and makes no cyclic
    garbage to speak of: with the collector on, Python scans the whole growing heap again and again
    while a large spec is checked (most of the time for 10,000 statements).  Pause it meanwhile.

    When it is done, what was made meanwhile (the checked program: 700,000 objects for 10,000 defs)
    goes straight to the oldest generation, where a collection would have moved what survives it:
    otherwise the first young collection after it scans all of it once more, finding nothing to free
    (0.4-0.5 s of a 10,000-def check).  Cycles of garbage among it are freed by the next full
    collection, as those of any long-lived objects are.  Only where nothing was frozen before
    (`gc.freeze`), which unfreezing would undo."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()  # both move whole lists of objects: no object is visited
                gc.unfreeze()
            gc.enable()


@contextmanager
def _nesting_guard(path: str):
    """An absurdly nested spec is an error in the input, not a crash."""
    try:
        yield
    except RecursionError:
        raise NcdcError(nesting_error(path)) from None


def read_spec(path: str | Path) -> str:
    """A spec file's text; raises NcdcError if it is not UTF-8 (and OSError if it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise NcdcError(Diagnostic("E0005", f"{path} is not UTF-8 text", None,
                                   notes=[f"byte {error.start} cannot be decoded"],
                                   help="save the spec as UTF-8", file=str(path))) from None


def check_file(path: str | Path, sizes: dict[str, int] | None = None) -> ir.Program:
    return check_source(read_spec(path), str(path), sizes)


def compile_source(text: str, path: str = "<string>", *, stubs: bool = False,
                   sizes: dict[str, int] | None = None, cost_docstrings: bool = False) -> str:
    """PyTorch source for spec text (deterministic: the same text gives the same bytes); with
    `cost_docstrings`, each module's and def's docstring gives its cost formulas."""
    return generate_source(check_source(text, path, sizes), path, stubs=stubs, cost_docstrings=cost_docstrings)


def generate_source(program: ir.Program, path: str = "<string>", *, stubs: bool = False,
                    cost_docstrings: bool = False) -> str:
    """PyTorch source for a checked program (`check_source`'s result)."""
    from .backend.torch import generate

    with _nesting_guard(path), _fewer_collections():
        return generate(program, stubs=stubs, cost_docstrings=cost_docstrings)


def compile_file(path: str | Path, *, stubs: bool = False, sizes: dict[str, int] | None = None,
                 cost_docstrings: bool = False) -> str:
    return compile_source(read_spec(path), str(path), stubs=stubs, sizes=sizes, cost_docstrings=cost_docstrings)


def load(path: str | Path, *, stubs: bool = False, sizes: dict[str, int] | None = None) -> types.ModuleType:
    """Compile a spec and import the result: its classes and functions under their spec names.

    The generated source is written to ncdc's cache of generated files and imported as the module
    `ncdc_generated.<stem>_<hash>` (see `ncdc.generated`), so that loaded models pickle, `torch.save`
    whole, and show their source in tracebacks and `inspect`.  Loading the same spec text from the
    same path with the same options again gives the same module."""
    from .generated import import_generated, module_name

    path = Path(path)
    text = read_spec(path)
    program = check_source(text, str(path), sizes)
    source = generate_source(program, str(path), stubs=stubs)
    name = module_name(text, str(path), {"stubs": stubs, "sizes": sorted((sizes or {}).items())}, source)
    module = import_generated(name, source)
    attach_drawings(module, program)
    return module


def attach_drawings(module: types.ModuleType, program: ir.Program) -> None:
    """In a notebook, a loaded spec, its classes and their models, and its functions display as
    their diagrams (`_repr_svg_`, drawn when first asked for)."""
    from .backend.draw import draw

    def drawing(name: str | None):
        def _repr_svg_(*_) -> str:
            return draw(program, name)
        return _repr_svg_

    module._repr_svg_ = drawing(None)  # type: ignore[attr-defined]
    for name in [f.name for f in program.functions] + [m.name for m in program.modules]:
        target = getattr(module, python_name(name), None)  # the name as Python folds it (NFKC)
        if target is not None:
            try:
                target._repr_svg_ = drawing(name)
            except (AttributeError, TypeError):  # an object that takes no attributes
                pass
