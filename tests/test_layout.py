"""The README's "Code layout" table matches the tree, and the library's imports have no cycle."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def layout_rows() -> dict[str, set[str]]:
    """wing folder -> module names, from the table under "### Code layout"."""
    section = README.split("### Code layout", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        m = re.match(r"\| `(qmcrawler/[a-z_]*/?)`(?: \(root\))? \| (.+?) \|", line)
        if m:
            rows[m.group(1)] = {name.rstrip("/") for name in re.findall(r"`([\w/]+)`", m.group(2))}
    return rows


def test_every_module_is_in_its_wing_row() -> None:
    rows = layout_rows()
    assert "qmcrawler/" in rows, "the root row is missing"
    for folder, names in rows.items():
        base = ROOT / folder
        assert base.is_dir(), f"{folder} is in the README but not in the tree"
        if folder == "qmcrawler/":
            actual = {p.stem for p in base.glob("*.py") if p.stem not in ("__init__", "__main__")}
            actual |= {
                p.name for p in base.iterdir() if (p / "__init__.py").exists() and f"{folder}{p.name}/" not in rows
            }
        else:
            actual = {p.stem for p in base.glob("*.py") if p.stem != "__init__"}
        assert actual == names, f"{folder}: README lists {sorted(names)}, the tree has {sorted(actual)}"


def test_every_package_has_a_row() -> None:
    rows = layout_rows()
    packages = {f"qmcrawler/{p.name}/" for p in (ROOT / "qmcrawler").iterdir() if (p / "__init__.py").exists()}
    assert packages - set(rows) <= {"qmcrawler/commands/"}  # Scrapy's command, listed in the root row


def _module_graph() -> dict[str, set[str]]:
    files = [p for top in ("qmcrawler", "spiders", "pipelines") for p in (ROOT / top).rglob("*.py")]
    names = {}
    for p in files:
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        names[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in names.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    graph[name].add(full if full in names else node.module)
            elif isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names)
        graph[name] = {d for d in graph[name] if d in names and d != name}
    return graph


def test_imports_have_no_cycle() -> None:
    graph = _module_graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        path.append(node)
        for dep in sorted(graph[node]):
            visit(dep)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_library_never_imports_the_scrapy_side() -> None:
    graph = _module_graph()
    for name, deps in graph.items():
        if name.startswith("qmcrawler."):
            assert not {d for d in deps if d.startswith(("spiders", "pipelines"))}, name
