"""Build docs/language.md and docs/cost.md from their .src.md sources, pasting in what ncdc really prints.

    python docs/build.py            # rewrite docs/language.md and docs/cost.md
    python docs/build.py --check    # exit 1 with a diff if either is out of date

The source is Markdown. Every ```ncd block must compile cleanly. A directive, on a line of its own,
becomes a fenced block of output:

    @@py NAME,... [nochecks] [forward] [stubs]
                    the generated definitions NAME from the last ```ncd block, without their
                    `if CHECK_SHAPES:` checks, only `forward`, or compiled with `--stubs`
    @@head          the generated module's header, up to its first definition
    @@helper NAME   one generated helper function of the last ```ncd block
    @@err           the diagnostics of `ncdc check` on the last ```text block, which must fail
    @@run COMMAND   the standard output of a shell command, run where the last ```ncd, ```text and
                    ```python blocks are x.ncd, bad.ncd and x.py, and specs/ is the shipped specs;
                    `ncdc` and `python` are this interpreter's (write `2>&1` in COMMAND to show what it
                    prints on standard error)
    @@published [machines]  a Markdown table of docs/published.py: published costs beside ncdc's, or
                    the shipped machines of `ncdc cost --machine`

Nothing a tool prints on standard error reaches the reference unasked: a warning there (a library's,
say) fails the build, and the diagnostics of @@err are ncdc's own rendering, which the command's
standard error must match exactly.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PAGES = [(DOCS / "language.src.md", DOCS / "language.md"), (DOCS / "cost.src.md", DOCS / "cost.md")]
NCDC = [sys.executable, "-m", "ncdc"]
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS))


class Builder:
    def __init__(self, work: Path):
        self.work = work
        self.blocks = {"ncd": "", "text": "", "python": ""}  # the last block of each language
        self.compiled: dict[tuple, str] = {}
        self.failures: list[str] = []
        bin_dir = work / "bin"
        bin_dir.mkdir()
        (work / "specs").symlink_to(DOCS.parent / "specs", target_is_directory=True)
        for name, args in (("ncdc", " -m ncdc"), ("python", "")):  # what commands in @@run call
            (bin_dir / name).write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)}{args} "$@"\n')
            (bin_dir / name).chmod(0o755)
        self.env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)]),
                    "PYTHONPATH": os.pathsep.join([str(DOCS.parent), os.environ.get("PYTHONPATH", "")]),
                    "NCDC_CACHE_DIR": str(work / "cache")}  # what the examples' ncdc.load writes

    def build(self, source: str) -> str:
        lines, out = source.split("\n"), []
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("```"):
                end = lines.index("```", i + 1)
                if line[3:] in self.blocks:
                    self.blocks[line[3:]] = "\n".join(lines[i + 1:end]) + "\n"
                if line == "```ncd":
                    self.compile(stubs=False, where=f"the ncd block at line {i + 1}")
                out += lines[i:end + 1]
                i = end + 1
                continue
            directive = re.fullmatch(r"@@(\w+) ?(.*)", line)
            if directive and directive.group(1) == "published":
                from published import table  # docs/published.py
                out.append(table(directive.group(2)))
            elif directive:
                language, text = self.expand(*directive.groups())
                if out and out[-1] == "```":
                    out.append("")
                out += [f"```{language}", text.rstrip(), "```"]
            else:
                out.append(line)
            i += 1
        return "\n".join(out)

    def expand(self, name: str, arg: str) -> tuple[str, str]:
        options = arg.split()
        if name == "py":
            defs = definitions(self.compile("stubs" in options))
            return "python", "\n\n\n".join(self.definition(defs, n, options) for n in options[0].split(","))
        if name == "head":
            return "python", re.split(r"^(?:def|class) ", self.compile("stubs" in options), maxsplit=1, flags=re.M)[0]
        if name == "helper":
            return "python", self.definition(definitions(self.compile(False)), arg, [])
        if name == "err":
            return "text", self.diagnostics()
        if name == "run":
            for file, language in (("x.ncd", "ncd"), ("bad.ncd", "text"), ("x.py", "python")):
                self.write(file, self.blocks[language])
            result = self.run(arg)
            self.quiet(result, f"`{arg}`")
            return "text", f"$ {arg}\n{result.stdout}"
        raise SystemExit(f"unknown directive @@{name}")

    def compile(self, stubs: bool, where: str = "") -> str:
        """The generated source of the last ```ncd block."""
        key = (self.blocks["ncd"], stubs)
        if key not in self.compiled:
            self.write("x.ncd", self.blocks["ncd"])
            result = self.run(NCDC + ["compile", "x.ncd"] + ["--stubs"] * stubs)
            if result.returncode:
                self.failures.append(f"{where or 'an ncd block'} does not compile:\n{key[0]}{result.stderr}")
            else:
                self.quiet(result, f"`ncdc compile` of {where or 'an ncd block'}")
            self.compiled[key] = result.stdout
        return self.compiled[key]

    def diagnostics(self) -> str:
        """What `ncdc check` reports on the last ```text block, as ncdc renders it."""
        from ncdc import NcdcError, check_source

        text = self.blocks["text"]
        self.write("bad.ncd", text)
        result = self.run(NCDC + ["check", "bad.ncd"])
        try:
            check_source(text, "bad.ncd")
            diagnostics = []
        except NcdcError as error:
            diagnostics = error.diagnostics
        rendered = "\n\n".join(d.render() for d in diagnostics)
        n = len(diagnostics)
        expected = f"{rendered}\nchecked 1 spec: {n} error{'s' if n != 1 else ''}\n"
        if result.returncode != 1 or not diagnostics:
            self.failures.append(f"expected errors (exit 1), got exit {result.returncode}:\n{text}")
        elif result.stderr != expected or result.stdout:
            self.failures.append(f"`ncdc check` printed more than its diagnostics for:\n{text}"
                                 f"standard output:\n{result.stdout}\nstandard error:\n{result.stderr}")
        return rendered

    def quiet(self, result: subprocess.CompletedProcess, what: str) -> None:
        """A tool's standard error is never pasted: anything on it fails the build, loudly."""
        if result.stderr:
            self.failures.append(f"{what} printed on standard error (only standard output is pasted; "
                                 f"write `2>&1` in an @@run command to show it):\n{result.stderr}")

    def definition(self, defs: dict[str, str], name: str, options: list[str]) -> str:
        if name not in defs:
            self.failures.append(f"no definition `{name}` in the code of:\n{self.blocks['ncd']}")
            return ""
        text = defs[name]
        if "nochecks" in options:
            text = re.sub(r"^( *)if CHECK_SHAPES:\n(?:\1 .*\n)+", "", text + "\n", flags=re.M).rstrip("\n")
        if "forward" in options:
            text = re.sub(r"^    ", "", text[text.index("    def forward"):], flags=re.M)
        return text

    def write(self, name: str, text: str) -> None:
        (self.work / name).write_text(text, encoding="utf-8")

    def run(self, command: list[str] | str) -> subprocess.CompletedProcess:
        """Run a program, or a shell command line, in the work folder; paths in its output are relative."""
        result = subprocess.run(command, shell=isinstance(command, str), cwd=self.work, env=self.env,
                                capture_output=True, text=True, encoding="utf-8")
        result.stdout, result.stderr = (s.replace(f"{self.work}{os.sep}", "") for s in (result.stdout, result.stderr))
        return result


def definitions(source: str) -> dict[str, str]:
    """The top-level functions and classes of generated source, by name (with their comments)."""
    return {m.group(1): m.group(0).rstrip()
            for m in re.finditer(r"^(?:def|class) (\w+).*\n(?:(?:[ \t#].*)?\n)*", source + "\n", re.M)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path, help="one source (default: every page)")
    parser.add_argument("-o", "--output", type=Path, help="where its page goes")
    parser.add_argument("--check", action="store_true", help="only compare with the output; exit 1 if it differs")
    args = parser.parse_args(argv)
    if args.source is not None and args.output is None:
        parser.error("name the output of a source with -o")
    status = 0
    for source, output in [(args.source, args.output)] if args.source else PAGES:
        status = max(status, build_page(source, output, args.check))
    return status


def build_page(source: Path, output: Path, check: bool) -> int:
    with tempfile.TemporaryDirectory() as work:
        builder = Builder(Path(work))
        text = builder.build(source.read_text(encoding="utf-8"))
    if builder.failures:
        print("\n\n".join(builder.failures), file=sys.stderr)
        return 1
    if check:
        old = output.read_text(encoding="utf-8") if output.exists() else ""
        diff = difflib.unified_diff(old.splitlines(True), text.splitlines(True), str(output), "rebuilt")
        sys.stdout.writelines(diff)
        return int(old != text)
    output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
