"""The staff login in front of the knowledge-base, evaluation and feedback pages.

The password comes from ``BOT_ADMIN_PASSWORD``; with none set the pages only
say how to enable them.  Comparison is constant-time.  Wrong attempts lock
the *session* that made them: after ``MAX_FAILURES`` within ``WINDOW`` seconds
that session waits, twice as long each time.  Staff often share one address
(an office behind NAT, a proxy), so one person's typos must not lock out the
others; a guesser opening fresh sessions is slowed per address instead — past
``ADDRESS_FREE_FAILURES`` wrong passwords from one address, its attempts go
through one at a time, each after a delay of up to ``ADDRESS_MAX_DELAY``
seconds (an attempt arriving meanwhile is asked to retry; never a lockout).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from ui import state
from ui.state import t

MAX_FAILURES = 5
WINDOW = 300.0
LOCKOUT = 60.0
MAX_LOCKOUT = 900.0
ADDRESS_FREE_FAILURES = 20
ADDRESS_MAX_DELAY = 8.0


@dataclass
class _Client:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0
    lockouts: int = 0


class AttemptLimiter:
    """Counts wrong passwords per client key; thread-safe (one instance serves every session)."""

    def __init__(self, *, max_failures: int = MAX_FAILURES, window: float = WINDOW, lockout: float = LOCKOUT) -> None:
        self.max_failures, self.window, self.lockout = max_failures, window, lockout
        self._clients: dict[str, _Client] = {}
        self._gates: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, key: str, *, now: float | None = None) -> int:
        """Seconds before ``key`` may try again (0 = now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            client = self._clients.get(key)
            return max(0, int(client.locked_until - now + 0.999)) if client else 0

    def failed(self, key: str, *, now: float | None = None) -> None:
        """Record a wrong password; lock the client after too many in the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            client = self._clients.setdefault(key, _Client())
            client.failures = [f for f in client.failures if now - f < self.window] + [now]
            if len(client.failures) >= self.max_failures:
                client.locked_until = now + min(MAX_LOCKOUT, self.lockout * 2**client.lockouts)
                client.lockouts += 1
                client.failures = []

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._clients.pop(key, None)

    def gate(self, key: str) -> threading.Lock:
        """A lock per key, to let one attempt at a time through for ``key``."""
        with self._lock:
            return self._gates.setdefault(key, threading.Lock())

    def recent_failures(self, key: str, *, now: float | None = None) -> int:
        """Wrong passwords from ``key`` within the window (used to slow an address down, never to lock it)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            client = self._clients.get(key)
            return sum(1 for f in client.failures if now - f < self.window) if client else 0


def address_delay(failures: int) -> float:
    """Seconds an attempt from an address waits after ``failures`` recent wrong passwords from it."""
    over = failures - ADDRESS_FREE_FAILURES
    return 0.0 if over < 0 else min(ADDRESS_MAX_DELAY, 0.5 * 2**over)


@st.cache_resource(show_spinner=False)
def limiter() -> AttemptLimiter:
    """The process-wide limiter of sessions (locks after ``MAX_FAILURES``)."""
    return AttemptLimiter()


@st.cache_resource(show_spinner=False)
def address_counter() -> AttemptLimiter:
    """Wrong passwords per address, counted across sessions; only slows an address down (``address_delay``)."""
    return AttemptLimiter(max_failures=10**9)


def _session_key() -> str:
    # A random key kept in the session: the lock follows the person who typed, not everyone at their address.
    return st.session_state.setdefault("staff_login_key", secrets.token_hex(16))


def _address_key() -> str:
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):
        address = None
    return address if isinstance(address, str) and address else "local"


def _fingerprint(password: str) -> str:
    # Kept in the session instead of a flag, so changing the password signs everyone out.
    return hashlib.sha256(password.encode()).hexdigest()


def password_ok(given: str, expected: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(given.encode(), expected.encode())


def require_staff() -> bool:
    """True when this session is signed in; otherwise draw the login form (or the how-to-enable note)."""
    cfg = state.settings()
    if not cfg.admin_password:
        st.info(t("staff_disabled"))
        return False
    if st.session_state.get("staff") == _fingerprint(cfg.admin_password):
        st.sidebar.button(t("staff_logout"), on_click=st.session_state.pop, args=("staff", None))
        return True
    with st.form("staff-login"):
        given = st.text_input(t("staff_password"), type="password")
        submitted = st.form_submit_button(t("staff_login"))
    if submitted:
        _try_login(given, cfg.admin_password)
    return False


def _try_login(given: str, expected: str) -> None:
    key, address = _session_key(), _address_key()
    wait = limiter().wait_seconds(key)
    if wait:
        st.error(t("staff_locked", seconds=wait))
        return
    delay = address_delay(address_counter().recent_failures(address))
    if not delay:
        _check(given, expected, key=key, address=address)
        return
    # A guessing address: one attempt at a time from it, each after the delay, so opening many sessions in
    # parallel does not multiply the guesses.  Others from that address are asked to retry, never locked out.
    gate = address_counter().gate(address)
    if not gate.acquire(blocking=False):
        st.error(t("staff_busy"))
        return
    try:
        time.sleep(delay)
        _check(given, expected, key=key, address=address)
    finally:
        gate.release()


def _check(given: str, expected: str, *, key: str, address: str) -> None:
    if password_ok(given, expected):
        limiter().succeeded(key)
        st.session_state["staff"] = _fingerprint(expected)
        st.rerun()
    limiter().failed(key)
    address_counter().failed(address)
    wait = limiter().wait_seconds(key)
    st.error(t("staff_locked", seconds=wait) if wait else t("staff_wrong"))
