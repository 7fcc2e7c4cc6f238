"""Where the grammar and the templates live: beside the package in a checkout, inside it in a wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The folder `grammar` or `templates`: packaged as `ncdc.<name>`, or found in the checkout."""
    try:
        packaged = Path(str(resources.files(f"ncdc.{name}")))
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    return _CHECKOUT / name
