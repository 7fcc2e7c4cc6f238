"""Files in ncdc's cache beside the generated modules (the parser's tables, kept syntax trees): written
atomically, and never an error, since a file that cannot be written only costs a later run the work."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from pathlib import Path


def folder(name: str) -> Path:
    """The cache's folder `name` (not created here), beside `generated`, the generated modules'."""
    from .generated import cache_dir

    return cache_dir().parent / name


def write(path: str, blob: bytes) -> bool:
    """Write `blob` to `path`, atomically: a concurrent run reads the old file or the new, never half.
    False where the cache cannot be written (read-only, full, under a file)."""
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "wb") as file:
            file.write(blob)
        os.replace(temporary, path)
        return True
    except OSError:
        try:
            os.remove(temporary)
        except OSError:
            pass
        return False
