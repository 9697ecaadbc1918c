"""The rules of docs/architecture.md, each checked by a tool, and each check shown to fail.

import-linter keeps the import contracts (pyproject.toml); these tests break every contract on
purpose in a copy of the tree, so that a contract which can no longer fail is noticed. The
other rules (rooms under ~400 lines, no function-level imports that dodge a circle, a reason
on every `type: ignore`) are checked here directly.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("leads", "llm", "salesbot")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 400


def _source_files() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _lint_imports(tree: Path, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the packages in `tree` (which go first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    only = ["--contract", contract] if contract else []
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *only],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages and pyproject.toml, copied: a place to break the rules."""
    tree = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    clean = _lint_imports(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr  # the copy starts clean
    return tree


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# Each breach: the contract it breaks, and the modules written into the copy to break it (an
# existing module gets the line added at its end).
BREACHES: list[tuple[str, dict[str, str]]] = [
    ("llm-stands-alone", {"llm/_breach.py": "import django\n"}),
    ("llm-stands-alone", {"llm/_breach.py": "from leads.models import Lead\n"}),
    ("pure-cores", {"leads/scoring.py": "from django.db import models\n"}),
    ("pure-cores", {"leads/extraction/_breach.py": "from leads.models import Lead\n"}),
    ("pure-cores", {"leads/dashboard/charts.py": "import leads.selectors.access\n"}),
    (
        "queue-by-name",
        {"leads/services/_breach.py": "from leads.tasks import reply_suggest_task\n"},
    ),
    ("layers", {"leads/services/_breach.py": "import leads.views.api\n"}),
    ("layers", {"leads/selectors/_breach.py": "import leads.services.leads\n"}),
    ("layers", {"leads/models/_breach.py": "import leads.selectors.leads\n"}),
    ("layers", {"leads/services/_breach.py": "import leads.dashboard.forms\n"}),
    ("layers", {"leads/consumers/_breach.py": "import leads.tasks\n"}),
    ("wiring-on-top", {"leads/_breach.py": "import salesbot.settings\n"}),
    (
        "no-circles",
        {
            "leads/_circle_a.py": "import leads._circle_b\n",
            "leads/_circle_b.py": "import leads._circle_a\n",
        },
    ),
]


@pytest.mark.parametrize(("contract", "modules"), BREACHES)
def test_each_contract_fails_when_its_rule_is_broken(
    tree_copy: Path, contract: str, modules: dict[str, str]
) -> None:
    originals = {}
    for name, source in modules.items():
        path = tree_copy / name
        if path.exists():
            originals[name] = path.read_text()
            source = originals[name] + "\n" + source
        path.write_text(source)
    try:
        result = _lint_imports(tree_copy, contract)
    finally:
        for name in modules:
            if name in originals:
                (tree_copy / name).write_text(originals[name])
            else:
                (tree_copy / name).unlink()
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout


def test_no_module_grows_past_the_limit() -> None:
    """Rooms stay small: a module past ~400 lines is split into a package (migrations and
    tests aside; data files are not modules)."""
    too_big = {
        str(path.relative_to(ROOT)): count
        for path in _source_files()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_big == {}


# Function-level imports of our own packages that are there on purpose, and why. Anything else
# is an import that dodges a circle, and the circle is what should go.
DEFERRED_IMPORTS: dict[tuple[str, str], str] = {}


def _function_level_imports(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.level == 0:
                yield inner.module, inner.lineno
            elif isinstance(inner, ast.Import):
                for alias in inner.names:
                    yield alias.name, inner.lineno


def test_no_function_level_import_of_our_own_code() -> None:
    found = []
    for path in _source_files():
        where = str(path.relative_to(ROOT))
        for module, line in _function_level_imports(path):
            if module.split(".")[0] in PACKAGES and (where, module) not in DEFERRED_IMPORTS:
                found.append(f"{where}:{line} imports {module}")
    assert found == []


_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    """`# type: ignore[code]  # why`: an ignore without its reason is a question left open."""
    bare = []
    for path in _source_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _IGNORE.search(line)
            if match is None:
                continue
            reason = match["rest"].strip().removeprefix("#").strip()
            if not match["codes"] or len(reason) < 8:
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == []


# Errors outside the taxonomies, and why.
OWN_ERRORS: dict[str, str] = {
    "leads.protocol.ProtocolError": "the chat protocol's answer on the wire, made from a "
    "SalesbotError (ProtocolError.of) or from a frame's own check",
    "llm.types.StopGenerating": "not an error: the signal thrown into a backend's generation "
    "when its caller has what it needs (a reply's last sentence)",
}


def _error_classes(package: str) -> Iterator[type[BaseException]]:
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                yield value


@pytest.mark.parametrize(
    ("package", "base"), [("leads", "leads.errors.SalesbotError"), ("llm", "llm.errors.LLMError")]
)
def test_every_error_belongs_to_its_packages_taxonomy(package: str, base: str) -> None:
    """Interfaces answer by kind (HTTP status, protocol code; retry or fail over), so an error
    outside the taxonomy would reach them as an unexpected 500."""
    module_name, _, class_name = base.rpartition(".")
    root: type[BaseException] = getattr(importlib.import_module(module_name), class_name)
    outside = sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _error_classes(package)
        if not issubclass(cls, root) and f"{cls.__module__}.{cls.__qualname__}" not in OWN_ERRORS
    )
    assert outside == []
