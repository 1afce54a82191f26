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
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    access_token_ttl_s: int = Field(default=3600, ge=60, le=86400)
    refresh_token_ttl_s: int = Field(default=30 * 86400, ge=3600, le=365 * 86400)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # How often chain heads are signed into a checkpoint (bounds what a DB edit could hide).
    checkpoint_interval_s: int = Field(default=300, ge=5, le=86400)
    access_log: bool = True
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "fieldpunch@localhost"
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"

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
