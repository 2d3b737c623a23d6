"""Debian's Chromium driven by Playwright: where the browser is, and how a test launches it.

The browser is the distribution's package (``apt-get install chromium``), never a build that
``playwright install`` would download: ``.ci/run`` installs the package when it is missing. A developer
whose Chromium lives elsewhere points ``FEDICOOP_CHROMIUM`` at its executable.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright, ViewportSize

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ENV = "FEDICOOP_CHROMIUM"
LAUNCH_TIMEOUT_MS = 30_000
DESKTOP = ViewportSize(width=1280, height=900)
"""The viewport of the desktop pages."""
PHONE = ViewportSize(width=360, height=740)
"""The viewport of the phone pages (a small Android phone)."""


class ChromiumMissingError(RuntimeError):
    """No Chromium executable where the tests look for one; the message says how to install it."""


def chromium_path() -> Path:
    """The Chromium executable: ``$FEDICOOP_CHROMIUM``, else Debian's ``/usr/bin/chromium``."""
    configured = os.environ.get(CHROMIUM_ENV)
    path = Path(configured) if configured else DEFAULT_CHROMIUM
    if not path.is_file() or not os.access(path, os.X_OK):
        found = shutil.which("chromium")
        hint = f" (one is on the PATH at {found}: set {CHROMIUM_ENV}={found})" if found else ""
        raise ChromiumMissingError(
            f"no executable Chromium at {path}{hint}; install Debian's package "
            f"(`apt-get install -y chromium`, as .ci/run does) or set {CHROMIUM_ENV}"
        )
    return path


def launch(playwright: Playwright) -> Browser:
    """Launch headless Chromium from :func:`chromium_path` (no browser download, ever)."""
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, timeout=LAUNCH_TIMEOUT_MS
    )
