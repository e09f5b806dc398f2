"""Durable send quotas: replies per sender per hour, SMS per minute overall.

Every send the receipt worker makes is counted in the state file
(``rate_sends``), so a restart forgives nothing. The check, the count and the
claim (``sending``) are one write through the journal's single writer, so two
sends racing for the last slot cannot both pass. A sender is counted under a
keyed hash of (family, address): no address is stored, and without the gateway
secret a hash cannot be matched against a list of phone numbers.

Over a rule that *drops*, the row ends ``rate_limited`` (nothing is sent);
over a rule that *defers*, it stays ``pending`` until a slot frees, so a
citizen's receipt is late but never lost. Each rule logs one intake-log event
per key per window, not one per message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gateway.store.records import Event
from gateway.store.sqlite.events import EVENT_INSERT
from gateway.store.sqlite.journal import Journal

if TYPE_CHECKING:
    from gateway.settings import Settings

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_sends (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rate_sends_key ON rate_sends(key, at)",
    "CREATE INDEX IF NOT EXISTS rate_sends_at ON rate_sends(at)",
    "CREATE TABLE IF NOT EXISTS rate_notes (key TEXT PRIMARY KEY, until REAL NOT NULL)",
)
KEY_CONTEXT = b"lapor-gateway rate limits v1"  # keeps these hashes apart from reporter_ref


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` sends in any ``window`` seconds, per recipient or overall."""

    name: str
    limit: int
    window: float
    event: str  # intake-log state written once per key and window when the rule bites
    family: str | None = None  # only senders of this family (``ReceiptSender.family``); None: every family
    kinds: frozenset[str] | None = None  # only these receipt kinds; None: every kind
    per_recipient: bool = False
    defer: bool = False  # over it: wait for a free slot (True) or do not send at all (False)

    def applies(self, family: str, kind: str) -> bool:
        return (self.family is None or family == self.family) and (self.kinds is None or kind in self.kinds)


@dataclass
class Claim:
    """What the limiter decided for one due receipt."""

    outcome: Literal["send", "limited", "deferred", "gone"]
    rule: str | None = None
    next_at: float = 0.0
    counted: list[int] = field(default_factory=list)  # rate_sends ids, given back if nothing left


def default_rules(replies_per_sender_per_hour: int, sms_per_minute: int, email_per_address_per_hour: int | None = None
                  ) -> list[Rule]:
    rules = [
        Rule("replies_per_sender", replies_per_sender_per_hour, 3600.0, "reply_rate_limited",
             kinds=frozenset({"reply"}), per_recipient=True),
        Rule("sms_per_minute", sms_per_minute, 60.0, "sms_rate_limited", family="sms", defer=True),
    ]
    if email_per_address_per_hour is not None:
        # the email sender's own (in-memory) limit, made durable: every mail to one address counts
        rules.append(Rule("email_per_address", email_per_address_per_hour, 3600.0, "email_rate_limited",
                          family="email", per_recipient=True))
    return rules


class RateLimits:
    def __init__(
        self,
        journal: Journal,
        rules: Iterable[Rule] = (),
        *,
        secret: str | bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.journal = journal
        self.rules = list(rules)
        self.clock = clock
        if any(r.per_recipient for r in self.rules) and not secret:
            raise ValueError("per-recipient rate limits need a secret to hash addresses with")
        raw = secret.encode() if isinstance(secret, str) else (secret or b"")
        self._key = hmac.new(raw, KEY_CONTEXT, hashlib.sha256).digest()
        self._horizon = max((r.window for r in self.rules), default=0.0)
        self._ready = False

    @classmethod
    def from_settings(cls, journal: Journal, settings: Settings, clock: Callable[[], float] = time.time) -> RateLimits:
        rules = default_rules(settings.receipts.replies_per_sender_per_hour, settings.sms.max_per_minute,
                              settings.mail.receipt_rate_per_hour)
        return cls(journal, rules, secret=settings.privacy.reporter_hmac_key, clock=clock)

    def recipient_key(self, family: str, address: str) -> str:
        """The keyed hash a recipient is counted under (never the address itself)."""
        data = f"{family}\0{normalise_address(family, address)}".encode()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

    async def claim(self, r: dict[str, Any], family: str, address: str) -> Claim:
        """Check every rule for this send and, if all pass, count it and mark the row ``sending``."""
        rules = [rule for rule in self.rules if rule.applies(family, r["kind"])]
        keys = [(rule, self._rule_key(rule, family, address)) for rule in rules]
        keys = [(rule, k) for rule, k in keys if k is not None]

        def write(conn: sqlite3.Connection) -> Claim:
            self._ensure_schema(conn)
            now = self.clock()
            state = conn.execute("SELECT state FROM receipts WHERE id=?", (r["id"],)).fetchone()
            if state is None or state[0] != "pending":
                return Claim("gone")  # settled meanwhile (a delivery report, a review decision)
            if self._horizon:
                conn.execute("DELETE FROM rate_sends WHERE at<=?", (now - self._horizon,))
            over = [(rule, k, free) for rule, k in keys if (free := _slot_free_at(conn, rule, k, now)) is not None]
            drop = next(((rule, k) for rule, k, _free in over if not rule.defer), None)
            if drop is not None:
                rule, k = drop
                conn.execute("UPDATE receipts SET state='rate_limited', last_error=? WHERE id=?",
                             (f"rate limit {rule.name}", r["id"]))
                _note_once(conn, rule, k, now, r)
                return Claim("limited", rule.name)
            if over:
                rule, k, free = max(over, key=lambda o: o[2])
                conn.execute("UPDATE receipts SET next_at=?, last_error=? WHERE id=?",
                             (free, f"rate limit {rule.name}", r["id"]))
                for o_rule, o_key, _free in over:
                    _note_once(conn, o_rule, o_key, now, r)
                return Claim("deferred", rule.name, free)
            counted = [int(conn.execute("INSERT INTO rate_sends(key, at) VALUES (?,?)", (k, now)).lastrowid or 0)
                       for _rule, k in keys]
            conn.execute("UPDATE receipts SET state='sending', last_error=NULL, next_at=0 WHERE id=?", (r["id"],))
            return Claim("send", counted=counted)

        claim = await self.journal.state_writer.write(write)
        self._ready = True  # only once a batch with the schema in it has committed (a full disk rolls it back)
        return claim

    async def give_back(self, claim: Claim) -> None:
        """The send did not happen (the peer was down): its slots count for nothing."""
        if not claim.counted:
            return
        marks = ",".join("?" * len(claim.counted))
        await self.journal.state_writer.write(
            lambda c: c.execute(f"DELETE FROM rate_sends WHERE id IN ({marks})", claim.counted), savepoint=False
        )

    def _rule_key(self, rule: Rule, family: str, address: str) -> str | None:
        if not rule.per_recipient:
            return rule.name
        if not address:
            return None  # nobody to attribute it to: only the overall rules count it
        return f"{rule.name}:{self.recipient_key(family, address)}"

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        if not self._ready:
            for statement in SCHEMA:  # one by one: executescript would commit the writer's batch
                conn.execute(statement)


def normalise_address(family: str, address: str) -> str:
    """One spelling per recipient, so ``+62812…``, ``0812…`` and ``62 812…`` count as one."""
    a = address.strip().casefold()
    if family.startswith("sms"):
        digits = re.sub(r"\D", "", a, flags=re.ASCII)
        if digits.startswith("00"):  # 0062…: the international prefix
            digits = digits[2:]
        elif digits.startswith("0"):  # 0812…: a national number
            digits = "62" + digits[1:]
        return digits or a
    return a


def recipient_of(to: str, reply_context: dict[str, Any]) -> str:
    """Who a send reaches: the address, or the chat/participant the channel answers in."""
    for value in (to, reply_context.get("chat_id"), reply_context.get("participant_id"),
                  reply_context.get("author_id"), reply_context.get("to")):
        if value:
            return str(value)
    return ""


def _slot_free_at(conn: sqlite3.Connection, rule: Rule, key: str, now: float) -> float | None:
    """None while the rule has room for one more send now; otherwise when the next slot frees."""
    since = now - rule.window
    (n,) = conn.execute("SELECT count(*) FROM rate_sends WHERE key=? AND at>?", (key, since)).fetchone()
    if n < rule.limit:
        return None
    (at,) = conn.execute("SELECT at FROM rate_sends WHERE key=? AND at>? ORDER BY at LIMIT 1 OFFSET ?",
                         (key, since, n - rule.limit)).fetchone()
    return float(at) + rule.window


def _note_once(conn: sqlite3.Connection, rule: Rule, key: str, now: float, r: dict[str, Any]) -> None:
    """One intake-log event per key and window: a flood of 200 is one line, not 200."""
    conn.execute("DELETE FROM rate_notes WHERE until<=?", (now,))
    if conn.execute("INSERT OR IGNORE INTO rate_notes(key, until) VALUES (?,?)", (key, now + rule.window)).rowcount:
        detail = f"{rule.name}: over {rule.limit} per {rule.window:g} s"
        conn.execute(EVENT_INSERT, Event(r["channel"], rule.event, r.get("tracking_id"), detail=detail).row(now))
