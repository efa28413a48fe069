"""Settings: ``homeroom.toml``.

Secrets are never values in the file: the file names an environment variable or
a file holding them, and only the component that needs a secret reads it.
Validation errors are reported with the table and key so an administrator can
fix the file without reading a stack trace.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as PydanticSettingsError

from hub.auth.config import OidcOptions
from hub.edge import host_pattern, origin

__all__ = [
    "AuditSettings",
    "AuthSettings",
    "IdentitySettings",
    "MatchRule",
    "PolicySettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "StoreSettings",
    "load_settings",
]


class SettingsError(Exception):
    """The configuration cannot be used; the message says where and why."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Table):
    """``[server]``: where to listen and the limits every query obeys."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_page_size: int = Field(default=10_000, ge=1)
    max_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5_000, ge=100)
    # Estimated cells (rows x fields, from `first` along each path) an operation
    # may ask for; see hub/schema/cost.py. A caller gets the largest limit of
    # their roles, a role without an entry having `max_cost`.
    max_cost: int = Field(default=5_000_000, ge=1)
    max_cost_by_role: dict[str, PositiveInt] = Field(default_factory=dict)
    graphiql: bool = True
    metrics_clients: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    """Networks (CIDR) that may read ``/metrics`` and ``/readyz``'s details (others get 403,
    and ``/readyz``'s status alone): the counters say how many students a mirror holds."""

    @field_validator("metrics_clients")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(
                    f"{network!r} is not a network (write it as 10.0.0.0/8 or 127.0.0.1)"
                ) from None
        return value

    tracing: bool = False
    """OpenTelemetry traces (``homeroom[otel]``; docs/operations.md): no query text, names or values."""
    log_format: Literal["text", "json"] = "text"
    """The log's lines: ``text``, or ``json`` (one object per line); ``serve --log-format`` wins."""
    ready_max_lag_seconds: float = Field(default=3600.0, gt=0)
    """``/readyz`` says not ready when a mirrored source's data is older than this."""
    # The Host names this hub answers to (a name, an IP address or *.domain);
    # any other Host is refused with 400 BAD_HOST, which defeats DNS rebinding.
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    # Browser origins (https://dashboard.district.org) whose pages may call
    # /graphql; none by default, and then no CORS headers at all.
    cors_origins: tuple[str, ...] = ()

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one host name (an empty list refuses every request)")
        return tuple(host_pattern(entry) for entry in value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(origin(entry) for entry in value)


class AuthSettings(OidcOptions):
    """``[auth]``: how callers sign in.

    The identity-provider keys (``issuer``, ``audience``, ``jwks_url``,
    ``algorithms``, ``roles_claim``, ``role_map``, ``person_claim``, ...) are
    those of :class:`hub.auth.OidcOptions` (see docs/sign-in.md).
    ``dev_key_file`` turns on development sign-in: HS256 tokens signed with
    the key in that file (created with a fresh random key when missing), as
    printed by ``homeroom token``. ``district_roles`` are the roles whose
    holders count as district-level staff (the ``district`` relation).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dev_key_file: str | None = None
    dev_issuer: str = "homeroom-dev"
    district_roles: tuple[str, ...] = ("district_admin",)


class PolicySettings(_Table):
    """``[policy]``: the policy folder and how "current" is judged."""

    dir: str | None = None
    grace_days: int = Field(default=14, ge=0, le=366)
    watch: bool = True


class StoreSettings(_Table):
    """``[store]``: the hub's own database (audit log, identity links, policy
    reloads). ``$HOMEROOM_STORE_URL`` overrides it, so a password can stay out
    of the file."""

    url: str = "sqlite+aiosqlite:///homeroom.db"


class AuditSettings(_Table):
    """``[audit]``: how long disclosure records are kept (FERPA asks for as
    long as the education record itself; five years by default)."""

    retention_days: int = Field(default=1825, ge=1)


class RealtimeSettings(_Table):
    """``[realtime]``: how the mirrors' writes reach the subscribers of the hub's
    other processes. ``relay = "auto"``: PostgreSQL's LISTEN/NOTIFY when the store
    is PostgreSQL, none on SQLite (one process); ``"postgres"``, ``"redis"``
    (pub/sub on ``redis_url``; ``homeroom[redis]``) or ``"off"``."""

    relay: Literal["auto", "postgres", "redis", "off"] = "auto"
    redis_url: str | None = None

    @model_validator(mode="after")
    def _redis_has_url(self) -> RealtimeSettings:
        if self.relay == "redis" and not self.redis_url:
            raise ValueError('relay = "redis" needs redis_url (for example "redis://127.0.0.1:6379/0")')
        return self


def _pairs(rules: Sequence[str]) -> list[str]:
    for rule in rules:
        left, sep, right = rule.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise ValueError(f"match key {rule!r}: write it as primary_attribute=this_source_attribute")
    return list(rules)


class MatchRule(_Table):
    """``[[identity.match]]``: how one secondary source's records find theirs
    in the primary source."""

    source: str
    people: tuple[str, ...] = ("vendor_id=identifier", "email=email")
    sections: tuple[str, ...] = ("vendor_id=class_code",)
    # Course codes repeat across schools in most districts: no course rule by default.
    courses: tuple[str, ...] = ()

    @field_validator("people", "sections", "courses")
    @classmethod
    def _check(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_pairs(value))


class IdentitySettings(_Table):
    """``[identity]``: the roster authority and the match rules.

    ``lms_entities`` come from the secondary (LMS) sources of a merged record
    when they serve them (assignments and scores by default); everything else
    comes from the primary source (roster and demographics).
    """

    primary: str | None = None
    match: tuple[MatchRule, ...] = ()
    lms_entities: tuple[str, ...] = ("Assignment", "Score")

    @field_validator("lms_entities")
    @classmethod
    def _entities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {
            "Organization",
            "AcademicSession",
            "Course",
            "Section",
            "Student",
            "Teacher",
            "Guardian",
            "Enrollment",
            "Assignment",
            "Score",
            "CourseGrade",
            "AttendanceEvent",
        }
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown entities: {', '.join(unknown)}")
        return value


class Settings(_Table):
    """Everything ``homeroom serve`` needs. ``sources`` stay raw tables here;
    each is validated by its adapter's own config model at start-up."""

    server: ServerSettings = ServerSettings()
    auth: AuthSettings = AuthSettings()
    policy: PolicySettings = PolicySettings()
    store: StoreSettings = StoreSettings()
    audit: AuditSettings = AuditSettings()
    identity: IdentitySettings = IdentitySettings()
    realtime: RealtimeSettings = RealtimeSettings()
    sources: tuple[dict[str, Any], ...] = ()
    base_dir: Path = Path(".")

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(os.path.expandvars(path)).expanduser()
        return candidate if candidate.is_absolute() else (self.base_dir / candidate)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


SECRETS_DIR_ENV = "HOMEROOM_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path("/run/secrets")
TABLES = ("server", "auth", "policy", "store", "audit", "identity", "realtime")
"""The tables of ``homeroom.toml`` that the environment may set, key by key."""


class _Environment(BaseSettings):
    """``HOMEROOM_<TABLE>__<KEY>`` variables, then files of those names in the secrets
    folder (``$HOMEROOM_SECRETS_DIR``, else ``/run/secrets`` when it exists)."""

    model_config = SettingsConfigDict(
        env_prefix="HOMEROOM_",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="ignore",
    )

    server: dict[str, Any] = {}
    auth: dict[str, Any] = {}
    policy: dict[str, Any] = {}
    store: dict[str, Any] = {}
    audit: dict[str, Any] = {}
    identity: dict[str, Any] = {}
    realtime: dict[str, Any] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over a secret file, which wins over homeroom.toml.
        folder = os.environ.get(SECRETS_DIR_ENV) or (
            str(DEFAULT_SECRETS_DIR) if DEFAULT_SECRETS_DIR.is_dir() else None
        )
        sources: list[PydanticBaseSettingsSource] = [env_settings]
        if folder:
            sources.append(
                NestedSecretsSettingsSource(
                    file_secret_settings, secrets_dir=folder, secrets_nested_delimiter="__"
                )
            )
        return tuple(sources)


def _value(text: Any) -> Any:
    """A variable's text as TOML would have given it: JSON lists, tables, numbers and
    booleans decoded (``["https://a"]``, ``true``), anything else as it is."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if stripped[:1] in ("[", "{") or stripped in ("true", "false"):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def environment_overrides() -> dict[str, dict[str, Any]]:
    """What the environment (and the secrets folder) sets, per table and key."""
    folder = os.environ.get(SECRETS_DIR_ENV)
    if folder and not Path(folder).is_dir():
        raise SettingsError(f"${SECRETS_DIR_ENV} is {folder!r}, which is not a folder")
    try:
        found = _Environment().model_dump()
    except (ValueError, PydanticSettingsError) as exc:
        # A variable or file named like a whole table (HOMEROOM_SERVER=...), or unreadable.
        raise SettingsError(
            "a HOMEROOM_<TABLE>__<KEY> variable or secret file cannot be read "
            f"({type(exc).__name__}): set one key per variable, lists and tables as JSON"
        ) from None
    return {
        table: {key.lower(): _value(value) for key, value in found.get(table, {}).items()}
        for table in TABLES
        if found.get(table)
    }


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (TOML) into :class:`Settings`; ``None`` gives the defaults.

    Every key of a table may also be set as ``HOMEROOM_<TABLE>__<KEY>`` (for
    example ``HOMEROOM_SERVER__PORT=9000``), or by a file of that name in the
    secrets folder (Docker's and systemd's ``/run/secrets``): the environment
    wins over the file, which wins over the TOML; ``overrides`` win over all."""
    raw: dict[str, Any] = {}
    base_dir = Path(".").resolve()
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"{path}: no such file") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from None
        base_dir = path.resolve().parent
    for table, keys in environment_overrides().items():
        current = raw.get(table)
        raw[table] = {**(current if isinstance(current, dict) else {}), **keys}
    raw.update(overrides)
    raw.setdefault("base_dir", base_dir)
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        where = str(path) if path else "settings"
        raise SettingsError(f"{where}: invalid configuration:\n{_describe(exc)}") from None
