"""Issue 18: no raw validation text or reason code reaches the panel's user.

The panel shows an error of the backend as the integration's translated exception
(``translation_key`` → translations/<lang>.json ``exceptions``) or, for a websocket
error without one, by its error code (frontend/src/localize/localize.ts ``CODES``).
These tests walk the backend's sources for every exception key it can raise and
every websocket error code it can answer with, and fail when one has no English or
Italian text. (frontend/test/*.test.mjs check what the panel makes of them.)
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re

from homeassistant.components.websocket_api import const as ws_const

REPO = Path(__file__).resolve().parents[2]
INTEGRATION = REPO / "custom_components" / "fluxilab"
PANEL = REPO / "frontend" / "src" / "localize"
LANGUAGES = ("en", "it")

HELPERS = {"AccessValidationError", "_invalid"}
"""Our constructors of translated exceptions: the key is their first argument."""


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_exception(name: str) -> bool:
    return name.endswith(("Error", "NotReady", "AuthFailed")) or name in HELPERS


def raised_keys() -> tuple[dict[str, list[str]], list[str]]:
    """Every exception translation key in the integration, with where; and the unknown.

    The second list names every translated exception whose key is not a literal (and
    not one of HELPERS' own definitions): the test cannot check those, so it fails.
    """
    keys: dict[str, list[str]] = {}
    unknown: list[str] = []
    for path in sorted(INTEGRATION.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(REPO)
        helper_bodies = {
            id(node)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.ClassDef) and fn.name in HELPERS
            for node in ast.walk(fn)
        }
        for node in ast.walk(tree):
            key: ast.expr | None = None
            if isinstance(node, ast.Call) and _is_exception(_name(node.func)):
                if _name(node.func) in HELPERS and node.args:
                    key = node.args[0]
                key = next(
                    (k.value for k in node.keywords if k.arg == "translation_key"), key
                )
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and _name(node.targets[0]) == "translation_key"
                and isinstance(node.targets[0], ast.Attribute)
            ):
                key = node.value
            if key is None:
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.setdefault(key.value, []).append(f"{where}:{node.lineno}")
            elif id(node) not in helper_bodies:
                unknown.append(f"{where}:{node.lineno}")
    return keys, unknown


def sent_codes() -> dict[str, list[str]]:
    """Every websocket error code the integration sends itself (send_error)."""
    codes: dict[str, list[str]] = {}
    for path in sorted(INTEGRATION.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and _name(node.func) == "send_error"
                and len(node.args) >= 2
            ):
                continue
            code = node.args[1]
            if isinstance(code, ast.Constant):
                value = code.value
            else:
                value = getattr(ws_const, _name(code))
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            codes.setdefault(value, []).append(where)
    return codes


def _exceptions(name: str) -> dict[str, dict[str, str]]:
    data = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))
    exceptions: dict[str, dict[str, str]] = data["exceptions"]
    return exceptions


def _panel(language: str) -> dict[str, str]:
    text: dict[str, str] = json.loads(
        (PANEL / "languages" / f"{language}.json").read_text(encoding="utf-8")
    )
    return text


def panel_codes() -> dict[str, str]:
    """The panel's word for each websocket error code (localize.ts ``CODES``)."""
    source = (PANEL / "localize.ts").read_text(encoding="utf-8")
    block = re.search(r"const CODES[^{]*\{(.*?)\};", source, re.S)
    assert block is not None, "CODES not found in localize.ts"
    return dict(re.findall(r'(\w+): "(\w+)"', block.group(1)))


def test_the_walk_finds_what_it_should() -> None:
    """The walk sees the kinds of raise the integration uses (a broken walk fails)."""
    keys, _ = raised_keys()
    assert len(keys) > 40
    assert "unknown_device" in keys  # _invalid("unknown_device") and direct raises
    assert "not_permitted" in keys  # self.translation_key = ... (permissions.py)
    assert "empty_grant" in keys or "unknown_member" in keys  # AccessValidationError
    assert "mqtt_not_ready" in keys  # ConfigEntryNotReady(translation_key=...)
    # The one the integration sends itself (notify.py); refusals are Unauthorized
    # (permissions.py) or translated errors, as member/delete's self-deletion now is.
    assert set(sent_codes()) >= {ws_const.ERR_NOT_FOUND}


def test_every_raised_exception_has_words_in_both_languages() -> None:
    keys, unknown = raised_keys()
    assert not unknown, (
        f"translated exceptions with a key the test cannot see: {unknown}"
    )
    for source in ("strings.json", "translations/en.json", "translations/it.json"):
        exceptions = _exceptions(source)
        missing = {
            key: where
            for key, where in keys.items()
            if not (exceptions.get(key) or {}).get("message", "").strip()
        }
        assert not missing, f"{source} has no message for {missing}"


def test_every_placeholder_is_filled_by_the_raise() -> None:
    """A message's {placeholder} is one the English text also has: none shows raw."""
    english = _exceptions("translations/en.json")
    italian = _exceptions("translations/it.json")
    for key, entry in english.items():
        wanted = set(re.findall(r"\{(\w+)\}", entry["message"]))
        found = set(re.findall(r"\{(\w+)\}", italian[key]["message"]))
        assert found <= wanted, f"{key}: the Italian text has {found - wanted}"


def test_every_websocket_error_code_reads_as_words() -> None:
    """Codes we send and those Home Assistant sends for what our commands raise."""
    codes = set(sent_codes()) | {
        ws_const.ERR_UNAUTHORIZED,  # Unauthorized (permissions.py)
        ws_const.ERR_INVALID_FORMAT,  # a schema's refusal: never its raw text
        ws_const.ERR_UNKNOWN_COMMAND,  # a panel newer than the integration
        ws_const.ERR_TIMEOUT,
    }
    words = panel_codes()
    assert not codes - set(words), f"no word of the panel for {codes - set(words)}"
    for language in LANGUAGES:
        panel = _panel(language)
        for code in codes:
            assert panel.get(words[code], "").strip(), f"{language}: {words[code]}"
        # What every other error (home_assistant_error without a key, unknown_error)
        # reads as.
        assert panel.get("error_failed", "").strip(), language
