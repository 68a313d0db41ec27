"""Fixtures of the web console tests: Debian's chromium (installed when missing, never a
downloaded browser), Playwright driving it, and a lab whose CA service serves the console."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import Lab, make_lab

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """/usr/bin/chromium, installed from Debian's packages when missing."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(
            "SKIPPED LOUDLY: chromium is missing and cannot be installed here "
            "(apt-get as root); the web console was not tested in a browser"
        )
    # pytest-xdist's workers each reach this at once on a fresh machine: one installs while
    # the others wait for it (the second apt-get used to fail on dpkg's lock, and skip)
    with (Path(tempfile.gettempdir()) / "lyncpki-tests-chromium.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not shutil.which("chromium"):
            _apt_install_chromium()
    found = shutil.which("chromium")
    if not found:
        pytest.skip(
            "SKIPPED LOUDLY: apt-get could not install chromium; the web console was "
            "not tested in a browser"
        )
    return found


def _apt_install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=600"]  # another apt (unattended upgrades) may hold it
    install = ["apt-get", *wait, "install", "-y", "-q", "chromium"]
    if subprocess.run(install, capture_output=True, env=env, timeout=900).returncode != 0:
        update = ["apt-get", *wait, "update", "-q"]
        subprocess.run(update, capture_output=True, env=env, timeout=600)
        subprocess.run(install, capture_output=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless chromium for one test module. Not for the session: playwright's sync API
    keeps an event loop running in the thread while it is open, and a later test of the same
    process (pytest-xdist puts several files on one worker) could not call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def console_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    served = make_lab(tmp_path_factory.mktemp("console-lab"))
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
