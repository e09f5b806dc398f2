"""``lapor-gateway``: the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Awaitable, Callable

from gateway.settings import MissingSecretError, Settings, SettingsError, load_settings


def _settings(args: argparse.Namespace, *, generate: bool = False, lock: bool = False) -> Settings:
    """The settings; a command that reads a gateway's data (all but ``run`` and ``central``, which may make it)
    refuses in one line when there is none there, and creates nothing. ``lock``: this process owns the data."""
    from gateway.cli.datadir import lock_data, point_at, require_data

    try:
        args.config = point_at(getattr(args, "data_dir", None), args.config)
        if lock:  # every setting checked first (a bad one makes nothing), then the data locked, then secrets made
            with contextlib.suppress(MissingSecretError):
                load_settings(args.config)
            lock_data(args.config)
        elif not generate:
            require_data(args.config)
        return load_settings(args.config, generate_secrets=generate)
    except SettingsError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _serve_until_signal(settings: Settings, serve: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    from gateway.logs import setup_logging

    setup_logging(settings.log.level, settings.log.file)
    _event_loop_policy()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    try:
        asyncio.run(main())
    except (OSError, RuntimeError) as exc:  # port in use, a child that would not start: one clear line
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from gateway.intake.process import serve

    settings = _settings(args, generate=True, lock=True)  # the lock first: a second run touches nothing
    return _serve_until_signal(settings, lambda stop: serve(settings, stop, args.config))


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.worker.process import serve_worker

    settings = _settings(args)
    return _serve_until_signal(settings, lambda stop: serve_worker(settings, stop, args.wake_fd, args.status_fd,
                                                                   args.delivery_fd))


def cmd_delivery(args: argparse.Namespace) -> int:
    from gateway.worker.process import serve_worker

    settings = _settings(args)
    return _serve_until_signal(settings, lambda stop: serve_worker(settings, stop, args.wake_fd, route=False))


def cmd_central(args: argparse.Namespace) -> int:
    from forwarder.central.server import run_central
    from gateway.logs import setup_logging

    settings = _settings(args, generate=True)
    setup_logging(settings.log.level, None)
    _event_loop_policy()
    run_central(settings.central, settings.data.dir)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from normalizer.record import complaint_schema

    print(json.dumps(complaint_schema(), indent=2, ensure_ascii=False))
    return 0


def _journal(settings: Settings):  # type: ignore[no-untyped-def]
    from gateway.store import open_journal

    return open_journal(settings)


def cmd_log(args: argparse.Namespace) -> int:
    from gateway.cli.log import LogFilter, print_log

    settings = _settings(args)
    try:
        wanted = LogFilter.from_args(args, settings.service.timezone)
    except ValueError as exc:
        print(f"lapor-gateway: {exc}", file=sys.stderr)
        return 2
    journal = _journal(settings)
    try:
        print_log(journal, follow=args.follow, last=args.last, wanted=wanted, timezone=settings.service.timezone)
    except KeyboardInterrupt:
        pass
    finally:
        journal.close()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from gateway.cli.show import show

    return show(_settings(args), args.tracking_id, as_json=args.json)


def cmd_retry_dead(args: argparse.Namespace) -> int:
    """Dead forwards, failed receipts and dead citizen responses (of these tickets, or all) queued again; an ID that is not a
    tracking ID is refused before anything is queued, one the gateway does not know is reported (exit 1)."""
    from gateway.cli.display import safe_text
    from normalizer.tracking import check_tracking_id

    checks = [(raw, check_tracking_id(raw)) for raw in args.tracking_ids]
    bad = [(raw, c) for raw, c in checks if not c.ok]
    for raw, c in bad:
        print(f"lapor-gateway: {safe_text(raw[:40])}: {c.message_en}", file=sys.stderr)
    if bad:
        print("lapor-gateway: nothing queued", file=sys.stderr)
        return 2
    ids = list(dict.fromkeys(c.tracking_id for _raw, c in checks))
    settings = _settings(args)
    journal = _journal(settings)
    try:
        unknown = [t for t in ids if t not in journal.known_tracking_ids(ids)] if ids else []
        wanted = [t for t in ids if t not in unknown]
        forwards, receipts = ([], []) if ids and not wanted else (
            journal.retry_dead_forwards_sync(wanted), journal.retry_failed_receipts_sync(wanted))
        responses = [] if ids and not wanted else journal.retry_dead_responses_sync(wanted)
    finally:
        journal.close()
    for tid in forwards:
        print(f"{tid}  forward to the central store queued again")
    for tid, kind, channel in receipts:
        print(f"{tid or '-':<10}  {kind} by {channel} queued again")
    for tid in responses:
        print(f"{tid}  citizen response to the central store queued again")
    for tid in wanted:
        if tid not in forwards and tid not in responses and all(r[0] != tid for r in receipts):
            print(f"{tid}  nothing dead or failed")
    also = f", {len(responses)} citizen response(s)" if responses else ""
    print(f"queued again: {len(forwards)} forward(s), {len(receipts)} receipt(s) or reply(ies){also}")
    if forwards or receipts or responses:
        print("a running gateway sends them within seconds")
    for tid in unknown:
        print(f"lapor-gateway: {tid}: no complaint or receipt with this tracking ID", file=sys.stderr)
    return 1 if unknown else 0


def cmd_bench(args: argparse.Namespace) -> int:
    from gateway.bench import run_bench

    return run_bench(args.what, duration=args.duration, connections=args.connections)


HELP_CONFIG = "settings file (TOML) over the embedded defaults; also LAPOR_CONFIG"
HELP_DATA_DIR = ("the gateway's data folder (journal, secrets, blobs); default data.dir from the settings "
                 "(./data); also LAPOR_DATA__DIR")
EPILOG = """Every command reads the settings (embedded defaults < --config < LAPOR_<SECTION>__<KEY> variables) and
finds the gateway's data in data.dir. Only `run` and `central` make a data folder; the others refuse when there is
none. --config and --data-dir may be given before or after the command. `lapor-gateway COMMAND --help` explains
each command."""


class _HelpFormatter(argparse.HelpFormatter):
    """A description's paragraphs wrapped to the terminal; lines that start with spaces (examples) kept."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import textwrap

        out: list[str] = []
        para: list[str] = []
        for line in [*text.splitlines(), ""]:
            if line.strip() and not line.startswith(" "):
                para.append(line.strip())
                continue
            if para:
                out.append(textwrap.fill(" ".join(para), width, initial_indent=indent, subsequent_indent=indent))
                para = []
            if line.strip():
                out.append(indent + line)
        return "\n".join(out)


def _common_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--config", metavar="FILE", default=default, help=HELP_CONFIG)
    p.add_argument("--data-dir", metavar="DIR", default=default, help=HELP_DATA_DIR)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lapor-gateway", epilog=EPILOG,
                                description="Intake gateway for public complaints (LAPOR! 1708)")
    _common_options(p, None)
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, argparse.SUPPRESS)  # after the command too; absent there, the one before stands
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str, description: str = "",
            ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_, description=description or help_, parents=[common],
                            formatter_class=_HelpFormatter)
        sp.set_defaults(fn=fn)
        return sp

    add("run", cmd_run, "run the gateway (HTTP, SMTP, pollers, workers, embedded central store)",
        "Run the gateway: webhooks, /healthz and /metrics on http.port, the SMTP listener, the configured pollers,\n"
        "the worker and (central.embedded = true) the reference central store. Makes the data folder and its\n"
        "secrets on the first start; holds a lock on it, so a second `run` on the same data refuses. Stop: Ctrl-C.")
    w = add("worker", cmd_worker, "the pipeline worker alone (run starts it; for running it on its own)",
            "The worker: reads the journal, normalises, forwards to the central store and sends receipts.\n"
            "`run` starts it as two child processes (this one normalises, `delivery` forwards and sends);\n"
            "run alone it does both. Run it alone only on the data of a running gateway.")
    w.add_argument("--wake-fd", type=int, default=None, help=argparse.SUPPRESS)
    w.add_argument("--status-fd", type=int, default=None, help=argparse.SUPPRESS)
    w.add_argument("--delivery-fd", type=int, default=None, help=argparse.SUPPRESS)
    d = add("delivery", cmd_delivery, "forwarding and receipts alone (run starts it beside the worker)",
            "The delivery part of the worker: forwards complaints and citizens' answers to the central store,\n"
            "sends receipts and reads the store's updates. `run` starts it as a child process.")
    d.add_argument("--wake-fd", type=int, default=None, help=argparse.SUPPRESS)
    add("central", cmd_central, "run the reference central complaint store alone (central.port, 8090)",
        "The reference central complaint store alone, on central.host:central.port (default 127.0.0.1:8090);\n"
        "its records in central.db in the data folder, which it makes if needed.")
    add("schema", cmd_schema, "print the JSON Schema of the complaint record",
        "Print the JSON Schema of the complaint record: the central store's request body. Reads no data.")
    lg = add("log", cmd_log, "print the intake log (--follow to watch it)",
             "The intake log: time (service.timezone), channel, tracking ID, state, the masked contact,\n"
             "category, flags and a short detail; never a message's text. Filters combine.")
    lg.add_argument("--follow", "-f", action="store_true", help="keep printing new events (Ctrl-C stops)")
    lg.add_argument("--last", "-n", type=int, default=50, metavar="N",
                    help="how many past events to show first (default 50; 0: none)")
    lg.add_argument("--channel", metavar="NAME", help="only this channel or family: sms, sms.kannel, email, letters")
    lg.add_argument("--state", metavar="STATE[,STATE]",
                    help="only these states: received, normalized, forwarded, receipt_sent, needs_review, failed, "
                         "receipt_failed, dead_letter, ...")
    lg.add_argument("--tracking", metavar="TRACKING_ID", help="only the events of this complaint")
    lg.add_argument("--since", metavar="WHEN",
                    help="only events since then: a duration back from now (90s, 30m, 2h, 7d) or an ISO date or time "
                         "in service.timezone (2026-12-02, 2026-12-02T08:00)")
    sh = add("show", cmd_show, "one complaint: record, timeline, receipts and replies (--json for machines)",
             "One complaint: what was forwarded, its state and the store's answer, a timeline of its events and\n"
             "each receipt and reply with its text, state and delivery. Times in service.timezone. An anonymous\n"
             "reporter's contact and a confidential text are never shown.")
    sh.add_argument("tracking_id", metavar="TRACKING_ID", help="the 10-digit tracking ID the citizen was given")
    sh.add_argument("--json", action="store_true", help="the same as JSON (ISO times with their offset)")
    rd = add("retry-dead", cmd_retry_dead, "queue dead forwards, failed receipts and citizens' answers again",
             "Queue again what gave up: forwards to the central store that became dead letters, receipts,\n"
             "replies and updates that failed (a peer down longer than receipts.retry_hours, a refused send),\n"
             "and citizens' answers the store never took or that were held. Each is tried afresh by a running\n"
             "gateway. Prints what it queued, per kind; an unknown tracking ID is reported and the command\n"
             "exits 1; something that is not a tracking ID queues nothing (exit 2).")
    rd.add_argument("tracking_ids", nargs="*", metavar="TRACKING_ID",
                    help="only what these complaints have (default: all that gave up)")
    b = add("bench", cmd_bench, "benchmarks, as ratios against a baseline measured in the same run",
            "Benchmarks on a temporary data folder with free ports (not your data): sms (Kannel webhook, wrk),\n"
            "smtp (the SMTP listener), ocr (letters). Each prints its ratio to a no-op baseline of the same run.")
    b.add_argument("what", choices=["sms", "smtp", "ocr"], nargs="?", default="sms", help="which (default: sms)")
    b.add_argument("--duration", type=float, default=10.0, metavar="SECONDS",
                   help="seconds each measurement runs (default 10)")
    b.add_argument("--connections", type=int, default=None, metavar="N",
                   help="concurrent clients (default: sms 64, smtp 16)")
    _extra_commands(add)
    return p


def _extra_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Commands of the letters channel (scan, form, review)."""
    try:
        from gateway.cli.letters import register
    except ImportError:
        return
    register(add, _settings)
    from gateway.cli.report import register as register_report

    register_report(add, _settings)
    from gateway.cli.users import register as register_users

    def bind(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: fn(args, _settings(args))

    register_users(add, bind)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


