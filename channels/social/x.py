"""X/Twitter intake: mentions of the service's account (and optionally its DMs), and replies.

Mentions are polled with ``since_id`` persisted in the CursorStore. A round
fetches every page newer than the cursor first (the API pages newest → oldest),
then accepts oldest first, moving the cursor after each accepted tweet, so a
crash or a 429 in the middle never skips a mention. The reply *text* is the
gateway's (public receipt = tracking ID only, or a nudge to continue by DM);
this module only sends it where the receipt says: a public reply or a DM.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import datetime
from typing import Any

import requests
import tweepy

from channels.base import Accept, CursorStore, OutboundReceipt, failure_reason, malformed
from channels.message import InboundMessage, PeerUnavailable, Refused, Rejected, ReporterInfo
from channels.retry import Backoff
from channels.social.x_client import call_waiting

log = logging.getLogger(__name__)

CHANNEL = "social.x"
MAX_PAGES = 8  # 8 × 100: the mentions timeline serves at most the 800 newest anyway
_LEADING_MENTION = re.compile(r"@(\w{1,15})\s*")
TWEET_FIELDS = ["created_at", "conversation_id", "entities", "note_tweet", "referenced_tweets", "author_id"]
DM_FIELDS = ["id", "text", "sender_id", "created_at", "dm_conversation_id", "event_type"]


def strip_own_mentions(text: str, own: set[str]) -> str:
    """Drop the service's @handles from the run of @mentions a tweet starts with; keep the others."""
    pos, kept = 0, []
    text = text.lstrip()
    while m := _LEADING_MENTION.match(text, pos):
        if m.group(1).lower() not in own:
            kept.append("@" + m.group(1))
        pos = m.end()
    return " ".join([*kept, text[pos:]]).strip()


def _when(value: Any) -> datetime | None:
    """X's ``created_at``; None (the receive time) when absent or not a date."""
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def item_id(item: Any) -> int | None:
    """A tweet's or DM event's id (a decimal string, at most 20 digits); None when it is anything else."""
    raw = item.get("id") if isinstance(item, dict) else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 20:
        return int(raw)
    return None


def _reporter(user: dict[str, Any] | None) -> ReporterInfo:
    if not isinstance(user, dict):
        return ReporterInfo()
    handle = _str(user.get("username"))
    return ReporterInfo(name=_str(user.get("name")), handle=f"@{handle}" if handle else None)


def message_from_mention(tweet: dict[str, Any], users: dict[str, dict[str, Any]], account: str) -> InboundMessage | None:
    """A mention as an InboundMessage; None for our own tweets and retweets."""
    refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)}
    author = _str(tweet.get("author_id")) or ""
    if author == account or "retweeted" in refs:
        return None
    if not author:
        raise Rejected(400, "mention without an author id")
    own = {m["username"].lower() for m in (tweet.get("entities") or {}).get("mentions", [])
           if isinstance(m, dict) and str(m.get("id")) == account and _str(m.get("username"))}
    text = html.unescape(_str((tweet.get("note_tweet") or {}).get("text")) or _str(tweet.get("text")) or "")
    metadata: dict[str, Any] = {"reply_visibility": "public", "conversation_id": tweet.get("conversation_id")}
    if "replied_to" in refs:
        metadata["in_reply_to_tweet_id"] = refs["replied_to"]
    kwargs = {"received_at": when} if (when := _when(tweet.get("created_at"))) else {}
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=str(tweet["id"]),
        sender=author,
        text=strip_own_mentions(text, own),
        reporter=_reporter(users.get(author)),
        reply_context={"in_reply_to_tweet_id": str(tweet["id"]), "author_id": author},
        metadata=metadata,
        **kwargs,
    )


def message_from_dm(event: dict[str, Any], users: dict[str, dict[str, Any]], account: str) -> InboundMessage | None:
    """A direct message to the service as an InboundMessage; None for the ones we sent."""
    sender = _str(event.get("sender_id")) or ""
    if event.get("event_type", "MessageCreate") != "MessageCreate" or not sender or sender == account:
        return None
    kwargs = {"received_at": when} if (when := _when(event.get("created_at"))) else {}
    return InboundMessage(
        channel=CHANNEL,
        account=account,
        external_id=f"dm:{event['id']}",
        sender=sender,
        text=html.unescape(_str(event.get("text")) or ""),
        reporter=_reporter(users.get(sender)),
        reply_context={"participant_id": sender, "dm_conversation_id": event.get("dm_conversation_id")},
        metadata={"reply_visibility": "private", "x_kind": "dm"},
        **kwargs,
    )


class XMentionsPoller:
    """Polls ``GET /2/users/:id/mentions`` (and ``GET /2/dm_events`` with ``dm_intake``)."""

    name = CHANNEL

    def __init__(self, client: tweepy.Client, user_id: str, cursors: CursorStore, *, poll_seconds: float = 60.0,
                 dm_intake: bool = False, page_size: int = 100) -> None:
        self.client = client
        self.user_id = user_id
        self.cursors = cursors
        self.poll_seconds = poll_seconds
        self.dm_intake = dm_intake
        self.page_size = page_size

    @property
    def describe(self) -> str:
        return f"polling mentions every {self.poll_seconds:g}s, DM intake {'on' if self.dm_intake else 'off'}"

    async def check(self) -> str:
        """Start-up token check (GET /2/users/me).

        :class:`Refused` when X rejects the token (401, 403) or it is another account's: the gateway does
        not start polling. Anything else (unreachable, a timeout, a 5xx or 429, an answer that is not X's
        JSON) is a PeerUnavailable: the poller runs (with its own backoff) and the check is tried again.
        """
        try:
            answer = await asyncio.to_thread(self.client.get_me, user_auth=False)
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            if not _json_answer(exc):  # a proxy's 401/403 page: not X saying the token is wrong
                raise PeerUnavailable(f"x: API answered {_code(exc)} without its JSON") from None
            if isinstance(exc, tweepy.Unauthorized):
                raise Refused("x: bearer token rejected (401 Unauthorized)") from None
            raise Refused("x: token may not act as a user (403); replies need an OAuth 2.0 user-context token") from None
        except tweepy.HTTPException as exc:  # 5xx, 429, 404 and the like: X answers, but not now
            code = getattr(exc.response, "status_code", None)
            raise PeerUnavailable(f"x: API failing ({code if isinstance(code, int) else type(exc).__name__})") from None
        except (tweepy.TweepyException, requests.RequestException) as exc:  # requests.JSONDecodeError too
            raise PeerUnavailable(f"x: API unreachable ({type(exc).__name__})") from None
        me = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(me, dict) or not isinstance(me.get("id"), str | int):
            raise PeerUnavailable("x: API answered /2/users/me without a user")
        if str(me.get("id")) != str(self.user_id):
            raise Refused("x: the token belongs to another account than x.user_id")
        handle = me.get("username")
        return f"x: on as @{handle if isinstance(handle, str) and handle.isprintable() else '?'}, {self.describe}"

    async def _pages(self, fn: Any, stop_at: int | None = None, **kwargs: Any) -> tuple[list[dict], dict[str, dict]]:
        """Every page newer than ``stop_at``: items oldest first; items without a usable id come first of all."""
        items: list[Any] = []
        users: dict[str, dict[str, Any]] = {}
        token = None
        for _ in range(MAX_PAGES):
            page = await call_waiting(fn, max_results=self.page_size, pagination_token=token, **kwargs)
            data = page.get("data") or []
            data = data if isinstance(data, list) else [data]
            items += data
            users |= {u["id"]: u for u in (page.get("includes") or {}).get("users", [])
                      if isinstance(u, dict) and isinstance(u.get("id"), str)}
            token = (page.get("meta") or {}).get("next_token")
            ids = [i for i in map(item_id, data) if i is not None]
            if not token or (stop_at is not None and any(i <= stop_at for i in ids)):
                break
        return sorted(items, key=lambda i: item_id(i) or -1), users

    async def _accept_item(self, accept: Accept, item: Any, read: Any, users: dict[str, dict[str, Any]]) -> bool:
        """Accept one tweet or DM; one X cannot describe is kept as malformed, alone. True when accepted."""
        try:
            if item_id(item) is None:
                raise Rejected(400, "item without a numeric id")
            msg = read(item, users, self.user_id)
        except Exception as exc:  # a wrong type anywhere in X's answer: this item only
            msg = malformed(CHANNEL, self.user_id, item, failure_reason("x item", exc))
        if msg is None:
            return False
        await accept(msg)
        return True

    async def _accept_newer(self, accept: Accept, items: list[Any], users: dict[str, dict[str, Any]],
                            last: str | None, cursor: str, read: Any) -> int:
        """Accept the items newer than ``last``, moving the ``cursor`` past each; how many were accepted."""
        count = 0
        for item in items:
            iid = item_id(item)
            if last and iid is not None and iid <= int(last):
                continue
            count += await self._accept_item(accept, item, read, users)
            if iid is not None:
                await self.cursors.set(cursor, str(iid))
        return count

    async def poll_mentions(self, accept: Accept) -> int:
        """One round over every mention newer than the stored since_id; returns how many were accepted."""
        since = await self.cursors.get("since_id")
        tweets, users = await self._pages(
            self.client.get_users_mentions, id=self.user_id, since_id=since, expansions=["author_id"],
            user_fields=["username", "name"], tweet_fields=TWEET_FIELDS,
        )
        return await self._accept_newer(accept, tweets, users, since, "since_id", message_from_mention)

    async def poll_dms(self, accept: Accept) -> int:
        """DM events have no since_id: page back until the last event seen, accept the newer ones."""
        last = await self.cursors.get("dm_last_id")
        events, users = await self._pages(
            self.client.get_direct_message_events, stop_at=int(last) if last else None, event_types="MessageCreate",
            dm_event_fields=DM_FIELDS, expansions=["sender_id"], user_fields=["username", "name"], user_auth=False,
        )
        return await self._accept_newer(accept, events, users, last, "dm_last_id", message_from_dm)

    async def poll_once(self, accept: Accept) -> int:
        n = await self.poll_mentions(accept)
        if self.dm_intake:
            n += await self.poll_dms(accept)
        return n

    async def run(self, accept: Accept) -> None:
        failures = 0
        while True:
            try:
                await self.poll_once(accept)
                failures = 0
                delay = self.poll_seconds
            except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                log.error("x: %s on polling; check x.bearer_token and the app's access; polling stopped",
                          _status(exc))
                return
            except Exception as exc:  # X down, network, journal busy: the cursor is intact, retry
                failures += 1
                delay = Backoff(self.poll_seconds, 900.0, spread=0.2).delay(failures - 1)
                log.warning("x: polling failed (%s); retrying in %.0fs", type(exc).__name__, delay)
            await asyncio.sleep(delay)


def _status(exc: tweepy.HTTPException) -> str:
    code = getattr(exc.response, "status_code", None) or getattr(exc.response, "status", "?")
    return f"{code} {getattr(exc.response, 'reason', '')}".strip()


class XReceiptSender:
    """Public replies to mentions (``receipt.public``) and DMs otherwise; updates only by DM."""

    family = CHANNEL

    def __init__(self, client: tweepy.Client, user_id: str) -> None:
        self.client = client
        self.user_id = user_id

    async def send(self, receipt: OutboundReceipt) -> str:
        ctx = receipt.reply_context
        # an update (the agency's answer) goes by DM only, whatever the row says: never a public tweet
        public = receipt.public and receipt.kind != "update"
        try:
            if public:
                resp = await asyncio.to_thread(
                    self.client.create_tweet, text=receipt.text, in_reply_to_tweet_id=ctx.get("in_reply_to_tweet_id"),
                    user_auth=False,
                )
                return str(resp["data"]["id"])
            to = ctx.get("participant_id") or ctx.get("author_id") or receipt.to
            if not to:
                raise Rejected(400, "x: no account to send a direct message to")
            resp = await asyncio.to_thread(
                self.client.create_direct_message, participant_id=to, text=receipt.text, user_auth=False
            )
            return str(resp["data"]["dm_event_id"])
        except (tweepy.TooManyRequests, tweepy.TwitterServerError, tweepy.Unauthorized) as exc:
            raise PeerUnavailable(f"x: reply not sent ({_status(exc)})") from None
        except tweepy.HTTPException as exc:  # 400/403/404: duplicate, DMs closed, tweet deleted
            raise Rejected(_code(exc), f"x refused the reply ({_status(exc)})") from None
        except requests.RequestException as exc:
            raise PeerUnavailable(f"x: API unreachable ({type(exc).__name__})") from None


def _json_answer(exc: tweepy.HTTPException) -> bool:
    """Did X itself answer (its JSON problem document), rather than something in front of it?"""
    try:
        return isinstance(exc.response.json(), dict)
    except (ValueError, AttributeError):
        return False


def _code(exc: tweepy.HTTPException) -> int:
    code = getattr(exc.response, "status_code", None)
    return code if isinstance(code, int) else 400
