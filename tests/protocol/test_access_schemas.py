"""The access request and reply schemas accept and refuse what they did with
``vol.Any(None, ...)`` for their optional fields (``_nullable``, cheaper: no exception
per field that is set).

Every generated body goes through the schema and through a reference built the old
way: the same dict comes back, or both refuse it, naming the same fields. The
messages may differ: ``vol.Any`` reported None's mismatch ("not a valid value"),
``_nullable`` the field's own check.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest
import voluptuous as vol

from fluxilab_protocol.schemas import (
    ACCESS_REPLY_SCHEMA,
    ACCESS_REQUEST_SCHEMA,
    AccessAction,
)


def _text(max_len: int = 255) -> vol.All:
    return vol.All(str, vol.Length(min=1, max=max_len))


def _finite(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise vol.Invalid("expected a number")
    if not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    number: int | float = value
    return number


SECONDS = vol.All(_finite, vol.Range(min=0))
REFERENCE_REQUEST = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("action"): vol.Coerce(AccessAction),
        vol.Optional("card"): vol.Any(None, _text(64)),
        vol.Optional("member_id"): vol.Any(None, _text(64)),
        vol.Optional("session_id"): vol.Any(None, _text(64)),
        vol.Optional("duration"): vol.Any(None, SECONDS),
        vol.Optional("project"): vol.Any(None, _text(100)),
        vol.Optional("description"): vol.Any(None, _text(200)),
        vol.Optional("unsafe"): bool,
    },
    extra=vol.ALLOW_EXTRA,
)
REFERENCE_REPLY = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("granted"): bool,
        vol.Required("reason"): _text(64),
        vol.Optional("member_id"): vol.Any(None, _text(64)),
        vol.Optional("name"): vol.Any(None, _text()),
        vol.Optional("level"): vol.Any(None, _text(32)),
        vol.Optional("session_id"): vol.Any(None, _text(64)),
        vol.Optional("timeout"): vol.Any(None, SECONDS),
        vol.Optional("grace"): vol.Any(None, SECONDS),
        vol.Optional("message"): vol.Any(None, vol.All(str, vol.Length(max=64))),
    },
    extra=vol.ALLOW_EXTRA,
)

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, -1e-9, 1e308, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "a", "x" * 32, "x" * 33, "x" * 64, "x" * 65, "y" * 256]),
    st.text(max_size=70),
    st.just([]),
    st.just({"a": 1}),
    st.binary(max_size=3),
)
REQUEST_KEYS = (
    "id",
    "action",
    "card",
    "member_id",
    "session_id",
    "duration",
    "project",
    "description",
    "unsafe",
    "x",
)
REPLY_KEYS = (
    "id",
    "granted",
    "reason",
    "member_id",
    "name",
    "level",
    "session_id",
    "timeout",
    "grace",
    "message",
    "x",
)


def _bodies(keys: tuple[str, ...], good: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A good body with some fields replaced or dropped, and some fields added."""
    return st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                key: st.one_of(st.just(good.get(key)), ANY_VALUE) for key in keys
            },
        ),
        st.dictionaries(st.sampled_from(keys), ANY_VALUE, max_size=len(keys)).map(
            lambda changed: {**good, **changed}
        ),
        st.just(good),
        ANY_VALUE,
    )


def _outcome(schema: vol.Schema, body: Any) -> tuple[str, Any]:
    try:
        return "ok", schema(body)
    except vol.MultipleInvalid as err:
        return "refused", sorted(str(error.path) for error in err.errors)
    except vol.Invalid as err:
        return "refused", [str(err.path)]


GOOD_REQUEST = {"id": "r1", "action": "check", "card": "0a1b2c3d", "duration": 1.5}
GOOD_REPLY = {
    "id": "r1",
    "granted": True,
    "reason": "granted",
    "member_id": "ada",
    "name": "Ada",
    "level": "user",
    "session_id": "s" * 32,
    "timeout": 3600,
    "grace": 90.0,
    "message": "Booked in 5 min",
}


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(_bodies(REQUEST_KEYS, GOOD_REQUEST))
def test_request_schema_as_before(body: Any) -> None:
    assert _outcome(ACCESS_REQUEST_SCHEMA, body) == _outcome(REFERENCE_REQUEST, body)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(_bodies(REPLY_KEYS, GOOD_REPLY))
def test_reply_schema_as_before(body: Any) -> None:
    assert _outcome(ACCESS_REPLY_SCHEMA, body) == _outcome(REFERENCE_REPLY, body)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("name", None, True),
        ("name", "", False),
        ("name", "x" * 255, True),
        ("name", "x" * 256, False),
        ("level", "x" * 33, False),
        ("timeout", 0, True),
        ("timeout", -1, False),
        ("timeout", True, False),
        ("timeout", math.nan, False),
        ("grace", None, True),
        ("message", "", True),
        ("message", "x" * 65, False),
        ("session_id", 7, False),
    ],
)
def test_reply_fields(field: str, value: Any, accepted: bool) -> None:
    body = {**GOOD_REPLY, field: value}
    if accepted:
        assert ACCESS_REPLY_SCHEMA(body)[field] == value
    else:
        with pytest.raises(vol.Invalid) as err:
            ACCESS_REPLY_SCHEMA(body)
        assert [str(e.path) for e in err.value.errors] == [f"['{field}']"]
