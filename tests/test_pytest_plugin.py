"""The pytest plugin (ncdc/pytest_plugin.py): `.ncd` specs as test items, opt-in."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
# pytester's in-process runs forget the modules imported during them: torch, imported by a run
# with --ncdc-run, must be imported here first, as importing it a second time crashes.
import torch  # noqa: F401

from ncdc.api import check_source
from ncdc.diagnostics import NcdcError

pytest_plugins = ["pytester"]

GOOD = "def double(X: n) -> n:\n    return X + X\n"
BAD = "def bad(X: n) -> m:\n    return X\n"
WARNED = "def heads(X: y (g hd), H: y hd) -> y (g hd) hd:\n    return einsum[y (g hd) hd](X, H)\n"
# Checks, but its defaults break a precondition checked at construction: the model raises when built.
CROP = "module Crop(k=20, d=4):\n    def forward(X: n d) -> n k:\n        return X[:, 0:k]\n"


@pytest.fixture
def extra(request):
    """Nothing where the plugin loads by its entry point; where autoloading is off, its name."""
    return [] if request.config.pluginmanager.has_plugin("ncdc") else ["-p", "ncdc.pytest_plugin"]


@pytest.fixture
def run(pytester, extra):
    return lambda *args: pytester.runpytest(*extra, *args)


def test_the_entry_point_is_registered():
    found = [ep for ep in entry_points(group="pytest11") if ep.name == "ncdc"]
    assert [ep.value for ep in found] == ["ncdc.pytest_plugin"]


def test_without_the_option_no_spec_is_collected(pytester, run):
    pytester.makefile(".ncd", good=GOOD, bad=BAD)
    result = run()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.assert_outcomes()


def test_a_good_spec_passes_and_a_bad_one_fails_with_its_diagnostics(pytester, run):
    pytester.makefile(".ncd", good=GOOD, bad=BAD)
    result = run("--ncdc", "-rA")
    result.assert_outcomes(passed=1, failed=1)
    with pytest.raises(NcdcError) as error:
        check_source(BAD, "bad.ncd")
    expected = error.value.render()  # exactly what `ncdc check bad.ncd` prints
    assert "error[E0302]" in expected and " --> bad.ncd:2:12" in expected and "^ these sizes may differ" in expected
    assert expected in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*ncdc check bad.ncd*", "PASSED good.ncd::ncdc", "FAILED bad.ncd::ncdc*E0302*"])


def test_python_tests_run_beside_the_specs(pytester, run):
    pytester.makefile(".ncd", good=GOOD)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    run("--ncdc").assert_outcomes(passed=2)
    run().assert_outcomes(passed=1)


def test_a_spec_that_is_not_utf8_fails_with_its_diagnostic(pytester, run):
    (pytester.path / "latin.ncd").write_bytes(b"# caf\xe9\n" + GOOD.encode())
    result = run("--ncdc")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["error[[]E0005[]]: latin.ncd is not UTF-8 text"])


def test_a_warning_is_a_pytest_warning_and_can_fail_the_spec(pytester, run):
    pytester.makefile(".ncd", warned=WARNED)
    result = run("--ncdc")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*warned.ncd:2: NcdcWarning: warning[[]W0001[]]*", "*--> warned.ncd:2:28"])
    result = run("--ncdc", "-W", "error::ncdc.pytest_plugin.NcdcWarning")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["warning[[]W0001[]]*", " --> warned.ncd:2:28"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize("make", ["makeini", "makepyprojecttoml"])
def test_the_ini_option_turns_it_on(pytester, run, make):
    section = "[pytest]" if make == "makeini" else "[tool.pytest.ini_options]"
    getattr(pytester, make)(f"{section}\nncdc = true\n")
    pytester.makefile(".ncd", good=GOOD, bad=BAD)
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    assert "error[E0302]" in result.stdout.str()


def test_ncdc_run_builds_and_runs_each_model(pytester, run):
    pytester.makefile(".ncd", good=GOOD)
    result = run("--ncdc-run", "-rP")  # implies --ncdc
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*ncdc run good.ncd*", "good.ncd", "  double : n -> n", "      (2, 16) -> (2, 16)"])


def test_ncdc_run_fails_clearly_when_a_model_raises(pytester, run):
    pytester.makefile(".ncd", crop=CROP, good=GOOD)
    result = run("--ncdc-run")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "crop.ncd: failed to run: Crop",
        "  Crop: failed to run: ValueError: [[]crop.ncd:3[]] needs d >= k *, got d = 4, k = 20",
        "FAILED crop.ncd::ncdc - crop.ncd: failed to run: Crop",
    ])
    assert "Traceback" not in result.stdout.str()
    run("--ncdc").assert_outcomes(passed=2)  # it checks: only running it fails


def test_the_ini_option_runs_the_models(pytester, run):
    pytester.makeini("[pytest]\nncdc_run = true\n")
    pytester.makefile(".ncd", crop=CROP)
    run().assert_outcomes(failed=1)


def test_checking_does_not_import_torch(pytester, extra):
    """Only --ncdc-run needs torch: a project that checks its specs does not pay for importing it."""
    pytester.makefile(".ncd", good=GOOD, bad=BAD)
    pytester.makeconftest("import sys\n\ndef pytest_sessionfinish():\n"
                          "    print('torch imported:', 'torch' in sys.modules)\n")
    result = pytester.runpytest_subprocess(*extra, "--ncdc", "-s")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*torch imported: False*"])
    result = pytester.runpytest_subprocess(*extra, "--ncdc-run", "-s")
    result.stdout.fnmatch_lines(["*torch imported: True*"])


def test_this_repositorys_tests_collect_no_spec(request):
    """Installing ncdc does not make this repository's own pytest collect specs/ and tests/constructs/."""
    assert not request.config.getoption("ncdc") and not request.config.getini("ncdc")
    assert not any(item.nodeid.endswith(".ncd::ncdc") for item in request.session.items)
