"""The house as its imports draw it (issue 25): packages stand in layers, and the room's parts are given what
they use. Read from the source with `ast`, every import counted (in functions and under TYPE_CHECKING too),
so a new arrow running back up fails here before it becomes a habit."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "room_controller"
# Who may hold the whole Room: the composition roots, and the fronts that hand a request to it (HTTP handlers,
# the MQTT commands' run, the Home Assistant glue that reads its snapshot).
HOLDERS = {"core/room.py", "app.py", "commands.py"}
FRONTS = ("webapp/", "integrations/homeassistant/")


def imports() -> dict[str, set[str]]:
    """Each module (path relative to the package) and the room_controller modules it imports."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        module = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("room_controller"):
                found[module].add(node.module)
                found[module].update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found[module].update(a.name for a in node.names if a.name.startswith("room_controller"))
    return found


def package(name: str) -> str:
    """`room_controller.core.room` and `core/room.py` are both in `core`; a top-level module is its own."""
    parts = name.replace("/", ".").removesuffix(".py").split(".")
    parts = parts[1:] if parts[0] == "room_controller" else parts
    return parts[0] if parts else ""


def test_no_two_packages_import_each_other():
    arrows: dict[str, set[str]] = defaultdict(set)
    for module, targets in imports().items():
        for target in targets:
            if (PACKAGE / Path(*target.split(".")[1:])).with_suffix(".py").exists() or \
                    (PACKAGE / Path(*target.split(".")[1:])).is_dir():
                if package(target) and package(target) != package(module):
                    arrows[package(module)].add(package(target))
    both = sorted((a, b) for a in arrows for b in arrows[a] if a < b and a in arrows.get(b, set()))
    assert both == []


def test_only_the_composition_roots_and_the_fronts_hold_the_room():
    holding = sorted(module for module, targets in imports().items()
                     if "room_controller.core.room.Room" in targets and module not in HOLDERS
                     and not module.startswith(FRONTS))
    assert holding == []
