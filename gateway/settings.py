# Over 400 lines: every settings section and its checks at load, the names operators rely on, in one place.
"""Settings: embedded defaults < ``--config``/``LAPOR_CONFIG`` file < ``LAPOR_<SECTION>__<KEY>`` env.

Key names are a contract with operators: rename none. Secrets come from the
environment or ``data/secrets.toml`` (generated on first ``run``), never the repo.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import secrets as pysecrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as _PydanticSettingsError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_TOML = CONFIG_DIR / "gateway.toml"


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(64 * 1024, gt=0)


class DataSettings(BaseModel):
    dir: Path = Path("./data")


class StorageSettings(BaseModel):
    url: str | None = None  # default sqlite:///<data.dir>/gateway.db
    batch_max: int = Field(256, gt=0)


class CentralSettings(BaseModel):
    embedded: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8090, ge=0, le=65535)
    url: str = "http://127.0.0.1:8090"
    hmac_key: str | None = None
    api_token: str | None = None
    db: Path | None = None  # default <data.dir>/central.db
    updates: bool = True  # the return path: read the store's updates feed and tell the citizens
    updates_poll_seconds: float = Field(10.0, gt=0)  # between reads of the feed (the store's push wakes it early)
    gateway_url: str | None = None  # the store POSTs a signed wake-up to <gateway_url>/channels/central/updates


class ForwarderSettings(BaseModel):
    concurrency: int = Field(128, gt=0)  # forwards in progress (post, then its answer written); 64 connections
    max_attempts: int = Field(12, gt=0)
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    timeout_seconds: float = Field(10.0, gt=0)


class WorkerSettings(BaseModel):
    """The normalising worker: poison isolation, the heavy lane and when /healthz calls it stalled."""

    max_attempts: int = Field(8, gt=0)  # a message that keeps failing is quarantined after this many tries
    stall_seconds: float = Field(60.0, gt=0)  # work due and no progress for this long: /healthz answers 503
    heavy_concurrency: int = Field(2, gt=0)  # isolated processes for OCR, PDF text, large mail
    isolated_memory_mb: int = Field(1536, gt=64)  # address-space limit of each isolated process
    details_days: float = Field(7.0, gt=0)  # an empty SMS waits this long for the citizen's details


class KannelSettings(BaseModel):
    sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    username: str | None = None
    password: str | None = None
    sender: str = "1708"
    shared_secret: str | None = None  # ?secret=… on the get-url
    allowed_sources: list[str] = Field(default_factory=list)  # peer IPs; empty = any


class TwilioSettings(BaseModel):
    """Receipts to citizens who wrote to the Twilio number, through Twilio's Messages API (off unless
    ``account_sid`` is set; then ``sms.twilio`` messages are answered here, not through Kannel)."""

    model_config = {"populate_by_name": True}

    account_sid: str | None = None
    auth_token: str | None = None  # default: sms.twilio_auth_token (Twilio signs webhooks with the same token)
    from_: str | None = Field(None, alias="from")  # default: the Twilio number the citizen wrote to
    api_base_url: str = "https://api.twilio.com"  # a local fake in tests


class SmsSettings(BaseModel):
    kannel: KannelSettings = Field(default_factory=KannelSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    json_hmac_key: str | None = None  # generic aggregator webhook; off unless set
    twilio_auth_token: str | None = None  # Twilio-style webhook; off unless set
    twilio_url: str | None = None  # public URL Twilio signs, when behind a proxy
    receipt_language: Literal["id", "en"] = "id"
    max_per_minute: int = Field(6000, gt=0)  # outbound SMS overall, per rolling minute (over it: deferred)


class SmtpSettings(BaseModel):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    domains: list[str] = Field(default_factory=list)
    max_message_bytes: int = Field(10 * 1024 * 1024, gt=0)


class ImapSettings(BaseModel):
    host: str | None = None
    port: int = 993
    ssl: bool = True
    username: str | None = None
    password: str | None = None
    folder: str = "INBOX"
    processed: str = "Processed"
    failed: str = "Failed"
    poll_seconds: float = Field(30.0, gt=0)
    idle_seconds: float = Field(300.0, gt=0)
    tls_verify: bool = True  # verify the server's certificate (implicit TLS and STARTTLS)
    ca_file: Path | None = None  # PEM CA bundle for that; default: the system's
    allow_plaintext: bool = False  # allow the password in clear to a non-loopback host (no TLS, no STARTTLS)


class MailSettings(BaseModel):
    outbound_host: str | None = None
    outbound_port: int = 25
    from_: str = Field("pengaduan@lapor.localhost", alias="from")
    receipt_rate_per_hour: int = Field(5, gt=0)
    max_attachments: int = Field(10, ge=0)
    max_attachment_bytes: int = Field(10 * 1024 * 1024, gt=0)

    model_config = {"populate_by_name": True}


class LettersSettings(BaseModel):
    inbox: Path | None = None  # default <data.dir>/inbox/letters
    upload_token: str | None = None
    max_file_bytes: int = Field(50 * 1024 * 1024, gt=0)
    max_pages: int = Field(30, gt=0)
    max_pixels: int = Field(60_000_000, gt=0)
    max_total_pixels: int = Field(300_000_000, gt=0)  # over all pages of one file, read from headers
    seconds_per_page: float = Field(20.0, gt=0)  # wall/CPU limit of the isolated read, per page
    min_confidence: float = Field(60.0, ge=0, le=100)
    poll_seconds: float = Field(2.0, gt=0)


class FaxSettings(BaseModel):
    # fax-to-email services: their mail is read as a letter and never answered by email
    senders: list[str] = Field(default_factory=list)  # addresses ("fax@efax.example") or domains ("@fax.example")
    # regular expressions (case-insensitive) on the subject; they count only for a mail with a scan attached
    subject_patterns: list[str] = Field(default_factory=lambda: [
        r"^\s*(?:fax|faks|faksimil[ei])\b", r"\b(?:fax|faks)\s+(?:from|dari)\b",
        r"\b(?:received|menerima)\b.{0,30}\b(?:fax|faks)\b"])  # fmt: skip

    @field_validator("subject_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        import re

        for p in patterns:
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {p!r} ({exc})") from None
        return patterns


class TelegramSettings(BaseModel):
    token: str | None = None
    webhook_secret: str | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    public_url: str | None = None  # https://…/channels/telegram: registered with setWebhook at start-up when set
    api_base_url: str | None = None  # python-telegram-bot base_url form: …/bot
    max_file_bytes: int = Field(10 * 1024 * 1024, gt=0)


class XSettings(BaseModel):
    bearer_token: str | None = None
    user_id: str | None = None
    poll_seconds: float = Field(60.0, gt=0)
    api_base_url: str | None = None
    dm_intake: bool = False


class WhatsappSettings(BaseModel):
    verify_token: str | None = None
    app_secret: str | None = None
    access_token: str | None = None
    phone_number_id: str | None = None
    api_base_url: str | None = None
    update_template: str | None = None  # approved template for updates outside the 24-hour window
    template_language: str = "id"  # its language code


# the complaint statuses of the central store (a status change to one of them may be told to the citizen)
STORE_STATUSES = ("received", "verifying", "needs_details", "forwarded_to_agency", "in_progress", "resolved",
                  "closed", "archived")


class NotifySettings(BaseModel):
    """Which of the store's updates reach the citizen (responses and requests for details always do)."""

    statuses: list[str] = Field(default_factory=lambda: [
        "forwarded_to_agency", "in_progress", "resolved", "closed", "archived"])  # fmt: skip

    @field_validator("statuses")
    @classmethod
    def _known_statuses(cls, statuses: list[str]) -> list[str]:
        unknown = [s for s in statuses if s not in STORE_STATUSES]
        if unknown:
            raise ValueError(f"unknown status {unknown[0]!r} (one of {', '.join(STORE_STATUSES)})")
        return statuses


class ReceiptsSettings(BaseModel):
    replies_per_sender_per_hour: int = Field(10, gt=0)  # CEK/help answers; over it: not sent, logged once
    retry_hours: float = Field(24.0, gt=0)  # a receipt whose peer is down is retried this long, then failed
    # receipts being sent at once (claim, send, its state written): most of a send is its two commits, twice a
    # forward's one, so 256 beside the forwards' 128; at 96 they fell behind the forwards whenever the commits
    # slowed. A peer sees at most its session's 100 connections (SMTP: 32 sessions)
    concurrency: int = Field(256, gt=0)
    updates_per_recipient_per_hour: int = Field(10, gt=0)  # the return path's flood cap; over it: not sent, shown
    # a citizen's answers posted to the store per complaint; over it: held (state held, retry-dead), not dropped
    citizen_responses_per_complaint_per_hour: int = Field(10, gt=0)


class ServiceSettings(BaseModel):
    timezone: str = "Asia/Jakarta"  # times shown to operators and citizens (WIB/WITA/WIT for Indonesia's zones)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Jakarta)") from None
        return name


class PrivacySettings(BaseModel):
    reporter_hmac_key: str | None = None
    vault_key: str | None = None  # urlsafe base64 of 32 bytes (AES-256-GCM)


class ConsoleSettings(BaseModel):
    """The operator console (``gateway/console/``): its own listener, never the webhook port."""

    enabled: bool = True  # ``run`` starts it as a child process
    host: str = "127.0.0.1"
    port: int = Field(8081, ge=0, le=65535)
    public_url: str | None = None  # https://… behind a proxy: cookies get ``Secure``
    session_minutes: float = Field(30.0, gt=0)  # idle time after which a session ends
    session_max_hours: float = Field(12.0, gt=0)  # a session ends this long after sign-in, whatever happens
    login_free_failures: int = Field(3, ge=1)  # wrong passwords per user before each next try waits
    login_lock_max_seconds: float = Field(900.0, gt=0)  # the longest such wait
    desk_secret: str | None = None  # signs desk entries to the intake; default derived from privacy.vault_key
    max_upload_bytes: int = Field(50 * 1024 * 1024, gt=0)  # one desk entry or scan upload, all files together
    # argon2id's cost for new passwords (argon2-cffi's default, RFC 9106's low-memory choice: t=3, 64 MiB, p=4;
    # OWASP's floor is t=2, 19 MiB, p=1); a stored hash is always checked with the cost it was made with
    password_time_cost: int = Field(3, ge=1)
    password_memory_cost: int = Field(65536, ge=8)  # KiB
    password_parallelism: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _argon2_memory(self) -> ConsoleSettings:
        if self.password_memory_cost < 8 * self.password_parallelism:
            raise ValueError("console.password_memory_cost must be at least 8 KiB per lane (password_parallelism)")
        return self


class LogSettings(BaseModel):
    level: str = "INFO"
    file: Path | None = None  # default <data.dir>/gateway.log
    json_: bool = Field(False, alias="json")

    model_config = {"populate_by_name": True}


SECRET_FIELDS: dict[str, tuple[str, str]] = {
    # section.key -> how to generate when missing
    "central.hmac_key": ("central", "hmac_key"),
    "central.api_token": ("central", "api_token"),
    "privacy.reporter_hmac_key": ("privacy", "reporter_hmac_key"),
    "privacy.vault_key": ("privacy", "vault_key"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAPOR_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    http: HttpSettings = Field(default_factory=HttpSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    central: CentralSettings = Field(default_factory=CentralSettings)
    forwarder: ForwarderSettings = Field(default_factory=ForwarderSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    imap: ImapSettings = Field(default_factory=ImapSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    letters: LettersSettings = Field(default_factory=LettersSettings)
    fax: FaxSettings = Field(default_factory=FaxSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    x: XSettings = Field(default_factory=XSettings)
    whatsapp: WhatsappSettings = Field(default_factory=WhatsappSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    receipts: ReceiptsSettings = Field(default_factory=ReceiptsSettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        d = self.data.dir
        if self.storage.url is None:
            self.storage.url = f"sqlite:///{d / 'gateway.db'}"
        if self.central.db is None:
            self.central.db = d / "central.db"
        if self.letters.inbox is None:
            self.letters.inbox = d / "inbox" / "letters"
        if self.log.file is None:
            self.log.file = d / "gateway.log"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # env beats the merged TOML files, which arrive as init kwargs; our own env source takes ``a,b`` lists
        return (_LaporEnv(settings_cls), init_settings)

    @property
    def sqlite_path(self) -> Path:
        assert self.storage.url is not None
        if not self.storage.url.startswith("sqlite:///"):
            raise SettingsError(f"storage.url: unsupported backend {self.storage.url.split(':', 1)[0]!r}")
        return Path(self.storage.url.removeprefix("sqlite:///"))


class SettingsError(Exception):
    """One line naming the setting that is missing or invalid."""


class MissingSecretError(SettingsError):
    """A secret is neither set nor generated yet (``run`` generates it on its first start)."""


# --- Unknown keys and environment variables ---------------------------------------------------------------------
# Every key of every file and every LAPOR_* variable must name a setting: a typo stops start-up in one line.

# LAPOR_* variables the project reads that are not settings (no LAPOR_<SECTION>__<KEY> form).
OTHER_ENV = frozenset({"LAPOR_CONFIG", "LAPOR_ISOLATE"})
ENV_PREFIX = "LAPOR_"


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds (``X`` or ``X | None``), or None for a value."""
    candidates = [annotation, *get_args(annotation)]
    for a in candidates:
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Names a file or the environment may use for the model's fields: the alias (``from``) and the field name."""
    out: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        out[name] = info
        if info.alias:
            out[info.alias] = info
    return out


def _public_name(name: str, info: FieldInfo) -> str:
    return info.alias or name


def setting_keys(model: type[BaseModel] | None = None, prefix: str = "") -> list[str]:
    """Every dotted key of the settings (``http``, ``http.port``, ``sms.kannel.sender``…), as files spell them."""
    model = model or Settings
    keys: list[str] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{_public_name(name, info)}"
        keys.append(key)
        sub = _section_model(info.annotation)
        if sub is not None:
            keys += setting_keys(sub, f"{key}.")
    return keys


def _is_dict(annotation: Any) -> bool:
    return any(a is dict or get_origin(a) is dict for a in (annotation, *get_args(annotation)))


def _is_list(annotation: Any) -> bool:
    kinds = (list, set, frozenset, tuple)
    return any(a in kinds or get_origin(a) in kinds for a in (annotation, *get_args(annotation)))


def _suggest(path: list[str], depth: int) -> str | None:
    """The nearest known key to ``path``, whose element ``depth`` is unknown."""
    keys = setting_keys()
    parent = ".".join(path[:depth])
    if parent and parent in keys and not any(k.startswith(f"{parent}.") for k in keys):
        return parent  # http.port.x: http.port takes a value, not keys
    siblings = [k.rsplit(".", 1)[-1] for k in keys if k.rpartition(".")[0] == parent]
    near = difflib.get_close_matches(path[depth], siblings, n=1, cutoff=0.6)
    if near:
        fixed = ".".join([*path[:depth], near[0], *path[depth + 1 :]])
        return fixed if fixed in keys else ".".join([*path[:depth], near[0]])
    dotted = ".".join(path)
    same_leaf = [k for k in keys if k.rsplit(".", 1)[-1] == path[-1]]  # right key, wrong section
    near = difflib.get_close_matches(dotted, same_leaf, n=1, cutoff=0.0) or difflib.get_close_matches(
        dotted, keys, n=1, cutoff=0.6
    )
    return near[0] if near else None


def _unknown(path: list[str], depth: int, origin: str, env: bool = False) -> SettingsError:
    what = "section" if depth == 0 else "key"
    bad = ".".join(path[: depth + 1]) if depth == 0 else ".".join(path)
    hint = _suggest(path, depth)
    if hint and env:
        hint = f"{hint}, {ENV_PREFIX}{hint.upper().replace('.', '__')}"
    tail = f" (did you mean {hint}?)" if hint else " (config/example.toml lists every setting)"
    if env and len(path) == 1 and not hint:
        return SettingsError(
            f"unknown variable {origin}: it names no setting (settings are LAPOR_<SECTION>__<KEY>, "
            "config/example.toml lists them)"
        )
    return SettingsError(f"unknown {what} {bad} in {origin}{tail}")


def check_keys(
    data: dict[str, Any], origin: str, model: type[BaseModel] | None = None, path: tuple[str, ...] = ()
) -> None:
    """Raise :class:`SettingsError` for the first key of ``data`` that names no setting."""
    model = model or Settings
    known = _fields(model)
    for key, value in data.items():
        info = known.get(key)
        if info is None:
            raise _unknown([*path, key], len(path), origin)
        sub = _section_model(info.annotation)
        if sub is not None and isinstance(value, dict):
            check_keys(value, origin, sub, (*path, key))


def _env_value(name: str, dotted: str, info: FieldInfo, raw: str) -> Any:
    """A variable's text as the field wants it: JSON for lists, tables and sections, or ``a,b`` for a list."""
    annotation = info.annotation
    if not (_is_list(annotation) or _is_dict(annotation) or _section_model(annotation) is not None):
        return raw
    text = raw.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError(f"invalid setting {dotted}: {name} is not valid JSON ({exc.msg})") from None
    if _is_list(annotation):
        return [item.strip() for item in text.split(",") if item.strip()]
    raise SettingsError(f"invalid setting {dotted}: {name} must be a JSON object")


def env_settings(environ: Mapping[str, str] | None = None, *, strict: bool = True) -> dict[str, Any]:
    """The ``LAPOR_<SECTION>__<KEY>`` variables as nested settings; unknown ones refused (or, lax, skipped)."""
    environ = os.environ if environ is None else environ
    found: list[tuple[list[str], Any]] = []
    for name, raw in environ.items():
        if not name.upper().startswith(ENV_PREFIX) or name.upper() in OTHER_ENV:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        model: type[BaseModel] | None = Settings
        for depth, part in enumerate(path):
            info = _fields(model).get(part) if model is not None else None
            if info is None:  # no such setting, or a key below a plain value
                if strict:
                    raise _unknown(path, depth, name, env=True)
                break
            sub = _section_model(info.annotation)
            if depth == len(path) - 1:
                value = _env_value(name, ".".join(path), info, raw)
                if strict and sub is not None and isinstance(value, dict):
                    check_keys(value, name, sub, tuple(path))
                found.append((path, value))
            elif sub is None and _is_dict(info.annotation):
                found.append((path, raw))  # LAPOR_<S>__<TABLE>__<KEY>: one entry of a table-valued setting
                break
            model = sub
    tree: dict[str, Any] = {}
    for path, value in sorted(found, key=lambda pv: len(pv[0])):  # a whole section's JSON first, then its keys
        nested: Any = value
        for part in reversed(path):
            nested = {part: nested}
        tree = _deep_merge(tree, nested)
    return tree


class _LaporEnv(PydanticBaseSettingsSource):
    """``LAPOR_*`` variables; ``a,b`` accepted for a list. Lax here: :func:`load_settings` refuses unknown ones."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return env_settings(strict=False)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise SettingsError(f"config file not found: {path}") from exc
    except (ValueError, OSError) as exc:  # TOML syntax, not UTF-8, unreadable
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"config file {path}: {first}") from None


def _read_settings_file(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    check_keys(data, str(path))
    return data


def _env_data_dir(merged: dict[str, Any]) -> Path:
    env = os.environ.get("LAPOR_DATA__DIR")
    return Path(env) if env else Path(merged.get("data", {}).get("dir", "./data"))


def configured_data_dir(config: str | Path | None = None) -> tuple[Path, str]:
    """Where ``data.dir`` points (absolute) and which source said so, read without loading anything from it."""
    config = config or os.environ.get("LAPOR_CONFIG")
    if os.environ.get("LAPOR_DATA__DIR"):
        return Path(os.environ["LAPOR_DATA__DIR"]).resolve(), "LAPOR_DATA__DIR"
    if config and "dir" in _read_settings_file(Path(config)).get("data", {}):
        return Path(_read_settings_file(Path(config))["data"]["dir"]).resolve(), f"data.dir in {config}"
    base = _read_settings_file(DEFAULT_TOML) if DEFAULT_TOML.exists() else {}
    return Path(base.get("data", {}).get("dir", "./data")).resolve(), "the default data.dir, relative to this folder"


def load_settings(config: str | Path | None = None, *, generate_secrets: bool = False) -> Settings:
    """Build the settings; raise :class:`SettingsError` with one clear line when invalid."""
    merged = _read_settings_file(DEFAULT_TOML) if DEFAULT_TOML.exists() else {}
    config = config or os.environ.get("LAPOR_CONFIG")
    if config:
        merged = _deep_merge(merged, _read_settings_file(Path(config)))
    env_settings(strict=True)  # an unknown LAPOR_* variable or a list that is neither JSON nor a,b: one line
    secrets_file = _env_data_dir(merged) / "secrets.toml"
    if secrets_file.exists():
        merged = _deep_merge(_read_settings_file(secrets_file), merged)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        errors = exc.errors()
        err = errors[0]
        where = ".".join(str(p) for p in err["loc"]) or "(settings)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        msg = (str(err["msg"]).splitlines() or ["invalid"])[0]
        raise SettingsError(f"invalid setting {where}: {msg}{more}") from None
    except _PydanticSettingsError as exc:
        raise SettingsError(f"invalid settings: {(str(exc).splitlines() or ['?'])[0]}") from None
    missing = [name for name, (sec, key) in SECRET_FIELDS.items() if not getattr(getattr(settings, sec), key)]
    if missing:
        if not generate_secrets:
            raise MissingSecretError(f"missing secret {missing[0]} (set LAPOR_{missing[0].upper().replace('.', '__')})")
        try:
            _write_generated_secrets(secrets_file, missing)
        except OSError as exc:
            raise SettingsError(f"cannot write generated secrets to {secrets_file}: {exc.strerror or exc}") from None
        return load_settings(config, generate_secrets=False)
    _check_values(settings)
    return settings


def _check_values(settings: Settings) -> None:
    """Values the model accepts but the gateway would fail on later, with a traceback: refused now, in one line."""
    _ = settings.sqlite_path  # storage.url: only sqlite:/// is implemented
    key = settings.privacy.vault_key or ""
    try:
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise SettingsError(
            'invalid setting privacy.vault_key: must be urlsafe base64 of 32 random bytes (python3 -c "import base64, '
            'os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
        )


def _write_generated_secrets(path: Path, missing: list[str]) -> None:
    existing = _read_toml(path) if path.exists() else {}
    for name in missing:
        sec, key = SECRET_FIELDS[name]
        value = (
            base64.urlsafe_b64encode(pysecrets.token_bytes(32)).decode()
            if name == "privacy.vault_key"
            else pysecrets.token_urlsafe(32)
        )
        existing.setdefault(sec, {})[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for sec, kv in existing.items():
        lines.append(f"[{sec}]")
        lines += [f'{k} = "{v}"' for k, v in kv.items()]
        lines.append("")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))
    os.chmod(path, 0o600)
