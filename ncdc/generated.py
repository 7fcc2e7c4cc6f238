"""Loaded specs as real, importable modules.

`ncdc.load` writes a spec's generated source to a cache of generated files and imports it as
`ncdc_generated.<stem>_<hash>`, so that its classes and functions can be found by module and
qualified name: pickling, `torch.save` of whole models, `inspect.getsource`, tracebacks with source
lines and `torch.compile` all work.  Importing ncdc installs a meta-path finder that finds these
modules in the cache again, so a fresh process that imports ncdc can `torch.load` a saved model.

The cache is `$NCDC_CACHE_DIR`, else `$XDG_CACHE_HOME/ncdc`, else `~/.cache/ncdc`; the generated
files are in its `generated` folder.  Nothing is ever written next to a spec.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
import sys
import types
from pathlib import Path

PACKAGE = "ncdc_generated"


def cache_dir() -> Path:
    """The folder of generated files (not created here)."""
    root = os.environ.get("NCDC_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "generated"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ncdc" / "generated"


def module_name(text: str, path: str, options: dict, source: str = "") -> str:
    """`ncdc_generated.<stem>_<hash>`: the hash of the spec's text, path, options and ncdc's version
    (and of the generated source, so that a file in the cache is never stale)."""
    import hashlib
    import json

    from . import __version__

    key = json.dumps({"version": __version__, "path": path, "abspath": os.path.abspath(path),
                      "options": options, "text": text, "source": source}, sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    stem = re.sub(r"\W", "_", Path(path).stem, flags=re.ASCII) or "spec"
    if stem[0].isdigit():
        stem = "_" + stem
    return f"{PACKAGE}.{stem}_{digest}"


def _write_atomically(file: Path, source: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    data = source.encode("utf-8")
    try:
        if file.read_bytes() == data:
            return
    except OSError:
        pass
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, file)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def import_generated(name: str, source: str) -> types.ModuleType:
    """Write `source` to the cache as module `name` (if it is not there already) and import it."""
    install()
    file = cache_dir() / (name.rpartition(".")[2] + ".py")
    try:
        _write_atomically(file, source)
    except OSError:  # no writable cache: a module of its own, that does not pickle
        return _in_memory(name, source)
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(file):
        return loaded  # same text, path and options: the same module, as with any import
    sys.modules.pop(name, None)
    importlib.invalidate_caches()
    package = sys.modules.get(PACKAGE) or importlib.import_module(PACKAGE)
    module = importlib.import_module(name)
    setattr(package, name.rpartition(".")[2], module)
    return module


def _in_memory(name: str, source: str) -> types.ModuleType:
    import linecache

    module = types.ModuleType(name)
    module.__file__ = f"<ncdc:{name}>"
    linecache.cache[module.__file__] = (len(source), None, source.splitlines(keepends=True), module.__file__)
    exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)
    return module


class _PackageLoader:  # a loader, as importlib.abc.Loader describes (not imported: `import ncdc` stays light)
    """The `ncdc_generated` package itself: empty."""

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        module.__doc__ = "Modules that ncdc.load generated from specs (see ncdc.generated)."


class GeneratedFinder:  # a meta path finder, as importlib.abc.MetaPathFinder describes
    """Finds `ncdc_generated` and its modules in the current cache of generated files."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == PACKAGE:
            spec = importlib.machinery.ModuleSpec(PACKAGE, _PackageLoader(), is_package=True)
            spec.submodule_search_locations = [str(cache_dir())]
            return spec
        package, _, leaf = fullname.rpartition(".")
        if package != PACKAGE or not leaf.isidentifier():
            return None
        file = cache_dir() / f"{leaf}.py"
        if not file.is_file():
            return None
        from importlib.util import spec_from_file_location

        return spec_from_file_location(fullname, file, loader=_SourceLoader(fullname, str(file)))


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles from the source each time: no bytecode files in the cache to go stale."""

    def get_code(self, fullname):
        return compile(self.get_data(self.path), self.path, "exec", dont_inherit=True)


_FINDER = GeneratedFinder()


def install() -> None:
    """Put the finder first on sys.meta_path (once)."""
    if not any(isinstance(f, GeneratedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FINDER)
