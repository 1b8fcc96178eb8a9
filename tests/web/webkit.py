"""WebKit, the engine of every browser on an iPad, for the panel's tests: Debian's WebKitGTK driver
(`webkit2gtk-driver`) on a virtual screen (`xvfb`), since WebKitGTK has no headless mode.

Safari itself does not run here; WebKitGTK shares its layout, `<dialog>`, top-layer and event code, which
is what the panel's promises (calm above every dialog, nothing cut or hidden) depend on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def virtual_screen() -> Iterator[str]:
    """An Xvfb display of its own (the server picks a free number and tells it on a pipe)."""
    if not shutil.which("Xvfb"):
        pytest.fail("the WebKit tests need Debian's xvfb package")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1200x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def start_webkit(display: str):
    """WebKitGTK through its WebDriver, drawing on `display`."""
    if not shutil.which("WebKitWebDriver"):
        pytest.fail("the WebKit tests need Debian's webkit2gtk-driver package")
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    options = Options()
    options.overlay_scrollbars_enabled = True   # as on a tablet: scrollbars take no room
    service = Service(shutil.which("WebKitWebDriver"), env={**os.environ, "DISPLAY": display})
    return webdriver.WebKitGTK(options=options, service=service)


def viewport(driver, width: int, height: int) -> None:
    """The page's own size in CSS pixels: the window is sized, then grown by what its frame takes."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [innerWidth, innerHeight]")
    if inner != [width, height]:
        driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    inner = driver.execute_script("return [innerWidth, innerHeight]")
    assert inner == [width, height], f"WebKit's viewport is {inner}, not {width}x{height}"
