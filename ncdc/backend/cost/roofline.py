"""The roofline bound: a part takes at least max(FLOPs / peak, bytes / bandwidth) seconds on a machine.

Machines come from machines.toml (published figures, each with its source), from a file of the same
form (`--machine-file`), or inline (`--machine peak=1e12,bandwidth=1e11`).  The bytes of an
operation are what it reads and writes in main memory when it runs on its own: its tensor operands,
its result and its parameters, each once (`Row.io` and `Row.params`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .model import CostError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]

MACHINES = Path(__file__).with_name("machines.toml")
DTYPES = ("float64", "float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Machine:
    key: str
    name: str
    peak: dict[str, float]  # FLOP/s by dtype
    bandwidth: float  # bytes/s
    source: str = ""
    quote: str = ""
    derived: str = ""

    def peak_for(self, dtype: str) -> float:
        if dtype not in self.peak:
            raise CostError(f"machine `{self.key}` has no peak rate for {dtype} (it has {', '.join(self.peak)})")
        return self.peak[dtype]

    def seconds(self, flops: float, nbytes: float, dtype: str) -> dict:
        """The bound for `flops` and `nbytes`: which of the two limits it, and both times."""
        compute, memory = flops / self.peak_for(dtype), nbytes / self.bandwidth
        return {"seconds": max(compute, memory), "compute_seconds": compute, "memory_seconds": memory,
                "bound": "compute" if compute >= memory else "memory"}


def _machine(key: str, entry: dict, where: str) -> Machine:
    def positive(value, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise CostError(f"{where}: machine `{key}`: {what} must be a positive number, not {value!r}")
        return float(value)

    if not isinstance(entry, dict):
        raise CostError(f"{where}: `{key}` is not a table of a machine")
    unknown = set(entry) - {"name", "peak", "bandwidth", "source", "quote", "derived"}
    if unknown:
        raise CostError(f"{where}: machine `{key}` has unknown field(s) {', '.join(sorted(unknown))}")
    peak = entry.get("peak")
    if not isinstance(peak, dict) or not peak:
        raise CostError(f"{where}: machine `{key}` needs `peak`, a table of FLOP/s by dtype ({', '.join(DTYPES)})")
    bad = set(peak) - set(DTYPES)
    if bad:
        raise CostError(f"{where}: machine `{key}`: unknown dtype(s) {', '.join(sorted(bad))} in `peak` "
                        f"(one of {', '.join(DTYPES)})")
    if "bandwidth" not in entry:
        raise CostError(f"{where}: machine `{key}` needs `bandwidth`, in bytes per second")
    return Machine(key, str(entry.get("name", key)), {d: positive(v, f"peak.{d}") for d, v in peak.items()},
                   positive(entry["bandwidth"], "bandwidth"), str(entry.get("source", "")),
                   str(entry.get("quote", "")), str(entry.get("derived", "")))


def read_machines(path: Path) -> dict[str, Machine]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as error:
        raise CostError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise CostError(f"{path} is not TOML: {error}") from None
    return {key: _machine(key, entry, str(path)) for key, entry in data.items()}


def machines(extra: Path | str | None = None) -> dict[str, Machine]:
    """The shipped machines, with those of `extra` (a TOML file) added or replacing them."""
    table = read_machines(MACHINES)
    if extra is not None:
        table |= read_machines(Path(extra))
    return table


def machine(spec: str | Machine, extra: Path | str | None = None) -> Machine:
    """A machine by its key (`h100`), or given inline: `peak=1e12,bandwidth=1e11` (the peak for every
    dtype) or `peak.float32=...,peak.float16=...,bandwidth=...`."""
    if isinstance(spec, Machine):
        return spec
    if "=" not in spec:
        table = machines(extra)
        if spec not in table:
            raise CostError(f"no machine `{spec}`: one of {', '.join(table)}, a --machine-file, "
                            f"or peak=FLOP/s,bandwidth=bytes/s")
        return table[spec]
    entry: dict = {"peak": {}}
    for item in spec.split(","):
        name, _, text = item.partition("=")
        name = name.strip()
        try:
            value = float(text)
        except ValueError:
            raise CostError(f"--machine: `{item}` is not NAME=NUMBER") from None
        if name == "peak":
            entry["peak"] |= {d: value for d in DTYPES}
        elif name.startswith("peak."):
            entry["peak"][name[5:]] = value
        elif name == "bandwidth":
            entry["bandwidth"] = value
        else:
            raise CostError(f"--machine: unknown field `{name}` (peak, peak.DTYPE, bandwidth)")
    return _machine("custom", entry | {"name": "custom"}, "--machine")
