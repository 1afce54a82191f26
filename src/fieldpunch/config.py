"""Settings from `FIELDPUNCH_*` variables and an optional `.env` file (pydantic-settings)."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting that cannot work; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FIELDPUNCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    # Database connections per process (no overflow: requests beyond it wait for one, up to
    # db_pool_timeout_s, then get 503). PostgreSQL's max_connections must cover every process.
    db_pool_size: int = Field(default=20, ge=1, le=1000)
    db_pool_timeout_s: float = Field(default=30.0, gt=0, le=600)
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    access_token_ttl_s: int = Field(default=3600, ge=60, le=86400)
    refresh_token_ttl_s: int = Field(default=30 * 86400, ge=3600, le=365 * 86400)
    # A refresh token used this recently may be used again (a phone whose answer was lost on a
    # flaky network retries); later reuse revokes the sign-in. 0: any reuse revokes it.
    refresh_reuse_grace_s: int = Field(default=30, ge=0, le=300)
    # Sign-in throttling (POST /auth/token): failed attempts per email and client address, and
    # per client address alone (higher: many people share an office NAT), in a window that
    # starts at the first failure. Shared through Redis when FIELDPUNCH_REDIS_URL is set.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_ip_max_failures: int = Field(default=50, ge=1, le=100_000)
    login_window_s: int = Field(default=900, ge=10, le=86400)
    # Punch intake (issue 12; docs/api.md, time proofs and punches). A time anchor (GET /time)
    # dates punches made up to this many hours after it was issued (an offline phone keeps one
    # for days); a later proof falls back to server or device time with a finding.
    time_anchor_ttl_h: float = Field(default=72, gt=0, le=24 * 366)
    # Punches per person (POST /punches and /punches/batch count each punch): a bucket of
    # punch_burst punches (a full batch) refilled at punch_rate_per_min; beyond it 429 with
    # Retry-After. Shared through Redis when FIELDPUNCH_REDIS_URL is set. 0: no limit.
    punch_rate_per_min: float = Field(default=60, ge=0, le=10_000_000)
    punch_burst: int = Field(default=1000, ge=1, le=10_000_000)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # How often chain heads are signed into a checkpoint (bounds what a DB edit could hide).
    checkpoint_interval_s: int = Field(default=300, ge=5, le=86400)
    access_log: bool = True
    # Live feed (WS /api/v1/live): a `{"type": "ping"}` this often on every socket, so clients
    # and proxies see a quiet connection is alive.
    live_ping_s: float = Field(default=30.0, gt=0, le=3600)
    # A live socket reads its caller again this often, as a request would: a revocation or a
    # change of rights ends the feed within this bound (one primary-key read per socket).
    live_recheck_s: float = Field(default=5.0, gt=0, le=3600)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "fieldpunch@localhost"
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    # Jobs: run in this process (embedded `serve` does by default) or only in `fieldpunch worker`.
    jobs_in_process: bool | None = None
    worker_concurrency: int = Field(default=4, ge=1, le=64)
    # Idle workers look for due jobs this often: the most a new alert waits to start.
    worker_poll_s: float = Field(default=0.5, ge=0.01, le=60)
    # A claimed job is another worker's to retry once its lease runs out (a killed worker).
    job_lease_s: float = Field(default=120, ge=1, le=3600)
    # On SIGTERM, running jobs get this long to finish before they are handed back.
    worker_grace_s: float = Field(default=20, ge=0, le=600)
    # Web Push (VAPID, RFC 8292): base64url of the raw 32-byte P-256 private key.
    vapid_private_key: str = ""
    vapid_subject: str = ""
    # Robot webhooks and push endpoints go only to the vendors' hosts and these (comma-separated;
    # `.example.com` allows subdomains): e.g. a self-hosted Mattermost. Guards against SSRF.
    outbound_allow_hosts: str = ""
    # Request bodies (kit/bodyguard.py): read whole, before the handler and its transaction,
    # after the bearer token is checked; larger is 413 (a Content-Length over it: nothing read).
    # max_body_bytes for every route but these: POST /punches/batch, POST /cells/import (the
    # import's own ceiling is 64 MiB); a photo upload's is its 10 MB image plus the form's envelope.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_batch_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_import_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # A body must arrive within body_timeout_s plus one second per body_min_rate bytes received
    # (a stalled or trickling client is answered 408 and the connection closed).
    body_timeout_s: float = Field(default=20.0, gt=0, le=3600)
    body_min_rate: int = Field(default=10_000, ge=1, le=1_000_000_000)
    # The manager console's map tiles (docs/console.md): an XYZ URL template with {z}, {x}, {y}
    # (an internal tile server works); empty: no tiles, the points on a blank grid.
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tile_attribution: str = "© OpenStreetMap contributors"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        if not v:
            return v
        if v.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + v.split("://", 1)[1]
        if v.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + v.removeprefix("sqlite:///")
        if not v.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite:/// URL")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return v or None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("map_tile_url")
    @classmethod
    def _map_tile_url(cls, v: str) -> str:
        placeholders = "{z}" in v and "{x}" in v and ("{y}" in v or "{-y}" in v)
        if v and not (v.startswith(("http://", "https://", "/")) and placeholders):
            raise ValueError("must be an http(s) or /path URL template with {z}, {x} and {y}")
        return v

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, v: str) -> str:
        if v and len(v) < 32:
            raise ValueError("must be at least 32 characters")
        return v

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fieldpunch.sqlite3').as_posix()}"

    @property
    def embedded(self) -> bool:
        """Embedded mode: SQLite, jobs and live feed in this process."""
        return self.db_url.startswith("sqlite")

    @property
    def run_jobs_here(self) -> bool:
        """Whether `serve` runs the job runner itself (embedded default) or leaves it to workers."""
        return self.embedded if self.jobs_in_process is None else self.jobs_in_process

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.outbound_allow_hosts.split(",") if h.strip())

    @field_validator("vapid_private_key")
    @classmethod
    def _vapid_private_key(cls, v: str) -> str:
        if v:
            from fieldpunch.notify.webpush import load_private_key

            load_private_key(v)  # raises ValueError with what is wrong
        return v

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, v: str) -> str:
        if v and not v.startswith(("mailto:", "https://")):
            raise ValueError("must start with mailto: or https://")
        return v

    @cached_property
    def vapid_key(self) -> str | None:
        """The VAPID private key: configured, else (embedded) generated once in the data folder."""
        if self.vapid_private_key:
            return self.vapid_private_key
        if not self.embedded:
            return None  # several processes must share one key: web push needs it configured
        path = self.data_dir / "vapid_private_key"
        if not path.exists():
            from fieldpunch.notify.webpush import new_private_key

            # Written aside, then linked in: `serve` and a worker starting together agree on one.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".vapid_private_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(new_private_key())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    @cached_property
    def signing_key(self) -> str:
        """The configured secret, else one generated once and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        if not self.embedded:
            raise ConfigError("FIELDPUNCH_SECRET_KEY: required with an external database")
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def load_settings(**overrides: object) -> Settings:
    """Read settings; a bad value raises ConfigError with one line naming the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "FIELDPUNCH_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"{name}: {err['msg']}") from None
    if not settings.embedded and not settings.secret_key:
        raise ConfigError("FIELDPUNCH_SECRET_KEY: required with an external database")
    return settings
