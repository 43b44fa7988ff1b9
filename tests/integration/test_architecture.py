"""The integration's modules import each other without a cycle (docs/ARCHITECTURE.md).

import-linter (pyproject.toml, run by scripts/test) holds the layers and keeps
siblings acyclic; this test adds what a sibling contract cannot see: a module and
the package that holds it importing each other (``access/__init__.py`` and
``access/engine.py``, say). Imports under ``TYPE_CHECKING`` and inside functions
count too: a cycle hidden there is still a cycle to the reader.
"""

from __future__ import annotations

import grimp

PACKAGE = "custom_components.fluxilab"


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[tuple[str, ...]]:
    """Return one cycle per direct import that some chain leads back from."""
    modules = sorted(m for m in graph.modules if m.startswith(package))
    cycles: list[tuple[str, ...]] = []
    seen: set[frozenset[str]] = set()
    for importer in modules:
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if not imported.startswith(package) or imported == importer:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is None:
                continue
            cycle = (importer, *back)
            if (members := frozenset(cycle)) not in seen:
                seen.add(members)
                cycles.append(cycle)
    return cycles


def test_no_import_cycles() -> None:
    """No chain of imports inside the integration leads back to where it started."""
    graph = grimp.build_graph("custom_components", cache_dir=None)
    assert import_cycles(graph, PACKAGE) == []


def test_cycles_are_found() -> None:
    """The check sees a cycle through a package and its module, and a plain one."""
    graph = grimp.ImportGraph()
    for module in ("lab", "lab.core", "lab.core.engine", "lab.api", "lab.base"):
        graph.add_module(module)
    graph.add_import(importer="lab.core", imported="lab.core.engine")
    graph.add_import(importer="lab.core.engine", imported="lab.core")
    graph.add_import(importer="lab.api", imported="lab.base")
    assert import_cycles(graph, "lab") == [("lab.core", "lab.core.engine", "lab.core")]
    graph.add_import(importer="lab.base", imported="lab.api")
    assert len(import_cycles(graph, "lab")) == 2
