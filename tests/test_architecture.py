"""The layering the suite enforces: import-linter's contracts in pyproject.toml hold, a
broken one fails, and the modules the core contract names stay pure (their docstring
says so; no open(), no file, process or AWS modules)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "iamstate"
PYPROJECT = REPO / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = {c["id"]: c for c in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]}

FORBIDDEN_MODULES = {
    "boto3",
    "botocore",
    "typer",
    "rich",
    "structlog",
    "moto",
    "os",
    "pathlib",
    "shutil",
    "subprocess",
    "io",
    "tempfile",
}
FORBIDDEN_CALLS = {"open"}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts, on the ``iamstate`` package found in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(PYPROJECT)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("diff.py", "import iamstate.aws.read", "core"),
        ("rules/base.py", "from iamstate.commands import shared", "core"),
        ("plan.py", "import boto3", "core"),
        ("render/text.py", "import structlog", "core"),
        ("apply.py", "from iamstate.render import text", "apply-render"),
        ("config/schema.py", "from iamstate.rules import RULES", "config-rules"),
        ("aws/read.py", "from iamstate.commands import shared", "layers"),
        ("unplaced.py", '"""A module no layer names."""', "layers"),
    ],
)
def test_a_broken_contract_fails(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copytree(PACKAGE, tmp_path / "iamstate", ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "iamstate" / module
    existing = target.read_text() if target.exists() else ""
    target.write_text(existing + f"\n{line}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = [
        c["name"] for c in CONTRACTS.values() if f"{c['name']} BROKEN" in " ".join(result.stdout.split())
    ]
    assert CONTRACTS[contract]["name"] in broken, result.stdout


def core_files() -> list[Path]:
    """Every file of the modules the core contract names (``X.**``: the package X, if it exists)."""
    files: set[Path] = set()
    for expression in CONTRACTS["core"]["source_modules"]:
        parts = expression.removesuffix(".**").split(".")[1:]
        path = PACKAGE.joinpath(*parts)
        if path.with_suffix(".py").is_file():
            files.add(path.with_suffix(".py"))
        elif path.is_dir():
            files |= set(path.rglob("*.py"))
        else:
            assert expression.endswith(".**"), f"{expression} names no module"
    return sorted(files)


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_contract_names_the_core() -> None:
    names = {str(p.relative_to(PACKAGE)) for p in core_files()}
    assert {
        "model.py",
        "diff.py",
        "plan.py",
        "rules/__init__.py",
        "rules/base.py",
        "render/__init__.py",
    } <= names
    assert {"cli.py", "commands/shared.py", "aws/read.py"}.isdisjoint(names)


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert not _imports(tree) & FORBIDDEN_MODULES, f"{path} imports {_imports(tree) & FORBIDDEN_MODULES}"
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & FORBIDDEN_CALLS, f"{path} does file I/O"
    assert "pure" in (ast.get_docstring(tree) or "").lower(), f"{path}'s docstring must say it is pure"


def test_errors_is_a_leaf_at_run_time() -> None:
    code = "import sys, iamstate.errors; print(sorted(m for m in sys.modules if m.startswith('iamstate')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "['iamstate', 'iamstate.errors']"


def test_product_never_imports_moto() -> None:
    for path in PACKAGE.rglob("*.py"):
        assert "moto" not in _imports(ast.parse(path.read_text())), f"{path} imports moto"
