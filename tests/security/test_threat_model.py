"""docs/SECURITY.md names the tests that hold each claim: they must exist."""

from __future__ import annotations

from pathlib import Path
import re

REPO = Path(__file__).parents[2]


def test_every_test_named_in_security_md_exists() -> None:
    """A renamed or deleted test must not leave the threat model pointing at nothing."""
    doc = (REPO / "docs" / "SECURITY.md").read_text()
    named = set(re.findall(r"\btest_\w+", doc)) - {"test_sweep_"}
    named = {name.removesuffix("_") for name in named}
    defined = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        defined |= set(
            re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M)
        )
    files = {path.stem for path in (REPO / "tests").rglob("test_*.py")}
    missing = sorted(
        name
        for name in named
        if name not in defined
        and name not in files
        and not any(test.startswith(f"{name}_") for test in defined)
    )
    assert missing == []
