"""``lapor-gateway``: the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable

from gateway.settings import Settings, SettingsError, load_settings


def _settings(args: argparse.Namespace, *, generate: bool = False) -> Settings:
    try:
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

    settings = _settings(args, generate=True)
    return _serve_until_signal(settings, lambda stop: serve(settings, stop, args.config))


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.worker.process import serve_worker

    settings = _settings(args)
    return _serve_until_signal(settings, lambda stop: serve_worker(settings, stop, args.wake_fd, args.status_fd))


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
    from gateway.cli.log import print_log

    settings = _settings(args)
    journal = _journal(settings)
    try:
        print_log(journal, follow=args.follow, last=args.last)
    except KeyboardInterrupt:
        pass
    finally:
        journal.close()
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from gateway.cli.display import safe_json
    from normalizer.tracking import check_tracking_id

    settings = _settings(args)
    check = check_tracking_id(args.tracking_id)
    if not check.ok:
        print(f"lapor-gateway: {check.message_en}", file=sys.stderr)
        return 2
    journal = _journal(settings)
    try:
        row = journal.complaint_by_tracking(check.tracking_id)
        if row is None:
            print(f"lapor-gateway: no complaint {check.tracking_id}", file=sys.stderr)
            return 1
        out = {
            "tracking_id": row["tracking_id"],
            "state": row["state"],
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "record": json.loads(row["record"]),
            "central_store": json.loads(row["central_answer"]) if row["central_answer"] else None,
            "receipts": journal.receipts_for(row["tracking_id"]),
        }
        print(safe_json(out, indent=2, ensure_ascii=False, default=str))  # no raw controls/bidi from a message
    finally:
        journal.close()
    return 0


def cmd_retry_dead(args: argparse.Namespace) -> int:
    settings = _settings(args)
    journal = _journal(settings)
    try:
        n = journal.retry_dead_sync(args.tracking_ids)
    finally:
        journal.close()
    print(f"{n} dead letter(s) queued again; a running gateway forwards them within a second")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from gateway.bench import run_bench

    return run_bench(args.what, duration=args.duration, connections=args.connections)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lapor-gateway", description="Intake gateway for public complaints (LAPOR! 1708)")
    p.add_argument("--config", help="settings file (TOML); also LAPOR_CONFIG", default=None)
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, fn: Callable[[argparse.Namespace], int], help_: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        return sp

    add("run", cmd_run, "run the gateway (HTTP, SMTP, pollers, workers, embedded central store)")
    w = add("worker", cmd_worker, "the pipeline worker alone (run starts it; for running it on its own)")
    w.add_argument("--wake-fd", type=int, default=None, help=argparse.SUPPRESS)
    w.add_argument("--status-fd", type=int, default=None, help=argparse.SUPPRESS)
    add("central", cmd_central, "run the reference central complaint store alone")
    add("schema", cmd_schema, "print the JSON Schema of the complaint record")
    lg = add("log", cmd_log, "print the intake log")
    lg.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    lg.add_argument("--last", "-n", type=int, default=50, help="how many past events to show")
    sh = add("show", cmd_show, "print one complaint as forwarded, with its state and receipts")
    sh.add_argument("tracking_id")
    rd = add("retry-dead", cmd_retry_dead, "queue dead letters for delivery again")
    rd.add_argument("tracking_ids", nargs="*", help="only these (default: all)")
    b = add("bench", cmd_bench, "benchmarks, as ratios against a baseline measured in the same run")
    b.add_argument("what", choices=["sms", "smtp", "ocr"], nargs="?", default="sms")
    b.add_argument("--duration", type=float, default=10.0)
    b.add_argument("--connections", type=int, default=None, help="concurrent clients (sms: 64, smtp: 16)")
    _extra_commands(add)
    return p


def _extra_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Commands of the letters channel (scan, form, review)."""
    try:
        from gateway.cli.letters import register
    except ImportError:
        return
    register(add, _settings)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


