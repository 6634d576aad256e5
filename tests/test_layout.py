"""The shape of the code that CI's import contract does not see: the store is the only door to SQLite, and every
error Liaison raises on purpose is under the one root (issue 14)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import foundation.errors

ROOT = Path(__file__).parent.parent
PACKAGES = ("foundation", "classifiers", "responders", "inbox")


def _sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_no_sql_connection_is_used_outside_the_store():
    used = [f"{path.relative_to(ROOT)}:{number}" for path in _sources() if path != ROOT / "foundation" / "store.py"
            for number, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"\.conn\b", line)]
    assert not used, f"use a named method of foundation.store.Store instead: {used}"


def test_every_public_exception_is_a_liaison_error_and_lives_in_foundation_errors():
    elsewhere = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and path.name != "errors.py" \
                    and any(ast.unparse(base).endswith(("Error", "Exception")) for base in node.bases):
                elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert not elsewhere, f"exceptions belong in foundation/errors.py: {elsewhere}"
    for name in dir(foundation.errors):
        value = getattr(foundation.errors, name)
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == "foundation.errors":
            assert issubclass(value, foundation.errors.LiaisonError), name
