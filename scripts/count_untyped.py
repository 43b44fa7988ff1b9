#!/usr/bin/env python3
"""Count untyped dicts in the integration: where they sit at an edge, where inside.

Counts every `dict[str, Any]` and `Mapping[str, Any]` in
custom_components/fluxilab/**/*.py and classifies each occurrence by one rule
(issue 16: "dict[str, Any] only at wire and storage edges"). An occurrence is an
EDGE when any of these holds, otherwise it is INTERNAL:

1. Its module is a wire or storage edge as a whole: `api/` (the websocket and
   service doors: `msg` in, replies out), `protocol/` (the MQTT wire),
   `device/broker.py`, `config_flow.py` and `repairs.py` (`user_input`),
   `diagnostics.py`, `logbook.py` (bus event data).
2. It is inside a function whose name says it converts between a wire or
   storage form and a model: `as_wire`, `from_wire`, `as_dict`, `from_dict`,
   `from_row`, `to_row`, `as_row`, `from_entry`, `as_event`, `to_json`,
   `from_json`, or any
   name starting with `_row`, `row_`, `_serialize`, `_deserialize`, or ending
   with `_json`, `_wire`, `_row`, `_rows`.
3. It is inside a storage-collection or Store hook: `_process_create_data`,
   `_update_data`, `_get_suggested_id`, `_async_migrate_func`,
   `_async_load_data`, `_create_item`, `_deserialize_item`, `_serialize_item`.
4. It annotates a parameter named `msg`, `user_input`, `item`, `update_data`,
   `payload`, `body` or `event_data` (the wire/storage shapes by name).
5. It is DECLARED an edge where the name rules cannot see it: a comment
   `# edge: <which edge, in at least three words>` at the end of its line or
   alone on the line right above it (e.g. "# edge: bus event data, as fired").
   Declared edges are counted in their own column and listed with their reasons
   by `--declared`, so that a reviewer reads every one of them.

Runs on plain python3 (no Home Assistant). Usage:
    python3 scripts/count_untyped.py            # table and totals
    python3 scripts/count_untyped.py --internal # also list each internal one
    python3 scripts/count_untyped.py --declared # also list each declared edge
    python3 scripts/count_untyped.py --package DIR  # count another copy
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
import re
import sys

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "custom_components" / "fluxilab"
PATTERN = re.compile(r"\b(?:dict|Mapping)\[str, Any\]")

EDGE_DIRS = ("api/", "protocol/")
EDGE_MODULES = frozenset(
    {
        "device/broker.py",
        "config_flow.py",
        "repairs.py",
        "diagnostics.py",
        "logbook.py",
    }
)
CONVERTERS = frozenset(
    {
        "as_wire",
        "from_wire",
        "as_dict",
        "from_dict",
        "from_row",
        "from_entry",
        "to_row",
        "as_row",
        "as_event",
        "to_json",
        "from_json",
    }
)
CONVERTER_PREFIXES = ("_row", "row_", "_serialize", "_deserialize")
CONVERTER_SUFFIXES = ("_json", "_wire", "_row", "_rows")
STORAGE_HOOKS = frozenset(
    {
        "_process_create_data",
        "_update_data",
        "_get_suggested_id",
        "_async_migrate_func",
        "_async_load_data",
        "_create_item",
        "_deserialize_item",
        "_serialize_item",
    }
)
EDGE_PARAMS = frozenset(
    {"msg", "user_input", "item", "update_data", "payload", "body", "event_data"}
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence and why it was classified so."""

    module: str
    line: int
    function: str
    edge: bool
    why: str

    @property
    def declared(self) -> bool:
        """An edge by its own ``# edge:`` comment (rule 5)."""
        return self.why.startswith("declared: ")


DECLARED = re.compile(r"#\s*edge:\s*(\S+(?:\s+\S+){2,})\s*$")
"""Rule 5's comment: ``# edge:`` and a reason of three words or more."""


def _declared(lines: list[str], index: int) -> str | None:
    """The reason a ``# edge:`` comment on this line or the one above gives."""
    if match := DECLARED.search(lines[index]):
        return match.group(1)
    above = lines[index - 1] if index > 0 else ""
    if above.lstrip().startswith("#") and (match := DECLARED.search(above)):
        return match.group(1)
    return None


def _is_converter(name: str) -> bool:
    return (
        name in CONVERTERS
        or name.startswith(CONVERTER_PREFIXES)
        or name.endswith(CONVERTER_SUFFIXES)
    )


@dataclass(frozen=True, slots=True)
class _Function:
    """A def found by its indentation: its signature lines and its body lines."""

    name: str
    start: int
    signature_end: int
    end: int


DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
PARAM = re.compile(r"\b(\w+)\s*:\s*$")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _functions(lines: list[str]) -> list[_Function]:
    """Every def with its line range, read from indentation.

    Line-based rather than `ast`, so that the script runs on any python3 even
    though the integration uses newer syntax (`type X = ...`, `def f[T]`).
    """
    found = []
    for index, text in enumerate(lines):
        match = DEF.match(text)
        if not match:
            continue
        indent = len(match.group(1))
        depth = 0
        signature_end = index
        for signature_end in range(index, len(lines)):
            code = lines[signature_end].split("#", 1)[0]
            depth += code.count("(") + code.count("[") - code.count(")")
            depth -= code.count("]")
            if depth <= 0 and code.rstrip().endswith(":"):
                break
        end = signature_end
        for later in range(signature_end + 1, len(lines)):
            line = lines[later]
            if line.strip() and _indent(line) <= indent:
                break
            end = later
        found.append(_Function(match.group(2), index, signature_end, end))
    return found


def classify(module: str, source: str) -> list[Hit]:
    """Classify every occurrence in one module's source."""
    lines = source.splitlines()
    functions = _functions(lines)
    whole_module = module in EDGE_MODULES or module.startswith(EDGE_DIRS)
    hits = []
    for index, text in enumerate(lines):
        for match in PATTERN.finditer(text):
            enclosing = [f for f in functions if f.start <= index <= f.end]
            names = [f.name for f in enclosing]
            innermost = enclosing[-1] if enclosing else None
            where = ".".join(names) or "<module>"
            why = ""
            if whole_module:
                why = "edge module"
            elif any(_is_converter(n) for n in names):
                why = "converter"
            elif any(n in STORAGE_HOOKS for n in names):
                why = "storage hook"
            elif innermost is not None and index <= innermost.signature_end:
                param = PARAM.search(text[: match.start()])
                if param and param.group(1) in EDGE_PARAMS:
                    why = f"param {param.group(1)}"
            if not why and (reason := _declared(lines, index)):
                why = f"declared: {reason}"
            hits.append(Hit(module, index + 1, where, bool(why), why or "internal"))
    return hits


def collect(package: Path = PACKAGE) -> list[Hit]:
    """Every occurrence in the package, module by module."""
    hits: list[Hit] = []
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        hits.extend(classify(module, path.read_text(encoding="utf-8")))
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--internal", action="store_true", help="list every internal occurrence"
    )
    parser.add_argument(
        "--declared",
        action="store_true",
        help="list every declared edge (rule 5) with its reason",
    )
    parser.add_argument(
        "--package",
        type=Path,
        default=PACKAGE,
        help="another copy of the package (e.g. a `git archive` of an older commit)",
    )
    args = parser.parse_args(argv)
    hits = collect(args.package)
    per_module: dict[str, list[int]] = {}
    for hit in hits:
        counts = per_module.setdefault(hit.module, [0, 0, 0])
        counts[0 if hit.edge else 2] += 1
        counts[1] += hit.declared
    width = max((len(m) for m in per_module), default=6)
    print(
        f"{'module':<{width}}  {'edge':>5}  {'declared':>8}  {'internal':>8}"
        f"  {'total':>5}"
    )
    for module, (edge, declared, internal) in sorted(
        per_module.items(), key=lambda item: (-item[1][2], -item[1][1], item[0])
    ):
        print(
            f"{module:<{width}}  {edge:>5}  {declared:>8}  {internal:>8}"
            f"  {edge + internal:>5}"
        )
    edge_total = sum(1 for hit in hits if hit.edge)
    declared_total = sum(1 for hit in hits if hit.declared)
    internal_total = len(hits) - edge_total
    print(
        f"{'TOTAL':<{width}}  {edge_total:>5}  {declared_total:>8}"
        f"  {internal_total:>8}  {len(hits):>5}"
    )
    print("(edge includes declared: an edge the name rules cannot see, rule 5)")
    if args.internal:
        print()
        for hit in hits:
            if not hit.edge:
                print(f"{hit.module}:{hit.line}: {hit.function}")
    if args.declared:
        print()
        for hit in hits:
            if hit.declared:
                print(f"{hit.module}:{hit.line}: {hit.function}: {hit.why[10:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
