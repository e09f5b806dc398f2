"""``lapor-gateway user add|passwd|disable|enable|reset-otp|list`` and ``lapor-gateway console``.

Users live in ``console.db`` in the data folder (:mod:`gateway.store.sqlite.console`); the console reads them at
every sign-in, so a user added while ``run`` runs can sign in at once. ``--password-stdin`` reads one line (its
newline dropped); otherwise the password is asked twice at the terminal. Supervisors and admins get a TOTP
secret: ``user add`` prints its ``otpauth://`` URI for the authenticator app, and ``user reset-otp`` a fresh one
when the device is lost (the user enrols it at the next sign-in).
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from typing import Any

from gateway.settings import Settings

NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _store(settings: Settings) -> Any:
    from gateway.store.sqlite.console import open_console_store

    return open_console_store(settings.data.dir)


def _password(args: argparse.Namespace) -> str | None:
    from gateway.console.auth import password_problem

    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        if not sys.stdin.isatty():
            print("lapor-gateway: not at a terminal: give the password with --password-stdin", file=sys.stderr)
            return None
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("lapor-gateway: the two passwords differ; nothing changed", file=sys.stderr)
            return None
    if password_problem(password):
        print("lapor-gateway: a password has at least 12 characters; nothing changed", file=sys.stderr)
        return None
    return password


def _set_disabled(store: Any, name: str, disable: bool) -> int:
    """Disable or enable a user; the last active admin is never disabled (nobody could manage users then)."""
    user = store.user(name)
    if user is None:
        print(f"lapor-gateway: no user {name}", file=sys.stderr)
        return 1
    if disable and user["role"] == "admin" and not user["disabled"]:
        others = [u for u in store.users() if u["role"] == "admin" and not u["disabled"] and u["name"] != name]
        if not others:
            print(f"lapor-gateway: {name} is the last active admin; nothing changed (add another admin first: "
                  "`user add NAME --role admin`)", file=sys.stderr)
            return 1
    store.set_disabled(name, disable)
    print(f"{name} disabled (signed out everywhere)" if disable else f"{name} enabled (may sign in again)")
    return 0


def _print_totp(name: str, role: str, secret: str) -> None:
    from gateway.console.auth import totp_uri

    print(f"{role}s sign in in two steps (TOTP); add this to the authenticator app:")
    print(totp_uri(secret, name))
    print(f"or type its secret: {secret}")  # a short line of its own (the URI is too long to read out)


def _reset_otp(store: Any, name: str) -> int:
    from gateway.console.auth import TOTP_ROLES, new_totp_secret

    user = store.user(name)
    if user is None:
        print(f"lapor-gateway: no user {name}", file=sys.stderr)
        return 1
    if user["role"] not in TOTP_ROLES:
        print(f"lapor-gateway: {name} is {user['role']}: no two-step sign-in to reset", file=sys.stderr)
        return 1
    secret = new_totp_secret()
    store.reset_totp(name, secret)
    store.audit("cli", "totp_reset", reason=name)
    print(f"{name}: authenticator reset; the old codes no longer work, signed out everywhere")
    print("at the next sign-in they enrol the new secret below (its QR is shown then)")
    _print_totp(name, user["role"], secret)
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.console.auth import TOTP_ROLES, hash_password, new_totp_secret

    if args.action != "list" and not NAME.fullmatch(getattr(args, "name", None) or ""):
        print("lapor-gateway: a user name is 1-64 letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    store = _store(settings)
    try:
        if args.action == "list":
            print(f"{'name':<20} {'role':<11} {'state':<9} {'totp':<5} last sign-in")
            for u in store.users():
                from gateway.cli.show import shown_time

                state = "disabled" if u["disabled"] else ("new" if u["must_change"] else "active")
                last = shown_time(u["last_login"], settings.service.timezone) if u["last_login"] else "-"
                print(f"{u['name']:<20} {u['role']:<11} {state:<9} {'yes' if u['totp_confirmed'] else 'no':<5} {last}")
            return 0
        if args.action in ("disable", "enable"):
            return _set_disabled(store, args.name, args.action == "disable")
        if args.action == "reset-otp":
            return _reset_otp(store, args.name)
        if args.action == "passwd" and store.user(args.name) is None:
            print(f"lapor-gateway: no user {args.name}", file=sys.stderr)
            return 1
        if args.action == "add" and store.user(args.name) is not None:
            print(f"lapor-gateway: user {args.name} exists (change its password with `user passwd`)", file=sys.stderr)
            return 1
        password = _password(args)
        if password is None:
            return 2
        if args.action == "passwd":
            was_initial = args.name == "admin" and bool(store.user(args.name)["must_change"])
            store.set_password(args.name, hash_password(password, settings.console))
            if was_initial:  # the first start's password is no longer any use: its file goes
                from gateway.console.pages_login import INITIAL_PASSWORD_FILE

                (settings.data.dir / INITIAL_PASSWORD_FILE).unlink(missing_ok=True)
            still = " (still disabled: `user enable` lets them sign in)" if store.user(args.name)["disabled"] else ""
            print(f"{args.name}: password changed{still}")
            return 0
        secret = new_totp_secret() if args.role in TOTP_ROLES else None
        if not store.add_user(args.name, args.role, hash_password(password, settings.console), totp_secret=secret):
            print(f"lapor-gateway: user {args.name} exists", file=sys.stderr)
            return 1
        print(f"{args.name} added as {args.role}")
        if secret:
            _print_totp(args.name, args.role, secret)
        return 0
    finally:
        store.close()


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.cli import _serve_until_signal
    from gateway.console.process import serve_console

    return _serve_until_signal(settings, lambda stop: serve_console(settings, stop))


def register(add: Callable[..., argparse.ArgumentParser], bind: Callable[[Any], Any]) -> None:
    from gateway.console.auth import ROLES

    user = add("user", bind(cmd_user), "the console's users: add, passwd, disable, enable, reset-otp, list",
               "The operator console's users (in console.db in the data folder). Roles: scanner (scan upload,\n"
               "desk entry, their own entries), operator (+ intake log, review, failures, reports), supervisor\n"
               "(+ reveal with a reason, the audit log), admin (+ users). Supervisors and admins need TOTP.\n"
               "  user add NAME --role operator --password-stdin\n"
               "  user passwd NAME    user disable NAME    user enable NAME    user list\n"
               "  user reset-otp NAME  (a lost authenticator: a new TOTP secret)")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION",
                                  help="add, passwd, disable, enable, reset-otp or list (`user ACTION --help` for "
                                       "each)")
    a = actions.add_parser("add", help="add a user with a role (supervisor and admin: prints the TOTP URI)",
                           description="Add a user; the password is asked twice, or read with --password-stdin.")
    a.add_argument("name", metavar="NAME", help="the user name: 1-64 letters, digits, '.', '_' or '-'")
    a.add_argument("--role", choices=ROLES, default="operator", help="what the user may do (default operator)")
    a.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    pw = actions.add_parser("passwd", help="set a user's password", description="Set a user's password.")
    pw.add_argument("name", metavar="NAME", help="the user whose password changes")
    pw.add_argument("--password-stdin", action="store_true", help="read the password as one line from stdin")
    d = actions.add_parser("disable", help="disable a user and end their sessions",
                           description="Disable a user: their sessions end and they cannot sign in.")
    d.add_argument("name", metavar="NAME", help="the user to disable")
    e = actions.add_parser("enable", help="let a disabled user sign in again",
                           description="Enable a disabled user: they may sign in again with their password.")
    e.add_argument("name", metavar="NAME", help="the user to enable")
    r = actions.add_parser("reset-otp", help="a lost authenticator: a new TOTP secret (prints its URI)",
                           description="Reset a supervisor's or admin's two-step sign-in: a new TOTP secret, its "
                                       "otpauth:// URI printed; the old codes stop working, their sessions end, "
                                       "and they enrol the new secret at the next sign-in.")
    r.add_argument("name", metavar="NAME", help="the user whose authenticator was lost")
    actions.add_parser("list", help="list the users, their roles and last sign-in", description="List the users.")
    add("console", bind(cmd_console), "the operator console alone (run starts it; console.host:console.port)",
        "The operator console on console.host:console.port (default 127.0.0.1:8081); `run` starts it as a child\n"
        "process. Run it alone only on the data of a running gateway.")
