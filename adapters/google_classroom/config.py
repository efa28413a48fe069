"""The ``[[sources]]`` table of kind ``google-classroom``."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from hub.sdk import read_secret
from hub.sdk.http import HttpSourceConfig

__all__ = ["CourseState", "GoogleClassroomConfig"]

CourseState = Literal["ACTIVE", "ARCHIVED", "PROVISIONED", "DECLINED", "SUSPENDED"]

READ_ONLY_SCOPES = " ".join(
    f"https://www.googleapis.com/auth/classroom.{name}"
    for name in (
        "courses.readonly",
        "rosters.readonly",
        "profile.emails",
        "coursework.students.readonly",
        "guardianlinks.students.readonly",
    )
)
"""The scopes the adapter needs, for a token broker that asks for them."""


class GoogleClassroomConfig(HttpSourceConfig):
    """Google Classroom API v1, read live::

        [[sources]]
        name = "classroom"
        kind = "google-classroom"
        token_file = "/run/secrets/classroom-token"   # kept fresh by a token broker

    or, with a broker that speaks OAuth 2 client credentials::

        token_url = "https://tokens.district.example/oauth/token"
        client_id_env = "CLASSROOM_CLIENT_ID"
        client_secret_env = "CLASSROOM_CLIENT_SECRET"

    - ``base_url``: ``https://classroom.googleapis.com`` unless a proxy or
      the simulator stands in.
    - Auth, one of: a bearer access token from ``token_env`` or
      ``token_file`` (the file is read again whenever it changes, so a
      broker can renew it: Google access tokens live an hour), or OAuth 2
      client credentials at ``token_url`` (``client_id_env``/``_file``,
      ``client_secret_env``/``_file``, ``scope``, ``token_auth_method``).
      Google's own service-account flow (a signed JWT with domain-wide
      delegation) is not built in: mint the token outside and hand it over
      through ``token_file``.
    - ``course_states``: which courses are served (default: ``ACTIVE`` only;
      Classroom keeps no enrollment dates, so archived courses would count
      as current classes).
    - ``guardians``: ``"all"`` reads every guardian link in one listing
      (``userProfiles/-/guardians``: needs a domain administrator's token);
      ``"per_student"`` asks student by student (any teacher's token).
    - ``lookup_limit``: questions about at most this many people or courses
      are answered by looking those up; larger ones read every course.
    - ``max_scan_records``: the most vendor objects one question may read
      before the adapter gives up with an error (filters Classroom cannot
      apply are applied in the hub, after reading).
    - ``page_size``: ``pageSize`` of every list call.
    """

    base_url: str = Field(default="https://classroom.googleapis.com", min_length=1)
    token_env: str | None = None
    token_file: str | None = None
    token_url: str | None = None
    client_id_env: str | None = None
    client_id_file: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None
    scope: str | None = READ_ONLY_SCOPES
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    course_states: tuple[CourseState, ...] = Field(default=("ACTIVE",), min_length=1)
    guardians: Literal["all", "per_student"] = "all"
    lookup_limit: int = Field(default=5, ge=0, le=1000)
    max_scan_records: int = Field(default=200_000, ge=1, le=10_000_000)

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        bearer = bool(self.token_env or self.token_file)
        client_keys = (
            "token_url",
            "client_id_env",
            "client_id_file",
            "client_secret_env",
            "client_secret_file",
        )
        client = any(getattr(self, key) for key in client_keys)
        if bearer == client:
            raise ValueError(
                "give either token_env/token_file (a bearer token) or token_url with "
                "client_id_env/_file and client_secret_env/_file (OAuth 2 client credentials)"
            )
        if self.token_env and self.token_file:
            raise ValueError("give only one of token_env and token_file")
        if client:
            if not self.token_url:
                raise ValueError("token_url is required with client credentials")
            for what in ("client_id", "client_secret"):
                env, file = getattr(self, f"{what}_env"), getattr(self, f"{what}_file")
                if bool(env) == bool(file):
                    raise ValueError(f"give exactly one of {what}_env and {what}_file")
        return self

    @property
    def uses_bearer_token(self) -> bool:
        """Whether requests carry a configured token rather than one from ``token_url``."""
        return bool(self.token_env or self.token_file)

    def client_id(self) -> str:
        """The client id, read now; ``ConfigError`` names the key."""
        return read_secret(self.name, env=self.client_id_env, file=self.client_id_file, key="client_id")

    def client_secret(self) -> str:
        """The client secret, read now; ``ConfigError`` names the key, never the value."""
        return read_secret(
            self.name, env=self.client_secret_env, file=self.client_secret_file, key="client_secret"
        )

    def secret_names(self) -> str:
        """Where the credentials come from, for error messages."""
        names = [
            self.token_env,
            self.token_file,
            self.client_id_env or self.client_id_file,
            self.client_secret_env or self.client_secret_file,
        ]
        return " / ".join(name for name in names if name)
