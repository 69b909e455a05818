"""The norms of DESIGN.md that a test can check: small modules, packages that say what they own."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "core_alerts"
FORBIDDEN_NAMES = {"utils", "common", "helpers", "misc", "core"}


def test_every_package_says_what_it_owns() -> None:
    for init in SRC.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc, f"{init.relative_to(SRC)} needs a docstring saying what the package owns"


def test_modules_stay_small() -> None:
    for module in SRC.rglob("*.py"):
        lines = len(module.read_text().splitlines())
        assert lines <= 800, f"{module.relative_to(SRC)} has {lines} lines (limit 800)"


def test_no_grab_bag_package_names() -> None:
    for path in SRC.rglob("*"):
        assert path.stem not in FORBIDDEN_NAMES, (
            f"{path.relative_to(SRC)}: name it for a capability"
        )
