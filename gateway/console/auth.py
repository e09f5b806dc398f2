"""Passwords (argon2id), TOTP (RFC 6238 by pyotp), session tokens and the login throttle.

Roles are ranked: each may do what the ones below it may (scanner < operator < supervisor < admin).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("scanner", "operator", "supervisor", "admin")
TOTP_ROLES = frozenset({"supervisor", "admin"})
MIN_PASSWORD = 12
ISSUER = "LAPOR! gateway"
FAILURE_WINDOW = 3600.0  # wrong passwords older than this are forgotten
IP_FREE_FAILURES = 10  # a shared office address gets more free tries than one user name



class HashCost(Protocol):
    """argon2id's cost (``console.password_time_cost``, ``password_memory_cost`` in KiB, ``password_parallelism``)."""

    password_time_cost: int
    password_memory_cost: int
    password_parallelism: int


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """The hasher for a cost and a dummy hash of the same cost (a missing user costs as much as a real one)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    return hasher, hasher.hash("not a password of anyone's")


def _for(cost: HashCost) -> tuple[PasswordHasher, str]:
    return _hasher(cost.password_time_cost, cost.password_memory_cost, cost.password_parallelism)


def role_at_least(role: str | None, wanted: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(wanted)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (an i18n key), or None."""
    if len(password) < MIN_PASSWORD:
        return "password_short"
    return None


def hash_password(password: str, cost: HashCost) -> str:
    return _for(cost)[0].hash(password)


def verify_password(stored: str | None, password: str, cost: HashCost) -> bool:
    """Constant work whether the user exists or not (a missing user is checked against a dummy hash of ``cost``;
    a stored hash is checked with the cost it was made with)."""
    hasher, dummy = _for(cost)
    try:
        return hasher.verify(stored or dummy, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user, issuer_name=ISSUER)


def totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step ``code`` is valid for (this one or the one before or after), or None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for drift in (0, -1, 1):
        moment = now + drift * totp.interval
        if secrets.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Sessions are stored by a hash of their cookie: a copy of console.db opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Throttle:
    """Wrong passwords slow the next try down: after ``free`` failures within the window, each further try waits
    2, 4, 8… seconds (up to ``max_wait``) after the last failure; per user name and, more leniently, per address."""

    store: Any  # ConsoleStore
    free: int = 3
    max_wait: float = 900.0

    def _wait(self, key: str, free: int, now: float) -> float:
        failures = self.store.failures_since(key, now - FAILURE_WINDOW)
        if len(failures) < free:
            return 0.0
        wait = min(2.0 ** (len(failures) - free + 1), self.max_wait)
        return max(0.0, failures[-1] + wait - now)

    def wait_for(self, user: str, remote: str | None, now: float) -> float:
        """Seconds before this user (from this address) may try again; 0 when now."""
        return max(self._wait(f"user:{user.lower()}", self.free, now),
                   self._wait(f"ip:{remote}", IP_FREE_FAILURES, now) if remote else 0.0)

    def failed(self, user: str, remote: str | None, now: float) -> None:
        self.store.add_failure(f"user:{user.lower()}", now)
        if remote:
            self.store.add_failure(f"ip:{remote}", now)

    def succeeded(self, user: str) -> None:
        self.store.clear_failures(f"user:{user.lower()}")
