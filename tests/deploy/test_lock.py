"""constraints.txt is the tested set: it pins every dependency the package declares, and the environment the
tests run in has exactly its versions (so pydantic's messages, which tests quote, are the locked ones)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    lines = (line.strip() for line in (ROOT / "constraints.txt").read_text().splitlines())
    return {_canonical(name): version for name, _, version in
            (line.partition("==") for line in lines if line and not line.startswith("#"))}


def test_every_declared_dependency_is_pinned_exactly():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = _pins()
    assert all(version for version in pins.values()), "every line is name==version"
    missing = [spec for spec in declared if _canonical(Requirement(spec).name) not in pins]
    assert missing == [], "pin these in constraints.txt (its header says how)"


def test_this_environment_has_the_locked_versions():
    found = {}
    for name in _pins():
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    drift = {name: (found[name], version) for name, version in _pins().items() if found[name] != version}
    assert drift == {}, "installed vs locked; deploy/setup.sh installs the locked set"
