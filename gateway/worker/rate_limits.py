"""Durable send quotas: replies per sender per hour, SMS per minute overall.

Every send the receipt worker makes is counted durably (the store's
:class:`~gateway.store.ports.RateLimitStore`), so a restart forgives nothing. The
check, the count and the claim (``sending``) are one transaction, so two sends
racing for the last slot cannot both pass. This module says which rules apply
and under which keys; the store counts. A sender is counted under a
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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from channels.phone import normalize_phone
from channels.registry import spec_for
from gateway.store.ports import RateLimitStore
from gateway.store.records import Claim, RateCheck

if TYPE_CHECKING:
    from gateway.settings import Settings

__all__ = ["Claim", "RateLimits", "Rule", "default_rules", "normalise_address", "recipient_of"]

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


RESPONSES = ("central", "citizen_response")  # the family and kind a citizen's answer to the store is counted as


def default_rules(replies_per_sender_per_hour: int, sms_per_minute: int, email_per_address_per_hour: int | None = None,
                  updates_per_recipient_per_hour: int | None = None,
                  responses_per_complaint_per_hour: int | None = None) -> list[Rule]:
    rules = [
        Rule("replies_per_sender", replies_per_sender_per_hour, 3600.0, "reply_rate_limited",
             kinds=frozenset({"reply"}), per_recipient=True),
        Rule("sms_per_minute", sms_per_minute, 60.0, "sms_rate_limited", family="sms", defer=True),
    ]
    if updates_per_recipient_per_hour is not None:
        # an update flood (a store bug) reaches no citizen more than this often; the rest ends rate_limited, shown
        rules.append(Rule("updates_per_recipient", updates_per_recipient_per_hour, 3600.0, "update_rate_limited",
                          kinds=frozenset({"update"}), per_recipient=True))
    if responses_per_complaint_per_hour is not None:
        # one owner cannot flood the store with answers: counted per complaint, the rest held for a person
        rules.append(Rule("responses_per_complaint", responses_per_complaint_per_hour, 3600.0, "response_rate_limited",
                          family=RESPONSES[0], kinds=frozenset({RESPONSES[1]}), per_recipient=True))
    if email_per_address_per_hour is not None:
        # the email sender's own (in-memory) limit, made durable: every receipt and reply to one address counts
        # (updates have their own cap above: an agency's answer is not held back by the citizen's own mails)
        rules.append(Rule("email_per_address", email_per_address_per_hour, 3600.0, "email_rate_limited",
                          family="email", kinds=frozenset({"receipt", "reply"}), per_recipient=True))
    return rules


class RateLimits:
    def __init__(
        self,
        journal: RateLimitStore,
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

    @classmethod
    def from_settings(cls, journal: RateLimitStore, settings: Settings, clock: Callable[[], float] = time.time) -> RateLimits:
        rules = default_rules(settings.receipts.replies_per_sender_per_hour, settings.sms.max_per_minute,
                              settings.mail.receipt_rate_per_hour, settings.receipts.updates_per_recipient_per_hour,
                              settings.receipts.citizen_responses_per_complaint_per_hour)
        return cls(journal, rules, secret=settings.privacy.reporter_hmac_key, clock=clock)

    def recipient_key(self, family: str, address: str) -> str:
        """The keyed hash a recipient is counted under (never the address itself)."""
        data = f"{family}\0{normalise_address(family, address)}".encode()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32]

    async def claim(self, r: dict[str, Any], family: str, address: str) -> Claim:
        """Check every rule for this send and, if all pass, count it and mark the row ``sending``."""
        checks = []
        for rule in self.rules:
            if rule.applies(family, r["kind"]) and (key := self._rule_key(rule, family, address)) is not None:
                checks.append(RateCheck(rule.name, key, rule.limit, rule.window, rule.event, rule.defer))
        return await self.journal.claim_send(r["id"], checks, self.clock(), horizon=self._horizon,
                                             channel=r["channel"], tracking_id=r.get("tracking_id"))

    async def count(self, family: str, kind: str, address: str, channel: str, tracking_id: str | None) -> Claim:
        """A send made inside another family's (WhatsApp's SMS fallback): checked and counted as ``family``'s."""
        checks = [RateCheck(rule.name, key, rule.limit, rule.window, rule.event, rule.defer) for rule in self.rules
                  if rule.applies(family, kind) and (key := self._rule_key(rule, family, address)) is not None]
        return await self.journal.count_sends(checks, self.clock(), horizon=self._horizon, channel=channel,
                                              tracking_id=tracking_id)

    async def claim_post(self, response_id: str, channel: str, tracking_id: str) -> Claim:
        """A citizen response about to be posted to the store: counted per complaint, or held over the cap."""
        family, kind = RESPONSES
        checks = [RateCheck(rule.name, key, rule.limit, rule.window, rule.event, rule.defer) for rule in self.rules
                  if rule.applies(family, kind) and (key := self._rule_key(rule, family, tracking_id)) is not None]
        return await self.journal.claim_post(response_id, checks, self.clock(), horizon=self._horizon,
                                             channel=channel, tracking_id=tracking_id)

    async def give_back(self, claim: Claim) -> None:
        """The send did not happen (the peer was down): its slots count for nothing."""
        await self.journal.give_back_sends(claim.counted)

    def _rule_key(self, rule: Rule, family: str, address: str) -> str | None:
        if not rule.per_recipient:
            return rule.name
        if not address:
            return None  # nobody to attribute it to: only the overall rules count it
        return f"{rule.name}:{self.recipient_key(family, address)}"


def normalise_address(family: str, address: str) -> str:
    """One spelling per recipient, so ``+62812…``, ``0812…`` and ``62 812…`` count as one: a family whose
    senders are phone numbers (``channels.registry``) writes them as ``channels.phone`` does."""
    a = address.strip().casefold()
    if spec_for(family).sender_is == "phone":
        return normalize_phone(a) or a
    return a


def recipient_of(to: str, reply_context: dict[str, Any]) -> str:
    """Who a send reaches: the address, or the chat/participant the channel answers in."""
    for value in (to, reply_context.get("chat_id"), reply_context.get("participant_id"),
                  reply_context.get("author_id"), reply_context.get("to")):
        if value:
            return str(value)
    return ""
