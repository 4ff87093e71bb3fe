"""The core stays pure: no boto3, typer, moto or file I/O in the modules that plan."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "iamstate"
PURE = [
    "model.py",
    "policy.py",
    "diff.py",
    "plan.py",
    "calls.py",
    "ownership.py",
    "statefile.py",
    "savedplan.py",
    "importer.py",
    "rules/__init__.py",
    "rules/refusals.py",
    "rules/statements.py",
    "rules/escalation.py",
    "rules/documents.py",
    "rules/attach.py",
    "rules/trust.py",
    "rules/account.py",
    "rules/table.py",
    "render/text.py",
    "render/json.py",
    "render/markdown.py",
    "render/report.py",
    "render/sarif.py",
    "audit.py",
    "permissions.py",
]
FORBIDDEN_MODULES = {"boto3", "botocore", "typer", "moto", "os", "pathlib", "shutil", "subprocess", "io"}
FORBIDDEN_CALLS = {"open"}


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", PURE)
def test_core_module_is_pure(module: str) -> None:
    source = (PACKAGE / module).read_text()
    tree = ast.parse(source)
    assert not _imports(tree) & FORBIDDEN_MODULES, f"{module} imports {_imports(tree) & FORBIDDEN_MODULES}"
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & FORBIDDEN_CALLS, f"{module} does file I/O"
    assert "pure" in (ast.get_docstring(tree) or "").lower(), f"{module}'s docstring must say it is pure"


def test_product_never_imports_moto() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert "moto" not in _imports(ast.parse(path.read_text())), f"{path} imports moto"
