"""Installation checks: our ``federation`` and ``schemas`` packages, not PyPI's namesakes."""

from __future__ import annotations

from pathlib import Path

import federation
import schemas
from fedicoop.errors import InstallationError


def check_installation() -> None:
    """Fail clearly when ``federation`` or ``schemas`` resolves outside the fedicoop source tree.

    Both names are also distributions on PyPI; if one is installed in the same environment, an import
    may silently load it instead of ours.
    """
    root = Path(__file__).resolve().parent.parent
    for module in (federation, schemas):
        location = Path(module.__file__ or "").resolve()
        if root not in location.parents:
            raise InstallationError(
                f"the {module.__name__!r} package was loaded from {location}, not from {root}: uninstall the "
                f"PyPI distribution named {module.__name__!r} from this environment"
            )
