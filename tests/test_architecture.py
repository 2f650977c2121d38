"""The layer rules and the transaction rule, checked by machine (docs/architecture.md, "Layers").

- `lint-imports` checks the contracts in setup.cfg: entry points → services → models, infra,
  forms, integrations → engine, flowdef; the engine and the flow language import no Flask,
  no SQLAlchemy, no models, no services; models never import services; the front office,
  the API, the jobs and the CLI import no SQLAlchemy (their queries live in services).
- Entry points reach a domain through its package (`app.services.tickets`), and only for
  names that package exports.
- No service commits, rolls back, or opens a unit of work: the entry point does. (At run
  time the suite's GUARD_COMMITS makes any other commit raise; see
  tests/services/test_transaction_boundary.py.)
"""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = ("web", "api", "admin", "jobs", "cli")
SERVICES = ROOT / "app" / "services"
DOMAINS = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())


def _modules(*folders: str):
    for folder in folders:
        yield from sorted((ROOT / "app" / folder).rglob("*.py"))


def test_import_contracts_hold():
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_services_are_one_package_per_domain():
    assert set(DOMAINS) >= {"tickets", "fields", "flows", "catalog", "knowledge", "notify", "automation",
                            "integration", "people", "stats", "system"}
    loose = [p.name for p in SERVICES.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], f"modules outside a domain package: {loose}"


@pytest.mark.parametrize("path", list(_modules(*ENTRY_POINTS)), ids=lambda p: str(p.relative_to(ROOT)))
def test_entry_points_call_what_a_domain_package_exports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.services")):
            continue
        parts = node.module.split(".")
        assert len(parts) <= 3, f"{path.name}:{node.lineno} imports a service module ({node.module}); " \
                                f"import the domain package and call what it exports"
        if len(parts) == 3:
            exported = set(importlib.import_module(node.module).__all__)
            missing = [a.name for a in node.names if a.name not in exported]
            assert not missing, f"{path.name}:{node.lineno}: {node.module} does not export {missing}"
        else:
            assert all(a.name in DOMAINS for a in node.names), f"{path.name}:{node.lineno}: import a domain package"


def test_every_export_of_a_domain_exists():
    for domain in DOMAINS:
        package = importlib.import_module(f"app.services.{domain}")
        for name in package.__all__:
            assert getattr(package, name) is not None, f"app.services.{domain}.{name}"


TRANSACTION_CALLS = {"commit", "rollback", "begin"}
TRANSACTION_NAMES = {"unit_of_work", "outside_transaction", "framework_commits", "commit"}


@pytest.mark.parametrize("path", list(SERVICES.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_service_ends_or_opens_a_transaction(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in TRANSACTION_CALLS, \
                f"{path.name}:{node.lineno} calls .{node.func.attr}(): only entry points end transactions"
        if isinstance(node, ast.ImportFrom) and node.module == "app.infra.uow":
            used = {a.name for a in node.names} & TRANSACTION_NAMES
            assert not used, f"{path.name}:{node.lineno} imports {used}: only entry points open units of work"


def test_no_test_module_imports_another_test_module():
    """Shared test builders live in kit modules (`*_kit.py`, `statement_counter.py`), never in a `test_*` module."""
    tests_dir = Path(__file__).resolve().parent
    offenders = []
    for path in sorted(tests_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(tests_dir)}: {n}" for n in names
                          if n.split(".")[-1].startswith("test_")]
    assert not offenders, offenders
