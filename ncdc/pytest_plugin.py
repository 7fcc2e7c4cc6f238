"""A pytest plugin: `.ncd` specs as test items, each one checked as `ncdc check` checks it.

Opt-in, so that installing ncdc never changes what a project's tests collect: `pytest --ncdc`, or
`ncdc = true` in the ini file (`[tool.pytest.ini_options]` in pyproject.toml, or pytest.ini).
`--ncdc-run` (ini `ncdc_run = true`) also builds every model of each spec with its default sizes
and runs it on random inputs, as `ncdc run` does; it implies `--ncdc`.  Torch is imported only then.

Registered as the `pytest11` entry point `ncdc`; `-p no:ncdc` turns it off altogether.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ncdc", "ncdc: check .ncd specs")
    group.addoption("--ncdc", action="store_true", default=None,
                    help="collect .ncd files as test items, each checked as `ncdc check` does")
    group.addoption("--ncdc-run", action="store_true", default=None,
                    help="also build and run each spec's models on random inputs, as `ncdc run` does "
                         "(implies --ncdc)")
    parser.addini("ncdc", type="bool", default=False, help="collect .ncd files as test items (as --ncdc)")
    parser.addini("ncdc_run", type="bool", default=False,
                  help="also run each spec's models on random inputs (as --ncdc-run)")


def _running(config: pytest.Config) -> bool:
    return bool(config.getoption("ncdc_run") or config.getini("ncdc_run"))


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("ncdc") or config.getini("ncdc")) or _running(config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".ncd" and _enabled(parent.config):
        return SpecFile.from_parent(parent, path=file_path)
    return None


class NcdcWarning(UserWarning):
    """A warning of a spec that checks (`warning[W...]`): pytest lists it in its warnings summary, and
    `filterwarnings = error::ncdc.pytest_plugin.NcdcWarning` fails the spec on it, as `--deny-warnings`."""


class SpecFailure(Exception):
    """A spec that does not check, or a model that does not run: the text to report, as ncdc prints it."""


class SpecFile(pytest.File):
    def collect(self):
        yield SpecItem.from_parent(self, name="ncdc")


class SpecItem(pytest.Item):
    def runtest(self) -> None:
        from .api import check_source, read_spec
        from .diagnostics import NcdcError

        path = self._shown()
        # Read by the name shown, so that a diagnostic about the whole file names it so too.
        source = path if Path(os.path.abspath(path)) == self.path else self.path
        try:
            program = check_source(read_spec(source), path)
        except NcdcError as error:
            raise SpecFailure(error.render()) from None
        except OSError as error:
            raise SpecFailure(f"ncdc: error: cannot read {path}: {error.strerror}") from None
        for warning in program.warnings:  # (Node.warn would need a line in reportinfo: this has the warning's)
            warnings.warn_explicit(NcdcWarning(warning.render()), NcdcWarning, path,
                                   warning.span.line if warning.span else 1)
        if _running(self.config):
            self._run(program)

    def _run(self, program) -> None:
        import torch

        from .diagnostics import NcdcError
        from .runner import run_program

        lines: list[str] = []
        # Seeded as `ncdc run` is, without disturbing the random state of the tests around it.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            try:
                failed = run_program(program, Path(self._shown()), lines.append)
            except NcdcError as error:
                raise SpecFailure(error.render()) from None
        if failed:
            names = ", ".join(name for name, _ in failed)
            raise SpecFailure(f"{self._shown()}: failed to run: {names}\n\n" + "\n".join(lines))
        # Shown with the test's report (`-rP`, `-rA`).
        self.add_report_section("call", "ncdc run", "\n".join(lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (SpecFailure, NcdcWarning)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"ncdc {'run' if _running(self.config) else 'check'} {self._shown()}"

    def _shown(self) -> str:
        """The spec's path as `ncdc check` would name it, run where pytest was."""
        try:
            return os.path.relpath(self.path, self.config.invocation_params.dir)
        except ValueError:  # on another drive
            return str(self.path)
