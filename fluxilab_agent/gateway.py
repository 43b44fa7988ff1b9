"""The gateway in front of the device's own UI: who may see it, and as whom.

The gateway is the only listener a user reaches on a device. It lets a request
through to the device UI (``upstream``) only with a valid gateway session, and a
session is opened in one of two ways:

* **Token entry (from the hub).** The hub sends the user's browser to
  ``http(s)://<device ui>/<any path>?fluxilab_token=<JWT>``. The token is the HS256
  JWT of :func:`fluxilab_protocol.security.issue_token` (audience
  ``fluxilab:<device id>``, at most five minutes, claims ``sub``/``role``/``name``/
  ``jti``) and is good for one entry only: a ``jti`` seen before is refused. A valid
  token opens a session and answers with a tiny same-origin page that replaces
  itself (meta refresh, history entry replaced) with the same URL minus the token,
  so the token does not linger in the address bar or history. A plain HTTP redirect
  is not used on purpose: the session cookie is ``SameSite=Strict``, and browsers
  withhold such cookies from a redirect that continues a navigation started on
  another site (the hub), which would land the user on the login page. An invalid
  token (expired, forged, wrong audience, another device's, reused, malformed)
  gets a 403 page; before pairing (no keys yet) token entry answers 503.
  This is how members come in: their one Home Assistant login opens the panel, whose
  **Open** makes the token, so nobody needs a password of the device's own. Once a
  token has come with a ``back`` claim (the panel page it was opened from), the
  login page leads with *Sign in with Home Assistant*, a link to that page.
* **Local login.** ``/_fluxilab/login`` checks a member id or name and PIN/password
  against the credential mirror (bcrypt; unknown names against a dummy hash of the
  same cost). Failed attempts count per client address and per account and are
  never cleared by a success (:class:`LoginThrottle`: lockouts that double up to a
  cap); they are logged without the secret or the typed name.

Sessions are random opaque ids in an ``HttpOnly``, ``SameSite=Strict`` cookie
(``Secure`` and the ``__Host-`` prefix when ``cookie_secure``) naming a server-side
record that expires ``session_ttl`` seconds after it was opened. Every request
re-checks its session (:meth:`Gateway._still_valid`, and a proxied WebSocket every
``recheck_interval`` seconds): it ends when the member leaves the mirror, a token
session also when the pairing that signed its token is gone (revoked, re-paired),
and the role follows the mirror (lowered, never raised above the token's).

With ``ssl_context`` the gateway speaks HTTPS (the agent passes the operator's or
a self-signed certificate, ``certificate.py``); without it, plain HTTP with a
warning in the log.

With a session, every method, path, query and body is reverse-proxied to
``upstream`` (streamed, hop-by-hop headers dropped, ``Host`` rewritten, redirects
passed back rather than followed, WebSocket upgrades proxied if their ``Origin`` is
the gateway's own; a path that would leave the upstream's base is refused, see
:func:`_upstream_url`) with the identity
added as headers, each value percent-encoded UTF-8 (RFC 3986; plain ASCII ids pass
unchanged):

* ``X-FluxiLab-User``: member id (token ``sub``);
* ``X-FluxiLab-Role``: ``admin``, ``staff`` or ``user``;
* ``X-FluxiLab-Name``: display name.

Any ``X-FluxiLab-*``, ``Forwarded`` and ``X-Forwarded-*`` header a client sends is
dropped (also spelled with ``_`` for ``-``, which CGI-style servers read alike), and so is the gateway's own cookie; ``X-Forwarded-For/-Proto/-Host`` are
set by the gateway. Paths under ``/_fluxilab/`` (after percent-decoding) belong to
the gateway and are never proxied:

* ``GET /_fluxilab/`` the built-in status page (also ``/`` when no upstream);
* ``GET|POST /_fluxilab/login`` the login form (``?next=<local path>``);
* ``POST /_fluxilab/logout`` ends the session (CSRF token required);
* ``GET /_fluxilab/status.json`` live status for the page (session required);
* ``POST /_fluxilab/action`` runs a control (session and CSRF token required).

The status page shows what ``status_provider()`` returns, a JSON-serialisable
dict. Keys it understands: ``name``, ``kind``, ``telemetry`` (``{key: value}``,
``{key: {"name", "value", "unit"}}`` or a list of ``{"key", "name", "value",
"unit"}``), ``actions`` (names of the commands the device supports; when present,
only those controls are offered); every other scalar or small object is listed as
a fact. Controls call ``actions(name, args)`` with protocol command names:
``relay`` ``{"on": bool}`` and ``sync`` ``{}`` for staff and admins, ``block`` and
``unblock`` ``{}`` for admins.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
import functools
import hmac
import json
import logging
from pathlib import Path
import secrets
import socket
import ssl
import time
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote, urlencode

from fluxilab_protocol.schemas import MAX_PROBLEM_TEXT, valid_ui_url
from fluxilab_protocol.security import (
    MAX_BACK_URL,
    ProtocolSecurityError,
    SessionKeys,
    verify_token,
)

from .device_ui import log_listening
from .http11 import (
    FrameRelay,
    Headers,
    HttpError,
    Origin,
    Request,
    Response,
    Server,
    UpstreamError,
    WebSocketProtocolError,
    close_frame,
    offered_protocols,
    open_upstream,
    read_response_head,
    response_body,
    send_upstream_request,
    status_line,
    websocket_accept,
    websocket_key,
)

if TYPE_CHECKING:
    from .mirror import CredentialMirror

_LOGGER = logging.getLogger(__name__)

TOKEN_PARAM: Final = "fluxilab_token"  # noqa: S105  # a parameter name
"""Query parameter carrying the hub's gateway token."""
PREFIX: Final = "/_fluxilab/"
REPORT_REFUSALS: Final[Mapping[str, str]] = {
    "hub_unreachable": "The hub cannot be reached: tell staff in person.",
    "not_authorized": "You may report problems only with machines you may use.",
    "inactive": "Your membership is not active.",
    "not_allowed": "The report was refused: too many are open already.",
}
"""Why a problem report was not filed, as the member reads it."""
"""Paths the gateway serves itself; never proxied."""
COOKIE_NAME: Final = "fluxilab_session"
SECURE_COOKIE_NAME: Final = "__Host-fluxilab_session"
HEADER_USER: Final = "X-FluxiLab-User"
HEADER_ROLE: Final = "X-FluxiLab-Role"
HEADER_NAME: Final = "X-FluxiLab-Name"
CSRF_HEADER: Final = "X-FluxiLab-CSRF"

ROLE_RANK: Final[Mapping[str, int]] = {"user": 0, "staff": 1, "admin": 2}
MEMBER_STATUS: Final = (
    "name",
    "kind",
    "telemetry",
    "safety_limits",
    "online",
    "link",
    "blocked",
    "maintenance",
    "pin_wanted",
)
"""What a member's device page shows of the device's status: what they came for.

``pin_wanted`` (the reader waits for a card's PIN, card + PIN types) names nobody.
The internals (fingerprint, buffer, credentials, relay, who else uses it) are for
staff and admins; a member sees whether it is in use and, if it is theirs, their
session (issue 18 item 8).
"""
MAX_CLAIM_LENGTH: Final = 128
MAX_LOGIN_LENGTH: Final = 128
MAX_SECRET_LENGTH: Final = 1024
INITIAL_PIN_MESSAGE: Final = (
    "This is an initial PIN from an admin: it cannot sign in. Open FluxiLab in "
    "Home Assistant, replace it in your profile, then sign in with your new PIN."
)
MAX_SESSIONS: Final = 1000
MAX_TRACKED_KEYS: Final = 10_000
"""Addresses and accounts whose failed logins are remembered (least recently used
forgotten first), so a flood of made-up names cannot grow memory."""
LOGIN_MAX_LOCKOUT: Final = 900.0
"""The longest a lockout lasts, however many came before it."""
LOGIN_FORGET_AFTER: Final = 86_400.0
"""A key quiet (no failure, not locked) this long starts over from no lockout."""
STATUS_REFRESH_MS: Final = 2000
UPSTREAM_CONNECT_TIMEOUT: Final = 10.0
WS_CLOSE_GOING_AWAY: Final = 1001
WS_CLOSE_PROTOCOL_ERROR: Final = 1002
WS_CLOSE_POLICY_VIOLATION: Final = 1008

_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
_WS_HANDSHAKE: Final = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "sec-websocket-accept",
    }
)


@dataclass(frozen=True, slots=True)
class Control:
    """A button on the status page and the command it runs."""

    id: str
    label: str
    command: str
    args: Mapping[str, Any]
    min_role: str


CONTROLS: Final[tuple[Control, ...]] = (
    Control("relay_on", "Relay on", "relay", {"on": True}, "staff"),
    Control("relay_off", "Relay off", "relay", {"on": False}, "staff"),
    Control("sync", "Sync with hub", "sync", {}, "staff"),
    Control("block", "Block device", "block", {}, "admin"),
    Control("unblock", "Unblock device", "unblock", {}, "admin"),
)


@dataclass(slots=True)
class GatewaySession:
    """One signed-in browser."""

    user: str
    role: str
    name: str
    via_login: bool
    expires: float
    """time.monotonic() deadline."""
    pairing: str | None = None
    """Fingerprint of the pairing whose key signed the entry token."""
    generation: int = -1
    """The credential mirror's generation when the session was opened."""
    mirrored: bool = False
    """The mirror has named the member since the session was opened."""
    granted_role: str | None = None
    """A token session's role claim: the mirror may lower the role, never raise it."""
    back: str | None = None
    """Where "Back to Home Assistant" goes (a token's signed ``back`` claim)."""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))


@dataclass(slots=True)
class _Strikes:
    """Failed logins of one address or one account."""

    failures: deque[float] = field(default_factory=deque)
    """time.monotonic() of the failures inside the current window."""
    pending: int = 0
    """Attempts being checked right now (counted, so parallel guesses are too)."""
    lockouts: int = 0
    """Lockouts so far; each one lasts twice as long as the one before."""
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    """Failed logins counted per key (an address, an account), never forgiven early.

    ``max_failures`` failures of one key inside ``window`` seconds lock it for
    ``window`` seconds, the next lockout lasts twice as long, and so on up to
    ``max_lockout``. A successful login clears nothing: a member who knows their own
    PIN cannot reset the count their guesses at other accounts built up. A key is
    forgotten only after ``forget_after`` quiet seconds, or when ``max_keys`` other
    keys were used more recently (memory stays bounded).
    """

    def __init__(
        self,
        *,
        max_failures: int,
        window: float,
        max_lockout: float = LOGIN_MAX_LOCKOUT,
        forget_after: float = LOGIN_FORGET_AFTER,
        max_keys: int = MAX_TRACKED_KEYS,
    ) -> None:
        """Set the limits; nothing is tracked yet."""
        if max_failures < 1 or window <= 0 or max_lockout <= 0 or max_keys < 1:
            raise ValueError("login limits must be positive")
        self._max_failures = max_failures
        self._window = window
        self._max_lockout = max_lockout
        self._forget_after = max(forget_after, max_lockout)
        self._max_keys = max_keys
        self._keys: OrderedDict[str, _Strikes] = OrderedDict()

    def __len__(self) -> int:
        """Return the number of keys tracked."""
        return len(self._keys)

    def _peek(self, key: str, now: float) -> _Strikes | None:
        """Return what is known of ``key`` without tracking it anew."""
        strikes = self._keys.get(key)
        if strikes is None:
            return None
        if (
            not strikes.pending
            and strikes.locked_until <= now
            and strikes.last <= now - self._forget_after
        ):
            del self._keys[key]
            return None
        while strikes.failures and strikes.failures[0] <= now - self._window:
            strikes.failures.popleft()
        return strikes

    def _strikes(self, key: str, now: float) -> _Strikes:
        strikes = self._peek(key, now)
        if strikes is None:
            strikes = self._keys[key] = _Strikes()
        self._keys.move_to_end(key)
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)
        return strikes

    def retry_after(self, keys: Iterable[str], now: float) -> float:
        """Seconds until every key may try again; 0 if all may now.

        Only looks: a refused attempt tracks no new key, so a locked-out client
        cannot push its own lockout out of the table with made-up names (keys are
        tracked by :meth:`begin`, after the check, each costing a bcrypt check).
        """
        wait = 0.0
        for key in keys:
            strikes = self._peek(key, now)
            if strikes is None:
                continue
            if strikes.locked_until > now:
                wait = max(wait, strikes.locked_until - now)
            elif len(strikes.failures) + strikes.pending >= self._max_failures:
                # Full with attempts still being checked: wait for their outcome.
                wait = max(wait, 1.0)
        return wait

    def begin(self, keys: Iterable[str], now: float) -> None:
        """Count an attempt that is about to be checked."""
        for key in keys:
            self._strikes(key, now).pending += 1

    def end(self, keys: Iterable[str], now: float, *, failed: bool) -> int:
        """Settle an attempt; return the most failures any key now has."""
        most = 0
        for key in keys:
            strikes = self._strikes(key, now)
            strikes.pending = max(0, strikes.pending - 1)
            if failed:
                strikes.failures.append(now)
                strikes.last = now
                if len(strikes.failures) >= self._max_failures:
                    strikes.lockouts += 1
                    strikes.locked_until = now + min(
                        self._max_lockout,
                        self._window * 2 ** min(strikes.lockouts - 1, 32),
                    )
                    strikes.failures.clear()
                    most = max(most, self._max_failures)
            most = max(most, len(strikes.failures))
        return most


def _role_rank(role: str) -> int:
    return ROLE_RANK.get(role, 0)


def _status_for(status: dict[str, Any], session: GatewaySession) -> dict[str, Any]:
    """Return the device's status as ``session``'s role may see it (MEMBER_STATUS)."""
    if _role_rank(session.role) >= ROLE_RANK["staff"]:
        return status
    shown = {key: status[key] for key in MEMBER_STATUS if key in status}
    holder = status.get("session_member")
    shown["in_use"] = holder is not None
    if holder is not None and holder == session.user:
        shown["your_session"] = status.get("session_duration")
    return shown


def _safe_next(value: str | None) -> str:
    """Return a local path to go to after login; anything else becomes ``/``."""
    if (
        not value
        or not value.isascii()  # a Location is ASCII; the gateway's own are encoded
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)
    ):
        return "/"
    return value


def _header_value(value: str) -> str:
    return quote(value, safe="")


def _json_for_script(data: Any) -> str:
    """JSON safe to embed inside a ``<script type="application/json">`` element."""
    return (
        json.dumps(data, default=str)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


LINK_BROKEN_TEXT = (
    "This device and the lab hub no longer share keys: the hub's links and "
    "messages are refused here, and the hub refuses this device's. Ask a lab "
    "admin: Home Assistant shows the fix under Settings > Repairs."
)


class Gateway:
    """The device UI gateway: token entry, local login, sessions, reverse proxy."""

    def __init__(
        self,
        *,
        device_id: str,
        keys_provider: Callable[[], SessionKeys | None],
        mirror: CredentialMirror,
        upstream: str | None,
        status_provider: Callable[[], dict[str, Any]],
        actions: Callable[[str, dict[str, Any]], Awaitable[None]] | None = None,
        report: Callable[[str, str, bool], Awaitable[str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 8080,
        session_ttl: int = 3600,
        cookie_secure: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        login_max_failures: int = 5,
        login_window: float = 60.0,
        login_max_lockout: float = LOGIN_MAX_LOCKOUT,
        recheck_interval: float = 5.0,
    ) -> None:
        """Configure the gateway; nothing listens until start()."""
        if session_ttl <= 0:
            raise ValueError("session_ttl must be positive")
        self._device_id = device_id
        self._keys_provider = keys_provider
        self._mirror = mirror
        self._upstream = Origin.parse(upstream.rstrip("/")) if upstream else None
        self._status_provider = status_provider
        self._actions = actions
        self._report = report
        self._host = host
        self._port = port
        self._session_ttl = session_ttl
        self._cookie_secure = cookie_secure
        self._ssl_context = ssl_context
        self._cookie_name = SECURE_COOKIE_NAME if cookie_secure else COOKIE_NAME
        self._throttle = LoginThrottle(
            max_failures=login_max_failures,
            window=login_window,
            max_lockout=login_max_lockout,
        )
        self._login_window = login_window
        self._recheck_interval = recheck_interval
        self._sessions: dict[str, GatewaySession] = {}
        self._home: str | None = None
        """The panel page the last signed link came from (its ``back`` claim): the
        login page's way in, the member's own Home Assistant login."""
        self._used_jti: dict[str, float] = {}
        self._websockets: set[ProxiedWebSocket] = set()
        self._server: Server | None = None
        self._warm_up: asyncio.Future[bytes] | None = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port once started (``port=0`` picks a free one)."""
        if self._server is not None:
            for sock in self._server.sockets:
                return int(sock.getsockname()[1])
        return self._port

    async def start(self, sock: socket.socket | None = None) -> None:
        """Start listening (on ``sock`` when the caller bound it already)."""
        if self._server is not None:
            raise RuntimeError("gateway already started")
        # No access log: the request line of a token entry carries the token.
        server = Server(self._dispatch, ssl_context=self._ssl_context)
        await server.start(sock=sock, host=self._host, port=self._port)
        self._server = server
        # Make the dummy hash now, so the first unknown login is not the slow one.
        self._warm_up = asyncio.get_running_loop().run_in_executor(
            None, self._mirror.dummy_hash
        )
        if sock is None:
            log_listening(
                self._ssl_context,
                self._host,
                self.port,
                self._upstream.url if self._upstream is not None else None,
            )

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        server, self._server = self._server, None
        if server is not None:
            server.closing = True
            for websocket in list(self._websockets):
                await websocket.close(WS_CLOSE_GOING_AWAY, b"shutdown")
            await server.stop(grace=5.0)
        warm_up, self._warm_up = self._warm_up, None
        if warm_up is not None:
            with contextlib.suppress(Exception):
                await warm_up
        self._sessions.clear()

    def end_sessions(self, reason: str) -> None:
        """End every session now (the device was revoked).

        Proxied WebSockets close within ``recheck_interval`` seconds.
        """
        if self._sessions:
            _LOGGER.info("Ending %d gateway sessions: %s", len(self._sessions), reason)
        self._sessions.clear()

    # -- dispatch ------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response | None:
        """Route every request; the single place that decides what is proxied."""
        if TOKEN_PARAM in request.query:
            return await self._enter_with_token(request)
        session_id, session = self._session_of(request)
        path = request.path
        if path.startswith(PREFIX) or path == PREFIX.rstrip("/"):
            return await self._local(request, path[len(PREFIX) :], session_id, session)
        if session is None:
            return self._unauthenticated(request)
        if self._upstream is None:
            if path == "/" and request.method in ("GET", "HEAD"):
                return self._status_page(session)
            return self._message(404, "Not found", "There is nothing here.")
        return await self._proxy(request, session_id, session)

    async def _local(
        self,
        request: Request,
        endpoint: str,
        session_id: str | None,
        session: GatewaySession | None,
    ) -> Response | None:
        method = request.method
        if endpoint == "login":
            if method == "POST":
                return await self._login(request, session_id)
            if method in ("GET", "HEAD"):
                if session is not None:
                    return self._redirect(_safe_next(request.query.get("next")))
                return self._login_page(request.query.get("next"))
            return self._not_allowed(("GET", "POST"))
        if session is None or session_id is None:
            return self._unauthenticated(request)
        if endpoint in ("", "status"):
            if method not in ("GET", "HEAD"):
                return self._not_allowed(("GET",))
            return self._status_page(session)
        if endpoint == "status.json":
            if method not in ("GET", "HEAD"):
                return self._not_allowed(("GET",))
            return self._no_store(_json_response(self._status_payload(session)))
        if endpoint == "logout":
            if method != "POST":
                return self._not_allowed(("POST",))
            return await self._logout(request, session_id, session)
        if endpoint == "action":
            if method != "POST":
                return self._not_allowed(("POST",))
            return await self._action(request, session)
        if endpoint == "report" and self._report is not None:
            if method != "POST":
                return self._not_allowed(("POST",))
            return await self._report_problem(request, session)
        return self._message(404, "Not found", "There is nothing here.")

    def _unauthenticated(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD") and not request.headers.get("Upgrade"):
            target = "/_fluxilab/login?" + urlencode(
                {"next": request.raw_path}, quote_via=quote
            )
            return self._redirect(target)
        return self._message(401, "Sign in needed", "Sign in to use this device.")

    # -- sessions ------------------------------------------------------------

    def _session_of(self, request: Request) -> tuple[str | None, GatewaySession | None]:
        session_id = request.cookies.get(self._cookie_name)
        if not session_id:
            return None, None
        session = self._sessions.get(session_id)
        if session is None:
            return None, None
        if not self._still_valid(session_id, session):
            return None, None
        return session_id, session

    def _still_valid(self, session_id: str, session: GatewaySession) -> bool:
        """Check a session against what the device knows now; end it if it is over.

        Run on every request (and while a proxied WebSocket is open), so revocation,
        re-pairing, a member's removal or deactivation (the hub drops them from the
        mirror) and a role change take effect at once, not when the session expires.
        """
        if self._sessions.get(session_id) is not session:
            return False
        reason = None
        member = self._mirror.by_id(session.user)
        if session.expires <= time.monotonic():
            reason = "expired"
        elif not session.via_login and (
            (keys := self._keys_provider()) is None
            or keys.fingerprint != session.pairing
        ):
            reason = "the device was revoked or paired again"
        elif member is not None:
            session.mirrored = True
            session.name = member.name
            session.role = (
                member.level
                if session.granted_role is None
                else min(member.level, session.granted_role, key=_role_rank)
            )
        elif session.via_login or session.mirrored:
            reason = "no longer a member who may use this device"
        elif self._mirror.generation != session.generation:
            # Opened by a token for someone the mirror never named (an HA admin
            # without member, or a member the set had not reached yet): it lasts as
            # long as the credential set it was opened under and not longer.
            reason = "the credential set changed and does not name them"
        if reason is None:
            return True
        if reason != "expired":
            _LOGGER.info("Ending the session of %s: %s", session.user, reason)
        del self._sessions[session_id]
        return False

    def _open_session(
        self,
        response: Response,
        *,
        user: str,
        role: str,
        name: str,
        via_login: bool,
        pairing: str | None = None,
        replaces: str | None = None,
        back: str | None = None,
    ) -> GatewaySession:
        now = time.monotonic()
        if replaces is not None:
            self._sessions.pop(replaces, None)
        for stale in [sid for sid, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[stale]
        while len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions, key=lambda sid: self._sessions[sid].expires)
            del self._sessions[oldest]
        session_id = secrets.token_urlsafe(32)
        session = GatewaySession(
            user=user,
            role=role,
            name=name,
            via_login=via_login,
            expires=now + self._session_ttl,
            pairing=pairing,
            granted_role=None if via_login else role,
            generation=self._mirror.generation,
            mirrored=self._mirror.by_id(user) is not None,
            back=back,
        )
        self._sessions[session_id] = session
        response.set_cookie(
            self._cookie_name,
            session_id,
            max_age=self._session_ttl,
            path="/",
            httponly=True,
            secure=self._cookie_secure,
            samesite="Strict",
        )
        return session

    async def _enter_with_token(self, request: Request) -> Response:
        remote = request.remote or "?"
        keys = self._keys_provider()
        if keys is None:
            return self._message(
                503,
                "Device not paired yet",
                "This device is not paired with the lab hub yet, so it cannot accept "
                "links from Home Assistant. Sign in with your member id and PIN instead.",
                link=("/_fluxilab/login", "Sign in"),
            )
        token = request.query.get(TOKEN_PARAM, "")
        try:
            claims = verify_token(keys, token, device_id=self._device_id)
            user, role, name, jti = (
                _claim(claims, claim) for claim in ("sub", "role", "name", "jti")
            )
            self._consume_jti(jti, claims["exp"])
        except ProtocolSecurityError as err:
            _LOGGER.warning("Refused a gateway token from %s: %s", remote, err.reason)
            if self._device_status().get("link") == "broken":
                return self._message(
                    403,
                    "Secure link to the lab hub broken",
                    LINK_BROKEN_TEXT
                    + " Sign in with your member id and PIN meanwhile.",
                    link=("/_fluxilab/login", "Sign in"),
                )
            return self._message(
                403,
                "Link not valid",
                "This link is expired, already used, or not meant for this device. "
                "Open the device again from Home Assistant, or sign in here.",
                link=("/_fluxilab/login", "Sign in"),
            )
        rest = [(k, v) for k, v in request.query_items if k != TOKEN_PARAM]
        clean = request.raw_path_only
        if rest:
            clean += "?" + urlencode(rest, quote_via=quote)
        target = _safe_next(clean)
        response = self._page(
            "Signing in",
            f'<p>Signing you in… <a href="{_escape(target)}">Continue</a></p>',
            head=f'<meta http-equiv="refresh" content="0;url={_escape(target)}">',
        )
        old_id, _ = self._session_of(request)
        if (back := _back_claim(claims)) is not None:
            self._home = back
        self._open_session(
            response,
            user=user,
            role=role,
            name=name,
            via_login=False,
            pairing=keys.fingerprint,
            replaces=old_id,
            back=back,
        )
        _LOGGER.info("Gateway entry for %s (%s) from %s", user, role, remote)
        return response

    def _consume_jti(self, jti: str, exp: Any) -> None:
        now = time.time()
        for old in [key for key, expiry in self._used_jti.items() if expiry < now]:
            del self._used_jti[old]
        if jti in self._used_jti:
            raise ProtocolSecurityError("replay", "token already used")
        self._used_jti[jti] = float(exp)

    # -- login ---------------------------------------------------------------

    async def _login(self, request: Request, old_session_id: str | None) -> Response:
        if not self._same_origin(request):
            return self._message(403, "Refused", "Cross-site form submission.")
        remote = request.remote or "?"
        form = await request.post()
        login = str(form.get("login", "")).strip()
        secret = str(form.get("secret", ""))
        next_path = _safe_next(str(form.get("next", "")) or None)
        usable = (
            bool(login and secret)
            and len(login) <= MAX_LOGIN_LENGTH
            and len(secret) <= MAX_SECRET_LENGTH
        )
        # Counted per address and per account: guesses at one member's PIN from
        # many addresses lock that account, many accounts from one address lock it.
        named = self._mirror.find(login) if usable else None
        who = named.id if named is not None else "an unknown member"
        account = (
            f"member:{named.id}"
            if named is not None
            else f"login:{login[:MAX_LOGIN_LENGTH].casefold()}"
        )
        keys = (f"address:{remote}", account)
        now = time.monotonic()
        if (wait := self._throttle.retry_after(keys, now)) > 0:
            _LOGGER.warning(
                "Login for %s from %s refused: too many failed attempts", who, remote
            )
            refused = self._login_page(
                next_path,
                error="Too many failed attempts. Wait a while and try again.",
                status=429,
            )
            refused.headers["Retry-After"] = str(max(1, round(wait)))
            return refused
        self._throttle.begin(keys, now)
        member = None
        try:
            if usable:
                if (warm_up := self._warm_up) is not None and not warm_up.done():
                    # A login right after the gateway loaded waits for the dummy
                    # hash (known and unknown names alike) instead of making it a
                    # second time in a second thread.
                    with contextlib.suppress(Exception):
                        await asyncio.shield(warm_up)
                loop = asyncio.get_running_loop()
                member = await loop.run_in_executor(
                    None, self._mirror.verify_login, login, secret
                )
        finally:
            failures = self._throttle.end(keys, time.monotonic(), failed=member is None)
        if member is None:
            _LOGGER.warning(
                "Failed device login for %s from %s (%d in the last %.0f s)",
                repr(who) if named is not None else who,
                remote,
                failures,
                self._login_window,
            )
            return self._login_page(
                next_path, error="Unknown member or wrong PIN.", status=401
            )
        if member.pin_must_change:
            _LOGGER.info("Device login by %s refused: initial PIN not changed", who)
            return self._login_page(next_path, error=INITIAL_PIN_MESSAGE, status=403)
        response = self._redirect(next_path)
        self._open_session(
            response,
            user=member.id,
            role=member.level,
            name=member.name,
            via_login=True,
            replaces=old_session_id,
        )
        _LOGGER.info("Device login by %s (%s) from %s", member.id, member.level, remote)
        return response

    async def _logout(
        self, request: Request, session_id: str, session: GatewaySession
    ) -> Response:
        if not await self._csrf_ok(request, session):
            return self._message(403, "Refused", "Missing or wrong form token.")
        self._sessions.pop(session_id, None)
        response = self._redirect("/_fluxilab/login")
        response.del_cookie(
            self._cookie_name,
            path="/",
            secure=self._cookie_secure,
            httponly=True,
            samesite="Strict",
        )
        return response

    # -- status page and controls ---------------------------------------------

    def _device_status(self) -> dict[str, Any]:
        try:
            status = self._status_provider()
        except Exception:
            _LOGGER.exception("The device status provider failed")
            return {}
        return status if isinstance(status, dict) else {}

    def _controls(
        self, session: GatewaySession, status: dict[str, Any]
    ) -> list[Control]:
        if self._actions is None:
            return []
        supported = status.get("actions")
        rank = _role_rank(session.role)
        return [
            control
            for control in CONTROLS
            if rank >= _role_rank(control.min_role)
            and (not isinstance(supported, list) or control.command in supported)
        ]

    def _status_payload(self, session: GatewaySession) -> dict[str, Any]:
        status = self._device_status()
        return {
            "device": json.loads(json.dumps(_status_for(status, session), default=str)),
            "user": {"id": session.user, "name": session.name, "role": session.role},
            "controls": [
                {"id": c.id, "label": c.label} for c in self._controls(session, status)
            ],
            "expires_in": max(0, round(session.expires - time.monotonic())),
        }

    async def _action(self, request: Request, session: GatewaySession) -> Response:
        wants_json = "application/json" in (request.headers.get("Accept") or "")
        if not await self._csrf_ok(request, session):
            return (
                _json_response({"ok": False, "error": "csrf"}, status=403)
                if wants_json
                else self._message(403, "Refused", "Missing form token.")
            )
        form = await request.post()
        control_id = str(form.get("control", ""))
        status = self._device_status()
        control = next(
            (c for c in self._controls(session, status) if c.id == control_id), None
        )
        if control is None or self._actions is None:
            _LOGGER.warning(
                "Refused control %r for %s (%s)", control_id, session.user, session.role
            )
            if wants_json:
                return _json_response({"ok": False, "error": "forbidden"}, status=403)
            return self._message(403, "Refused", "You may not use this control.")
        _LOGGER.info("Control %s by %s (%s)", control.id, session.user, session.role)
        try:
            await self._actions(control.command, dict(control.args))
        except Exception:
            _LOGGER.exception("Control %s failed", control.id)
            if wants_json:
                return _json_response({"ok": False, "error": "failed"}, status=500)
            return self._message(500, "Failed", "The device could not do that.")
        if wants_json:
            return _json_response({"ok": True})
        home = "/" if self._upstream is None else PREFIX
        return Response(303, headers=Headers([("Location", home)]))

    async def _report_problem(
        self, request: Request, session: GatewaySession
    ) -> Response:
        """Send the signed-in member's problem report to the hub (issue 17 §2)."""
        if not await self._csrf_ok(request, session):
            return self._message(403, "Refused", "Missing form token.")
        assert self._report is not None  # noqa: S101  # the route needs it
        form = await request.post()
        description = str(form.get("description", "")).strip()[:MAX_PROBLEM_TEXT]
        if not description:
            return self._message(400, "Not sent", "Describe the problem.")
        unsafe = form.get("unsafe") not in (None, "")
        try:
            reason = await self._report(session.user, description, unsafe)
        except Exception:
            _LOGGER.exception("The problem report of %s failed", session.user)
            reason = "failed"
        _LOGGER.info("Problem report by %s: %s", session.user, reason)
        if reason == "problem_reported":
            text = (
                "Thank you. The machine is blocked until staff clear it."
                if unsafe
                else "Thank you: staff have been told."
            )
            return self._message(200, "Reported", text)
        return self._message(
            503 if reason == "hub_unreachable" else 403,
            "Not sent",
            REPORT_REFUSALS.get(reason, "The hub did not take the report."),
        )

    async def _csrf_ok(self, request: Request, session: GatewaySession) -> bool:
        if not self._same_origin(request):
            return False
        token = request.headers.get(CSRF_HEADER)
        if (
            token is None
            and request.content_type == "application/x-www-form-urlencoded"
        ):
            token = str((await request.post()).get("csrf", ""))
        if not token:
            return False
        return hmac.compare_digest(token.encode(), session.csrf.encode())

    @staticmethod
    def _same_origin(request: Request) -> bool:
        """Refuse POSTs whose Origin names another site (browsers always send it)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        _, _, authority = origin.partition("://")
        return bool(authority) and authority.lower() == request.host.lower()

    # -- proxy ---------------------------------------------------------------

    def _upstream_headers(self, request: Request, session: GatewaySession) -> Headers:
        # The gateway answers any Expect: 100-continue itself; the framing
        # (Content-Length, Transfer-Encoding) is set by the request it sends.
        drop = set(_HOP_BY_HOP) | _WS_HANDSHAKE | {"expect", "content-length"}
        drop.update(request.connection_tokens)
        headers = Headers()
        for name, value in request.headers.items():
            # CGI-style servers read "X_FluxiLab_Role" as "X-FluxiLab-Role".
            lower = name.lower().replace("_", "-")
            if (
                lower in drop
                or lower.startswith(("x-fluxilab-", "x-forwarded-"))
                or lower == "forwarded"
            ):
                continue
            if lower == "cookie":
                kept = self._strip_own_cookie(value)
                if kept:
                    headers.add(name, kept)
                continue
            headers.add(name, value)
        headers[HEADER_USER] = _header_value(session.user)
        headers[HEADER_ROLE] = _header_value(session.role)
        headers[HEADER_NAME] = _header_value(session.name)
        headers["X-Forwarded-For"] = request.remote or ""
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-Host"] = request.host
        return headers

    def _strip_own_cookie(self, header: str) -> str:
        kept = [
            part.strip()
            for part in header.split(";")
            if part.strip()
            and part.split("=", 1)[0].strip() not in (COOKIE_NAME, SECURE_COOKIE_NAME)
        ]
        return "; ".join(kept)

    @staticmethod
    def _response_headers(
        base: str, upstream_headers: Iterable[tuple[str, str]]
    ) -> Headers:
        headers = Headers()
        for name, value in upstream_headers:
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower == "content-length":
                continue
            if lower == "set-cookie" and value.split("=", 1)[0].strip() in (
                COOKIE_NAME,
                SECURE_COOKIE_NAME,
            ):
                continue
            if lower == "location" and value.startswith(base):
                # An upstream that names itself absolutely is sent back to the gateway.
                local = value[len(base) :]
                local = local if local.startswith("/") else "/" + local
                # Unless cutting the origin off makes it leave the site ("//evil").
                headers.add(name, local if _safe_next(local) == local else value)
                continue
            headers.add(name, value)
        return headers

    async def _proxy(
        self, request: Request, session_id: str | None, session: GatewaySession
    ) -> Response | None:
        origin = self._upstream
        if origin is None or session_id is None:
            return self._unavailable()
        target = _upstream_url(origin, request.raw_path)
        if target is None:
            _LOGGER.warning(
                "Refused a request from %s for a path outside the device UI",
                request.remote,
            )
            return self._message(400, "Bad request", "That path is not allowed.")
        if (
            request.method == "GET"
            and (request.headers.get("Upgrade") or "").lower() == "websocket"
        ):
            if not self._same_origin(request):
                # A page of another site may open a WebSocket with the user's
                # cookie (browsers send it); only the device's own pages may.
                _LOGGER.warning(
                    "Refused a cross-site WebSocket from %s (Origin %s)",
                    request.remote,
                    (request.headers.get("Origin") or "")[:200],
                )
                return self._message(403, "Refused", "Cross-site WebSocket.")
            return await self._proxy_websocket(
                request, origin, session_id, session, target
            )
        try:
            upstream = await send_upstream_request(
                origin,
                target,
                request,
                self._upstream_headers(request, session),
                UPSTREAM_CONNECT_TIMEOUT,
            )
        except UpstreamError as err:
            _LOGGER.warning("Device UI upstream unreachable: %s", err)
            return self._unavailable()
        try:
            try:
                length, body = response_body(upstream, request.method)
            except UpstreamError as err:
                _LOGGER.warning("Device UI upstream answered badly: %s", err)
                return self._unavailable()
            headers = self._response_headers(origin.url, upstream.headers.items())
            chunked = False
            if body is None:
                # HEAD, 204, 304: the upstream's length, if any, describes no body.
                if (known := upstream.headers.get("Content-Length")) is not None:
                    headers.add("Content-Length", known)
            elif length is not None:
                headers.add("Content-Length", str(length))
            elif request.version == "HTTP/1.1":
                chunked = True
                headers.add("Transfer-Encoding", "chunked")
            else:
                request.keep_alive = False  # the body ends when the connection does
            if not request.body_done:
                request.keep_alive = False
            if not request.keep_alive:
                headers["Connection"] = "close"
            writer = request.writer
            await self._send_body(
                writer,
                status_line(upstream.status, upstream.reason)
                + headers.encode()
                + b"\r\n",
                body,
                chunked=chunked,
                request=request,
            )
        finally:
            upstream.close()
        return None

    @staticmethod
    async def _send_body(
        writer: asyncio.StreamWriter,
        head: bytes,
        body: AsyncIterator[bytes] | None,
        *,
        chunked: bool,
        request: Request,
    ) -> None:
        writer.write(head)
        try:
            if body is not None:
                async for data in body:
                    writer.write(
                        b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
                    )
                    await writer.drain()
                if chunked:
                    writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (HttpError, asyncio.IncompleteReadError, ConnectionError) as err:
            # Upstream or client went away mid-body; the connection is dropped.
            _LOGGER.debug("Proxied response ended early: %r", err)
            request.keep_alive = False

    async def _proxy_websocket(
        self,
        request: Request,
        origin: Origin,
        session_id: str,
        session: GatewaySession,
        target: str,
    ) -> Response | None:
        key = websocket_key(request)
        if key is None:
            return self._message(400, "Bad request", "Not a WebSocket handshake.")
        protocols = offered_protocols(request)
        headers = Headers([("Host", origin.authority)])
        for name, value in self._upstream_headers(request, session).items():
            headers.add(name, value)
        headers.add("Upgrade", "websocket")
        headers.add("Connection", "Upgrade")
        headers.add("Sec-WebSocket-Key", key)
        headers.add("Sec-WebSocket-Version", "13")
        if protocols:
            headers.add("Sec-WebSocket-Protocol", ", ".join(protocols))
        try:
            reader, writer = await open_upstream(origin, UPSTREAM_CONNECT_TIMEOUT)
        except UpstreamError as err:
            _LOGGER.warning("Device UI upstream WebSocket refused: %s", err)
            return self._unavailable()
        try:
            writer.write(
                f"GET {target} HTTP/1.1\r\n".encode("ascii")
                + headers.encode()
                + b"\r\n"
            )
            await writer.drain()
            reply = await read_response_head(reader, writer)
        except (UpstreamError, ConnectionError) as err:
            writer.close()
            _LOGGER.warning("Device UI upstream WebSocket refused: %s", err)
            return self._unavailable()
        chosen = reply.headers.get("Sec-WebSocket-Protocol")
        if (
            reply.status != 101
            or (reply.headers.get("Upgrade") or "").lower() != "websocket"
            or reply.headers.get("Sec-WebSocket-Accept") != websocket_accept(key)
            or "Sec-WebSocket-Extensions" in reply.headers
            or (chosen is not None and chosen not in protocols)
        ):
            writer.close()
            _LOGGER.warning(
                "Device UI upstream WebSocket refused: HTTP %d", reply.status
            )
            return self._unavailable()
        request.keep_alive = False
        accepted = Headers(
            [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", websocket_accept(key)),
            ]
        )
        if chosen is not None:
            accepted.add("Sec-WebSocket-Protocol", chosen)
        websocket = ProxiedWebSocket(request.reader, request.writer, reader, writer)
        try:
            request.writer.write(status_line(101) + accepted.encode() + b"\r\n")
            await request.writer.drain()
            self._websockets.add(websocket)
            await websocket.run(
                lambda: self._still_valid(session_id, session), self._recheck_interval
            )
        except ConnectionError as err:
            _LOGGER.debug("Proxied WebSocket ended: %r", err)
        finally:
            self._websockets.discard(websocket)
            writer.close()
        return None

    # -- pages ---------------------------------------------------------------

    @staticmethod
    def _no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    def _page(
        self,
        title: str,
        body: str,
        *,
        status: int = 200,
        head: str = "",
        script: str = "",
    ) -> Response:
        nonce = secrets.token_urlsafe(16)
        script_tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
        text = _web("page.html").format(
            title=_escape(title),
            nonce=nonce,
            style=_web("gateway.css"),
            head=head,
            body=body,
            script=script_tag,
        )
        response = Response(
            status, text.encode("utf-8"), content_type="text/html; charset=utf-8"
        )
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; "
            f"script-src 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        self._no_store(response)
        return response

    def _message(
        self,
        status: int,
        title: str,
        text: str,
        *,
        link: tuple[str, str] | None = None,
    ) -> Response:
        extra = (
            f'<p><a class="button" href="{_escape(link[0])}">{_escape(link[1])}</a></p>'
            if link
            else ""
        )
        return self._page(
            title,
            _web("message.html").format(
                title=_escape(title), text=_escape(text), extra=extra
            ),
            status=status,
        )

    def _unavailable(self) -> Response:
        return self._message(
            502, "Device UI unavailable", "The device's own UI is not answering."
        )

    @staticmethod
    def _not_allowed(allowed: tuple[str, ...]) -> Response:
        return Response(
            405,
            b"Method not allowed",
            headers=Headers([("Allow", ", ".join(allowed))]),
            content_type="text/plain; charset=utf-8",
        )

    def _redirect(self, location: str) -> Response:
        return self._no_store(Response(303, headers=Headers([("Location", location)])))

    def _login_page(
        self, next_path: str | None, *, error: str | None = None, status: int = 200
    ) -> Response:
        paired = self._keys_provider() is not None
        error_html = (
            f'<p class="error" role="alert">{_escape(error)}</p>' if error else ""
        )
        hint = (
            "Or open this device from FluxiLab in Home Assistant."
            if paired
            else "This device is not paired with the lab hub yet."
        )
        home_html = ""
        if paired and self._home is not None:
            # The way in for members: their Home Assistant login and the panel's
            # signed link; the PIN form below is for the machine's own keypad PIN.
            home_html = (
                f'<p><a class="button" id="fl-home" href="{_escape(self._home)}">'
                "Sign in with Home Assistant</a></p>"
            )
            hint = (
                "Your Home Assistant login opens this device: no other password. "
                "Or sign in with your member name and PIN."
            )
        body = _web("login.html").format(
            home=home_html,
            error=error_html,
            next=_escape(_safe_next(next_path)),
            hint=_escape(hint),
        )
        return self._page("Sign in", body, status=status)

    def _status_page(self, session: GatewaySession) -> Response:
        payload = self._status_payload(session)
        csrf = _escape(session.csrf)
        controls = "".join(
            _web("control.html").format(
                csrf=csrf,
                control=_escape(c["id"]),
                label=_escape(c["label"]),
            )
            for c in payload["controls"]
        )
        device_name = str(payload["device"].get("name") or self._device_id)
        link_alert = (
            '<p class="error" role="alert" id="fl-link">'
            f"{_escape(LINK_BROKEN_TEXT)}</p>"
            if payload["device"].get("link") == "broken"
            else ""
        )
        back = (
            f'<a class="button secondary" id="fl-back" href="{_escape(session.back)}">'
            "Back to Home Assistant</a>"
            if session.back is not None
            else ""
        )
        body = _web("status.html").format(
            link_alert=link_alert,
            back=back,
            name=_escape(device_name),
            csrf=csrf,
            user=_escape(session.name),
            role=_escape(session.role),
            controls=_web("controls.html").format(controls=controls)
            if controls
            else "",
            data=_json_for_script({"status": payload, "refresh_ms": STATUS_REFRESH_MS}),
            report=_web("report.html").format(csrf=csrf, max=MAX_PROBLEM_TEXT)
            if self._report is not None
            else "",
        )
        return self._page(device_name, body, script=_web("status.js"))


def _upstream_url(base: Origin, raw_target: str) -> str | None:
    """Return the upstream's request target for the client's, or None if it leaves.

    The target is ``base``'s path + the client's path and query.

    The raw request target is appended as sent (encoded), so the upstream sees
    exactly the client's path, but only if no segment, however it is percent-encoded
    (``..``, ``%2e%2e``, ``%252e%252e``, ``..%2f``), is a dot segment, and it has no
    backslash, control character or leading ``//``: a path that a server could
    resolve to somewhere outside the base is refused, never "fixed".
    """
    path, sep, query = raw_target.partition("?")
    if not path.startswith("/") or path.startswith("//"):
        return None
    decoded = path
    for _round in range(4):  # undo nested encodings; each round must shrink
        unquoted = unquote(decoded, errors="replace")
        if unquoted == decoded:
            break
        decoded = unquoted
    else:
        return None
    if (
        "\\" in decoded
        or decoded.startswith("//")
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in decoded)
        or any(part in (".", "..") for part in decoded.split("/"))
    ):
        return None
    return base.base_path + path + sep + query


def _back_claim(claims: Mapping[str, Any]) -> str | None:
    """Return a token's "Back to Home Assistant" address, if it is a web address.

    Signed by the hub, which takes it only as an http(s) address; checked again
    here, since the page puts it in a link: anything else (``javascript:``, too
    long) is left out, and the person still gets in.
    """
    value = claims.get("back")
    if isinstance(value, str) and len(value) <= MAX_BACK_URL and valid_ui_url(value):
        return value
    return None


def _claim(claims: Mapping[str, Any], name: str) -> str:
    """Return one identity claim of a verified token, or raise if it is unusable."""
    value = claims.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLAIM_LENGTH:
        raise ProtocolSecurityError("malformed", f"claim {name} missing or too long")
    return value


_WEB_DIR: Final = Path(__file__).with_name("web")
"""The page files, beside this module (the wheel installs them there)."""


def _escape(text: str) -> str:
    """Escape ``text`` for HTML text and quoted attributes (as ``html.escape``).

    Not ``html.escape`` itself: the ``html`` package loads its 2,000-entity table
    (~0.4 MiB) for ``unescape``, which the gateway never calls.
    """
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


@functools.cache
def _web(name: str) -> str:
    """Return one of the gateway's page files (``fluxilab_agent/web/``)."""
    return (_WEB_DIR / name).read_text("utf-8")


def _json_response(data: Any, status: int = 200) -> Response:
    return Response(
        status,
        json.dumps(data).encode("utf-8"),
        content_type="application/json; charset=utf-8",
    )


class ProxiedWebSocket:
    """A client's WebSocket relayed frame by frame to the upstream's."""

    def __init__(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
    ) -> None:
        """Relay both ways once run() is called."""
        self._to_upstream = FrameRelay(client_reader, upstream_writer, from_client=True)
        self._to_client = FrameRelay(upstream_reader, client_writer, from_client=False)
        self._closed = asyncio.Event()

    async def close(self, code: int, reason: bytes = b"") -> None:
        """Close both sides with a close frame of the gateway's own."""
        if self._closed.is_set():
            return
        self._closed.set()
        await self._to_client.inject(close_frame(code, reason, masked=False))
        await self._to_upstream.inject(close_frame(WS_CLOSE_GOING_AWAY, masked=True))

    async def _relay(self, relay: FrameRelay) -> None:
        try:
            await relay.run()
        except WebSocketProtocolError as err:
            _LOGGER.debug("Closing a proxied WebSocket: %s", err)
            await self.close(WS_CLOSE_PROTOCOL_ERROR, b"protocol error")
        except (ConnectionError, asyncio.IncompleteReadError) as err:
            _LOGGER.debug("Proxied WebSocket ended: %r", err)

    async def run(self, alive: Callable[[], bool], interval: float) -> None:
        """Relay until both sides closed, either side went away or ``alive()`` fails."""

        async def watch() -> None:
            # Polled: what ends a session (mirror, pairing) changes in other threads.
            while alive():  # noqa: ASYNC110
                await asyncio.sleep(interval)
            await self.close(WS_CLOSE_POLICY_VIOLATION, b"session ended")

        relays = {
            asyncio.create_task(self._relay(self._to_upstream)),
            asyncio.create_task(self._relay(self._to_client)),
        }
        others = {
            asyncio.create_task(watch()),
            asyncio.create_task(self._closed.wait()),
        }
        try:
            done, pending = await asyncio.wait(
                relays | others, return_when=asyncio.FIRST_COMPLETED
            )
            if done <= relays:
                # One side closed or went away: give the other a moment to answer
                # the close handshake (it is relayed like any frame).
                await asyncio.wait(pending & relays, timeout=5.0)
        finally:
            for task in relays | others:
                task.cancel()
            for task in relays | others:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
