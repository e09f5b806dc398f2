"""Settings: embedded defaults < ``--config``/``LAPOR_CONFIG`` file < ``LAPOR_<SECTION>__<KEY>`` env.

Key names are the ones DESIGN.md promises operators. Secrets come from the
environment or ``data/secrets.toml`` (generated on first ``run``), never the repo.
"""

from __future__ import annotations

import os
import secrets as pysecrets
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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


class ForwarderSettings(BaseModel):
    concurrency: int = Field(32, gt=0)
    max_attempts: int = Field(12, gt=0)
    backoff_base_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    timeout_seconds: float = Field(10.0, gt=0)


class KannelSettings(BaseModel):
    sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    username: str | None = None
    password: str | None = None
    sender: str = "1708"
    shared_secret: str | None = None  # ?secret=… on the get-url
    allowed_sources: list[str] = Field(default_factory=list)  # peer IPs; empty = any


class SmsSettings(BaseModel):
    shortcode: str = "1708"
    kannel: KannelSettings = Field(default_factory=KannelSettings)
    json_hmac_key: str | None = None  # generic aggregator webhook; off unless set
    twilio_auth_token: str | None = None  # Twilio-style webhook; off unless set
    twilio_url: str | None = None  # public URL Twilio signs, when behind a proxy
    receipt_language: Literal["id", "en"] = "id"
    max_per_minute: int = Field(120, gt=0)  # outbound SMS overall, per rolling minute (over it: deferred)


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
    min_confidence: float = Field(60.0, ge=0, le=100)
    poll_seconds: float = Field(2.0, gt=0)


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


class ReceiptsSettings(BaseModel):
    replies_per_sender_per_hour: int = Field(10, gt=0)  # CEK/help answers; over it: not sent, logged once


class PrivacySettings(BaseModel):
    reporter_hmac_key: str | None = None
    vault_key: str | None = None  # urlsafe base64 of 32 bytes (AES-256-GCM)


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
    sms: SmsSettings = Field(default_factory=SmsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    imap: ImapSettings = Field(default_factory=ImapSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    letters: LettersSettings = Field(default_factory=LettersSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    x: XSettings = Field(default_factory=XSettings)
    whatsapp: WhatsappSettings = Field(default_factory=WhatsappSettings)
    receipts: ReceiptsSettings = Field(default_factory=ReceiptsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
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
        # env beats the merged TOML files, which arrive as init kwargs
        return (env_settings, init_settings)

    @property
    def sqlite_path(self) -> Path:
        assert self.storage.url is not None
        if not self.storage.url.startswith("sqlite:///"):
            raise SettingsError(f"storage.url: unsupported backend {self.storage.url.split(':', 1)[0]!r}")
        return Path(self.storage.url.removeprefix("sqlite:///"))


class SettingsError(Exception):
    """One line naming the setting that is missing or invalid."""


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
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: {exc}") from exc


def _env_data_dir(merged: dict[str, Any]) -> Path:
    env = os.environ.get("LAPOR_DATA__DIR")
    return Path(env) if env else Path(merged.get("data", {}).get("dir", "./data"))


def load_settings(config: str | Path | None = None, *, generate_secrets: bool = False) -> Settings:
    """Build the settings; raise :class:`SettingsError` with one clear line when invalid."""
    merged = _read_toml(DEFAULT_TOML) if DEFAULT_TOML.exists() else {}
    config = config or os.environ.get("LAPOR_CONFIG")
    if config:
        merged = _deep_merge(merged, _read_toml(Path(config)))
    secrets_file = _env_data_dir(merged) / "secrets.toml"
    if secrets_file.exists():
        merged = _deep_merge(_read_toml(secrets_file), merged)
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise SettingsError(f"invalid setting {where}: {err['msg']}") from None
    missing = [name for name, (sec, key) in SECRET_FIELDS.items() if not getattr(getattr(settings, sec), key)]
    if missing:
        if not generate_secrets:
            raise SettingsError(f"missing secret {missing[0]} (set LAPOR_{missing[0].upper().replace('.', '__')})")
        _write_generated_secrets(secrets_file, missing)
        return load_settings(config, generate_secrets=False)
    return settings


def _write_generated_secrets(path: Path, missing: list[str]) -> None:
    import base64

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
