"""Parts of the test rig that only `deploy/setup.sh --test` (or `--homeassistant`) installs.

After a plain set-up the quick loop skips the tests that need a missing part and says how to install it. In CI
(`CI` set, as `.ci/run` runs) a missing part fails instead: a test that can only skip there is one CI does not have.
"""

from __future__ import annotations

import os

import pytest


def require(present: bool, why: str) -> None:
    """Skip (or, in CI, fail) the calling test or fixture unless the part is present; `why` says how to get it."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)
