"""Which library modules a pipeline script runs, and a digest of their code.

A rule's results depend on the modules its script imports, directly or through other modules
of the package.  ``dependencies`` follows the imports (read from the source, nothing is run);
``digest`` hashes what those modules do: their syntax trees without docstrings, comments or
layout, so moving the project to another folder or machine reruns nothing, and neither does a
reworded docstring, while any change to the code reruns exactly the rules whose scripts use it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

PACKAGE = "dd2424"


def _imported(tree: ast.AST, module: str) -> set[str]:
    """Dotted names of the package modules (and packages) imported in ``tree``, a module named
    ``module`` (relative imports resolved)."""
    out = set()
    package = module.rsplit(".", 1)[0] if module else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
            out |= {n for n in names if n.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            if base.split(".")[0] != PACKAGE:
                continue
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _file(root: Path, module: str) -> Path | None:
    """The source file of ``module`` (a module or a package's ``__init__``) under ``root``, the
    folder that holds the package; None for a name that is not a module (an imported
    function)."""
    rel = Path(*module.split("."))
    for candidate in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _imports_of(path: Path, name: str) -> frozenset[str]:
    """The package modules the file at ``path`` (module ``name``) imports; read once."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return frozenset(_imported(tree, name))


@functools.cache
def dependencies(script: str | Path, root: str | Path) -> tuple[str, ...]:
    """The package modules ``script`` runs: its imports of the package, the parent packages
    they load, and so on through their imports (``root``: the folder that holds the package).
    Sorted dotted names."""
    root = Path(root)
    seen: set[str] = set()
    todo = [_imports_of(Path(script), "")]
    while todo:
        for module in todo.pop():
            parts = module.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
                candidate = ".".join(parts[:i])
                path = _file(root, candidate)
                if path is not None and candidate not in seen:
                    seen.add(candidate)
                    is_package = path.name == "__init__.py"
                    todo.append(_imports_of(path, candidate + (".__init__" if is_package else "")))
    return tuple(sorted(seen))


def _strip_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def _code_of(path: Path) -> bytes:
    """The syntax tree of a module without its docstrings, as text; read once."""
    return ast.dump(_strip_docstrings(ast.parse(path.read_text(), filename=str(path)))).encode()


def digest(modules, root: str | Path) -> str:
    """sha256 over the named modules' code (name and syntax tree without docstrings)."""
    h = hashlib.sha256()
    for module in sorted(modules):
        h.update(module.encode() + b"\0" + _code_of(_file(Path(root), module)) + b"\0")
    return "sha256:" + h.hexdigest()
