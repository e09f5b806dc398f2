"""The send quotas' counts (gateway.store.sqlite.rate_limits): the one-row count per key agrees with a plain
list of sends for any order of sends, give-backs and moving clocks, and a state file from before the counts
starts from the sends it holds."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.store.records import Claim, RateCheck
from gateway.store.sqlite.journal import Journal
from tests.unit.journals import open_journal

T0 = 1_700_000_000.0
RULES = {  # key: (limit, window, defer)
    "sms_per_minute": (3, 60.0, True),
    "replies_per_sender:aa": (2, 3600.0, False),
    "replies_per_sender:bb": (2, 3600.0, False),
}
HORIZON = max(window for _limit, window, _defer in RULES.values())


def checks_for(keys: list[str]) -> list[RateCheck]:
    return [RateCheck(k.split(":")[0], k, RULES[k][0], RULES[k][1], "rate_limited", RULES[k][2]) for k in keys]


class Model:
    """Every send kept as (key, at); a rule's room is its sends after now - window, nothing else."""

    def __init__(self) -> None:
        self.sends: dict[int, tuple[str, float]] = {}

    def decide(self, checks: list[RateCheck], now: float) -> tuple[str, float]:
        over: list[tuple[RateCheck, float]] = []
        for c in checks:
            ats = sorted(at for key, at in self.sends.values() if key == c.key and at > now - c.window)
            if len(ats) >= c.limit:
                over.append((c, ats[len(ats) - c.limit] + c.window))
        if any(not c.defer for c, _free in over):
            return "limited", 0.0
        if over:
            return "deferred", max(free for _c, free in over)
        return "send", 0.0


async def count(j: Journal, keys: list[str], now: float) -> Claim:
    return await j.count_sends(checks_for(keys), now, horizon=HORIZON, channel="sms.kannel", tracking_id=None)


STEP = st.one_of(
    st.tuples(st.just("send"), st.lists(st.sampled_from(sorted(RULES)), min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("give_back"), st.integers(0, 20)),
    st.tuples(st.just("wait"), st.sampled_from([0.0, 1.0, 30.0, 59.0, 60.0, 61.0, 600.0, 3599.0, 3601.0])),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=40))
@example(steps=[("send", ["sms_per_minute"]), ("wait", 1.0), ("send", ["sms_per_minute"]), ("wait", 30.0),
                ("send", ["sms_per_minute"]), ("send", ["sms_per_minute"])])  # the minute frees at its first send
def test_the_counts_decide_as_a_list_of_every_send_would(steps: list[tuple[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_play(Path(folder), steps))


async def _play(folder: Path, steps: list[tuple[str, object]]) -> None:
    j, model, now, claims = open_journal(folder), Model(), T0, []
    checked = False
    try:
        for op, arg in steps:
            if op == "wait":
                now += float(arg)  # type: ignore[arg-type]
            elif op == "give_back":
                if claims:
                    claim = claims.pop(int(arg) % len(claims))  # type: ignore[call-overload]
                    await j.give_back_sends(claim.counted)
                    for rid in claim.counted:
                        model.sends.pop(rid, None)
            else:
                keys: list[str] = arg  # type: ignore[assignment]
                expected, free = model.decide(checks_for(keys), now)
                claim = await count(j, keys, now)
                assert (claim.outcome, claim.next_at if expected == "deferred" else 0.0) == (expected, free)
                if claim.outcome == "send":
                    assert len(claim.counted) == len(keys)
                    model.sends.update(zip(claim.counted, [(k, now) for k in keys], strict=True))
                    claims.append(claim)
            checked = checked or op == "send"
            if not checked:
                continue  # the tables are made by the first check
            # the stored count is the number of rows under each key, never less (nothing over the limit passes)
            rows = dict(j.reader.rows("SELECT key, count(*) FROM rate_sends GROUP BY key"))
            assert dict(j.reader.rows("SELECT key, n FROM rate_counts")) == rows
    finally:
        j.close()


async def test_a_state_file_from_before_the_counts_keeps_its_sends(tmp_path: Path) -> None:
    j = open_journal(tmp_path)
    for _ in range(3):
        assert (await count(j, ["sms_per_minute"], T0)).outcome == "send"
    j.close()
    with sqlite3.connect(tmp_path / "gateway-state.db") as conn:  # as the file was before the counts
        conn.executescript(
            "DROP TRIGGER rate_sends_counted; DROP TRIGGER rate_sends_uncounted; DROP TABLE rate_counts;")

    j = open_journal(tmp_path)  # a new process on the old file
    try:
        held = await count(j, ["sms_per_minute"], T0 + 1)
        assert (held.outcome, held.next_at) == ("deferred", T0 + 60)  # the three sends still fill the minute
        assert (await count(j, ["sms_per_minute"], T0 + 61)).outcome == "send"
        assert dict(j.reader.rows("SELECT key, n FROM rate_counts")) == {"sms_per_minute": 1}
    finally:
        j.close()
