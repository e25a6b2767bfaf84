"""No import cycles among the first-party packages (``gis``, ``api``, ``portal``).

The graph is read from the source with ``ast``, not from what happens to be imported at run
time: an import inside a function (a lazy import, kept lazy so ``gis --help`` starts fast) is
still a dependency, and a cycle through one only waits for someone to move it to the top of
the module. ``from pkg import name`` depends on ``pkg.name`` when that is a module, else on
``pkg``; relative imports are resolved against the importing module's package. Importing a
submodule is not counted as depending on its parent package's ``__init__`` (Python runs it,
but every package importing its own submodules would then be a "cycle").
``gis/migrations`` is left out: Alembic loads those files by path, never by import.

The same graph is also checked between the packages as wholes: ``api`` importing ``portal``
while ``portal`` imports ``api`` is a cycle even when no single module closes it, since
neither package can then be used, tested or replaced without the other. The command line
(``gis.cli``) counts as its own package there: it is an application over the library like
``api`` and ``portal`` (``gis serve`` starts the API), while the rest of ``gis`` never imports
either.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gis", "api", "portal")
EXCLUDED = (Path("gis/migrations"),)
#: Applications living inside a library package, counted as packages of their own.
APPLICATIONS = ("gis.cli",)

Graph = dict[str, set[str]]


def module_files(root: Path, packages: Iterable[str],
                 excluded: Iterable[Path] = ()) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under the packages (``__init__.py`` is
    the package itself)."""
    skip = [root / e for e in excluded]
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if any(path.is_relative_to(s) for s in skip) or "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module named by ``from <...> import``, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    assert base, f"{module}: relative import beyond the top-level package"
    return ".".join([*base, *([node.module] if node.module else [])])


def _deepest_known(name: str, modules: dict[str, Path]) -> str | None:
    """``name`` or its longest prefix that is a first-party module (``import a.b.c`` loads
    ``a.b.c``; an attribute path is not a module)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(modules: dict[str, Path]) -> Graph:
    """Module -> the first-party modules it imports anywhere in its source."""
    graph: Graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(_deepest_known(alias.name, modules) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(module, is_package, node)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in modules
                                else _deepest_known(base, modules))
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def tangles(graph: Graph) -> list[set[str]]:
    """The strongly connected components of more than one module: sets in which every
    module imports every other one, directly or not (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)
    return sorted(components, key=min)


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per tangle, sorted so the report is stable."""
    return sorted(_cycle_in(graph, component) for component in tangles(graph))


def _cycle_in(graph: Graph, component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle found in the component {sorted(component)}")


def package_of(module: str, applications: Iterable[str] = APPLICATIONS) -> str:
    """The top-level package of ``module``, or the application it belongs to."""
    for application in applications:
        if module == application or module.startswith(application + "."):
            return application
    return module.split(".")[0]


def package_graph(graph: Graph, applications: Iterable[str] = APPLICATIONS
                  ) -> tuple[Graph, dict[tuple[str, str], list[str]]]:
    """Package -> the packages it imports, with the module imports behind each edge."""
    packages: Graph = {}
    because: dict[tuple[str, str], list[str]] = {}
    for module, targets in graph.items():
        source = package_of(module, applications)
        packages.setdefault(source, set())
        for target in sorted(targets):
            destination = package_of(target, applications)
            if destination != source:
                packages[source].add(destination)
                because.setdefault((source, destination), []).append(f"{module} -> {target}")
    return packages, because


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_graph_resolves_relative_lazy_and_submodule_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "from pkg.sub import thing\n",
        "pkg/sub/__init__.py": "thing = 1\n",
        "pkg/sub/a.py": "from . import b\nfrom .. import sub\n",
        "pkg/sub/b.py": "def lazy():\n    from pkg.sub.c import x\n",
        "pkg/sub/c.py": "import pkg.sub.a.attribute\nimport os\nx = 1\n",
        "pkg/other.py": "from .sub.b import lazy\nfrom pkg import sub, nothing\n",
        "pkg/skipped/m.py": "import pkg.other\n",
    })
    modules = module_files(tmp_path, ["pkg"], [Path("pkg/skipped")])
    assert sorted(modules) == ["pkg", "pkg.other", "pkg.sub", "pkg.sub.a", "pkg.sub.b",
                               "pkg.sub.c"]
    graph = import_graph(modules)
    assert graph == {
        "pkg": {"pkg.sub"},
        "pkg.sub": set(),
        "pkg.sub.a": {"pkg.sub.b", "pkg.sub"},
        "pkg.sub.b": {"pkg.sub.c"},
        "pkg.sub.c": {"pkg.sub.a"},
        "pkg.other": {"pkg.sub.b", "pkg.sub", "pkg"},
    }
    assert find_cycles(graph) == [["pkg.sub.a", "pkg.sub.b", "pkg.sub.c", "pkg.sub.a"]]


def test_no_import_cycles() -> None:
    modules = module_files(ROOT, PACKAGES, EXCLUDED)
    assert "gis.cli" in modules and "api.app" in modules and "portal.pages" in modules
    assert not any(m.startswith("gis.migrations") for m in modules)
    graph = import_graph(modules)
    report = [f"{' -> '.join(_cycle_in(graph, tangle))}\n    (all of {sorted(tangle)} "
              "import each other)" for tangle in tangles(graph)]
    assert not report, "import cycles:\n" + "\n".join(report)


def test_package_graph_names_the_imports_behind_each_edge() -> None:
    graph = {"a.x": {"b.y", "a.z"}, "a.z": set(), "b.y": {"a.app.main"}, "a.app.main": set(),
             "b.w": {"a.z"}}
    packages, because = package_graph(graph, ["a.app"])
    assert packages == {"a": {"b"}, "b": {"a.app", "a"}, "a.app": set()}
    assert because[("b", "a")] == ["b.w -> a.z"]
    assert find_cycles(packages) == [["a", "b", "a"]]


def test_no_import_cycles_between_packages() -> None:
    packages, because = package_graph(import_graph(module_files(ROOT, PACKAGES, EXCLUDED)))
    assert set(packages) == {*PACKAGES, *APPLICATIONS}
    cycles = find_cycles(packages)
    report = []
    for cycle in cycles:
        report.append(" -> ".join(cycle))
        report.extend(f"    {edge}" for a, b in pairwise(cycle)
                      for edge in because[(a, b)])
    assert not cycles, "import cycles between packages:\n" + "\n".join(report)
