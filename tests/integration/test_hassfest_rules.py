"""Our own copy of two of hassfest's rules, so scripts/test catches what HACS's CI would.

Home Assistant's ``script/hassfest`` is not shipped with the ``homeassistant`` package,
so we check the same two things ourselves:

- every ``homeassistant.components.X`` the integration imports (outside
  ``TYPE_CHECKING``) is in the manifest's ``dependencies`` or ``after_dependencies``,
  unless X is an entity platform, one of the internal integrations hassfest always
  allows, or a platform file of ours (``diagnostics.py``, ``logbook.py``...);
- strings.json and every translation use only the top-level keys of Home Assistant's
  translation schema, with ``exceptions`` entries holding only a ``message`` and
  ``common`` holding plain strings.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from homeassistant.const import Platform
import pytest

INTEGRATION = Path(__file__).parents[2] / "custom_components" / "fluxilab"

# hassfest's ALLOWED_USED_COMPONENTS: integrations any integration may import.
ALWAYS_ALLOWED = {platform.value for platform in Platform} | {
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
}

# The top-level keys of hassfest's gen_strings_schema.
TRANSLATION_KEYS = {
    "title",
    "config",
    "config_subentries",
    "options",
    "preview_features",
    "selector",
    "device_automation",
    "system_health",
    "config_panel",
    "application_credentials",
    "issues",
    "entity_component",
    "device",
    "entity",
    "exceptions",
    "services",
    "conditions",
    "triggers",
    "conversation",
    "common",
}


class _Imports(ast.NodeVisitor):
    """Collect the integrations a module references, as hassfest's collector does."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "homeassistant.components.http.auth" and [
            alias.name for alias in node.names
        ] == ["async_sign_path"]:
            return
        if module.startswith("homeassistant.components."):
            self.found.add(module.split(".")[2])
        elif module == "homeassistant.components":
            self.found.update(alias.name for alias in node.names)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("homeassistant.components."):
                self.found.add(alias.name.split(".")[2])


def undeclared_components(integration: Path) -> dict[str, set[str]]:
    """Return {component: files} for imports the manifest does not declare."""
    manifest = json.loads((integration / "manifest.json").read_text())
    allowed = (
        ALWAYS_ALLOWED
        | set(manifest.get("dependencies", []))
        | set(manifest.get("after_dependencies", []))
        | {manifest["domain"]}
    )
    missing: dict[str, set[str]] = {}
    for path in sorted(integration.rglob("*.py")):
        collector = _Imports()
        collector.visit(ast.parse(path.read_text(), filename=str(path)))
        for component in collector.found - allowed:
            # A platform of ours for that component (diagnostics.py, logbook.py).
            if (integration / f"{component}.py").is_file() or (
                integration / component
            ).is_dir():
                continue
            missing.setdefault(component, set()).add(str(path.relative_to(integration)))
    return missing


def translation_errors(strings: dict[str, Any]) -> list[str]:
    """Return what Home Assistant's translation schema would refuse in ``strings``."""
    errors = [
        f"not a valid option at '{key}'"
        for key in strings
        if key not in TRANSLATION_KEYS
    ]
    for key, value in strings.get("exceptions", {}).items():
        if not isinstance(value, dict) or set(value) - {"message"}:
            errors.append(f"exceptions.{key} may hold only 'message'")
    for key, value in strings.get("common", {}).items():
        if not isinstance(value, str):
            errors.append(f"common.{key} must be a string")
    return errors


def _translation_files() -> list[Path]:
    return [
        INTEGRATION / "strings.json",
        *sorted(INTEGRATION.glob("translations/*.json")),
    ]


def test_every_imported_component_is_declared() -> None:
    """hassfest [DEPENDENCIES]: imports match dependencies/after_dependencies."""
    assert undeclared_components(INTEGRATION) == {}


@pytest.mark.parametrize("path", _translation_files(), ids=lambda p: p.name)
def test_translations_use_only_known_keys(path: Path) -> None:
    """hassfest [TRANSLATIONS]: only the keys Home Assistant's schema allows."""
    assert translation_errors(json.loads(path.read_text())) == []


def test_the_checks_catch_what_hassfest_reported(tmp_path: Path) -> None:
    """The checks find the four errors hassfest reported before they were fixed."""
    (tmp_path / "manifest.json").write_text(
        json.dumps({"domain": "demo", "dependencies": ["mqtt"]})
    )
    (tmp_path / "panel.py").write_text(
        "from homeassistant.components.http import StaticPathConfig\n"
        "from homeassistant.components import mqtt, tag\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from homeassistant.components.cloud import Cloud\n"
    )
    (tmp_path / "diagnostics.py").write_text(
        "from homeassistant.components.diagnostics import async_redact_data\n"
    )
    assert undeclared_components(tmp_path) == {
        "http": {"panel.py"},
        "tag": {"panel.py"},
    }
    assert translation_errors(
        {"notifications": {"x": {"title": "t"}}, "exceptions": {"y": {"title": "t"}}}
    ) == [
        "not a valid option at 'notifications'",
        "exceptions.y may hold only 'message'",
    ]


def test_translations_have_the_same_keys() -> None:
    """Every language has exactly English's keys, and strings.json is English."""

    def keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
        found: set[str] = set()
        for key, value in tree.items():
            if isinstance(value, dict):
                found |= keys(value, f"{prefix}{key}.")
            else:
                found.add(f"{prefix}{key}")
        return found

    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    assert json.loads((INTEGRATION / "strings.json").read_text()) == english
    for path in sorted(INTEGRATION.glob("translations/*.json")):
        assert keys(json.loads(path.read_text())) == keys(english), path.name
