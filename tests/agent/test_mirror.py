"""The credential mirror: persistence, generations, card and login checks."""

from __future__ import annotations

import json
from pathlib import Path
import stat
from typing import Any

import pytest
import voluptuous as vol

from fluxilab_agent.mirror import CredentialMirror, hash_secret

LONG = "p" * 80  # bcrypt looks at 72 bytes only


def _body(generation: int, **member: Any) -> dict[str, Any]:
    return {
        "generation": generation,
        "members": [
            {
                "id": "m-1",
                "name": "Ada Lovelace",
                "level": "user",
                "cards": ["04A1B2"],
                "pin_hash": hash_secret("246810", rounds=4),
            }
            | member,
            {"id": "m-2", "name": "Bob", "level": "staff", "pin_hash": None},
        ],
        "timeout": 3600,
    }


def test_empty_then_replaced_and_persisted(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    mirror = CredentialMirror(path)
    assert mirror.generation == -1
    assert mirror.members == ()
    mirror.replace(_body(3))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = CredentialMirror(path)
    assert again.generation == 3
    assert again.timeout == 3600
    member = again.by_card("04a1b2")
    assert member is not None
    assert member.id == "m-1"
    assert member.cards == ("04A1B2",)
    assert again.by_id("m-2") is not None
    assert again.by_card("nope") is None


def test_older_generations_are_ignored(tmp_path: Path) -> None:
    mirror = CredentialMirror(tmp_path / "c.json")
    mirror.replace(_body(5))
    mirror.replace(_body(5, cards=["OTHER"]))
    mirror.replace(_body(4, cards=["OTHER"]))
    assert mirror.by_card("04A1B2") is not None
    mirror.replace(_body(6, cards=["OTHER"]))
    assert mirror.by_card("04A1B2") is None
    assert mirror.by_card("other") is not None


def test_invalid_body_is_refused(tmp_path: Path) -> None:
    mirror = CredentialMirror(tmp_path / "c.json")
    with pytest.raises(vol.Invalid):
        mirror.replace({"generation": 1, "members": [{"id": "x"}]})
    assert mirror.generation == -1


def test_damaged_file_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"generation": 1, "members": [', encoding="utf-8")
    assert CredentialMirror(path).generation == -1
    assert "damaged credential mirror" in caplog.text


def test_verify_login(tmp_path: Path) -> None:
    mirror = CredentialMirror(tmp_path / "c.json")
    mirror.replace(_body(1))
    assert mirror.verify_login("m-1", "246810") is not None
    assert mirror.verify_login("ada lovelace", "246810") is not None
    assert mirror.verify_login("M-1", "246810") is not None
    assert mirror.verify_login("m-1", "246811") is None
    assert mirror.verify_login("bob", "") is None  # no PIN: no login
    assert mirror.verify_login("nobody", "246810") is None
    mirror.replace(_body(2, pin_hash=hash_secret(LONG, rounds=4)))
    # Secrets are truncated the same way on both sides: 72 bytes.
    assert mirror.verify_login("m-1", LONG) is not None
    assert mirror.verify_login("m-1", LONG[:72] + "different") is not None
    mirror.replace(_body(3, pin_hash="not-a-bcrypt-hash"))
    assert mirror.verify_login("m-1", "246810") is None


def test_initial_pin_flag(tmp_path: Path) -> None:
    """Issue 14: the set flags an initial PIN; the flag survives a restart."""
    path = tmp_path / "c.json"
    mirror = CredentialMirror(path)
    mirror.replace(_body(1, pin_must_change=True))
    member = mirror.verify_login("m-1", "246810")
    assert member is not None
    assert member.pin_must_change is True
    assert mirror.verify_login("m-1", "246811") is None  # the PIN is still checked
    reloaded = CredentialMirror(path).by_id("m-1")
    assert reloaded is not None
    assert reloaded.pin_must_change is True
    mirror.replace(_body(2))
    member = mirror.verify_login("m-1", "246810")
    assert member is not None
    assert member.pin_must_change is False


def test_clear(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    mirror = CredentialMirror(path)
    mirror.replace(_body(1))
    mirror.clear()
    assert mirror.generation == -1
    assert not path.exists()
    assert json.dumps(_body(1))  # the body itself stays JSON-serialisable
