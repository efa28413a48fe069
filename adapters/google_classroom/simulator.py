"""Google Classroom API v1 over a generated district, for the demo and the tests.

``create_simulator(data_dir, SimulatorConfig(...))`` returns a Starlette app
serving the CSV set in ``data_dir`` (see ``_sim_data`` for the translation):

- ``GET /v1/courses`` (``courseStates``, ``studentId``, ``teacherId``),
  ``/v1/courses/{id}``, ``/v1/courses/{id}/students``, ``/teachers``, ``/aliases``,
  ``/courseWork`` (``courseWorkStates``, repeatable; ``orderBy`` on ``updateTime``
  and ``dueDate``, ``updateTime desc`` when unset, as Classroom documents),
  ``/courseWork/{id|-}/studentSubmissions`` (``userId``, ``states``, ``late``;
  no ordering: ``orderBy`` there answers 400, as Google does for a parameter
  a method does not have) and ``/v1/userProfiles/{id|-}/guardians``.
  Users may be named by id or e-mail address.
- Changes over time: every data request first checks the CSV folder
  (:class:`hub.sdk.FolderWatch`, a ``stat`` per file); when a file changed
  the folder is read again and what changed is stamped with a new
  ``updateTime`` (courses, course work, submissions; see ``_sim_changes``).
  Course work gone from the files is listed with ``state: DELETED`` under
  ``courseWorkStates=DELETED`` for ``keep_deleted`` seconds.
- Paging: ``pageSize`` (30 for rosters when unset, at most ``max_page_size``)
  and opaque ``pageToken`` / ``nextPageToken`` bound to the rest of the
  request (changing it answers 400, as Google does).
- Partial responses with ``fields=``; empty lists are left out, as in proto3 JSON.
- Auth: ``Authorization: Bearer`` with the configured ``token`` or one issued
  by ``POST /token`` (OAuth 2 client credentials); else 401 ``UNAUTHENTICATED``.
- Errors in Google's envelope ``{"error": {"code", "message", "status", "details"}}``.
- Throttling: past ``rate_limit_per_second``, 429 ``RESOURCE_EXHAUSTED``.
- ``api_disabled_user``: that student's guardians answer 403
  ``@ClassroomApiDisabled`` (and the all-students listing leaves them out);
  ``api_disabled_courses``: those courses' lists answer the same.
- Faults: added latency, a share of 5xx answers, a share of bodies cut in
  half, limited to paths containing one of ``fault_paths`` when given.

``app.state.simulator`` (a :class:`SimulatorState`) counts what clients did.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import datetime as dt
import functools
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.google_classroom._fields import FieldMaskError, parse_mask, prune
from adapters.google_classroom._sim_changes import ChangingClassroom
from adapters.google_classroom._sim_data import ClassroomDistrict, load_district
from hub.sdk import FolderSignature, FolderWatch

__all__ = ["SimulatorConfig", "SimulatorState", "create_simulator"]

Json = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]

_ROSTER_PAGE = 30  # Classroom's documented default for students and teachers
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_COURSE_STATES = frozenset({"ACTIVE", "ARCHIVED", "PROVISIONED", "DECLINED", "SUSPENDED"})
_SUBMISSION_STATES = frozenset({"NEW", "CREATED", "TURNED_IN", "RETURNED", "RECLAIMED_BY_STUDENT"})
_WORK_STATES = frozenset({"PUBLISHED", "DRAFT", "DELETED"})
_WORK_ORDER = "updateTime desc"  # courseWork.list's documented default


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated Classroom behaves.

    - ``token``: a bearer token always accepted (``None``: only issued ones).
    - ``client_id`` / ``client_secret`` / ``token_ttl``: ``POST /token``.
    - ``max_page_size``: larger ``pageSize`` values are cut to it.
    - ``rate_limit_per_second``: past it (in any second of ``clock``), 429;
      ``retry_after`` adds a ``Retry-After`` header (Google usually sends none).
    - ``api_disabled_user``: a student (id, e-mail or sourcedId) whose
      guardians answer 403 ``ClassroomApiDisabled``.
    - ``api_disabled_courses``: courses (id or class sourcedId) whose lists do.
    - ``domain_admin``: whether ``userProfiles/-/guardians`` is allowed.
    - ``latency`` / ``error_rate`` / ``error_status`` / ``truncate_rate`` /
      ``seed`` / ``fault_paths``: injected faults (on paths containing one of
      ``fault_paths``, or every data path when it is empty).
    - ``clock``: seconds for the rate limit (tests pass a fake one).
    - ``keep_deleted``: seconds deleted course work stays listed as ``DELETED``.
    - ``now``: the wall clock of ``updateTime`` stamps and of ``keep_deleted``.
    """

    token: str | None = "homeroom-sim-token"
    client_id: str = "homeroom-sim"
    client_secret: str = "homeroom-sim-secret"
    token_ttl: int = 3600
    max_page_size: int = 100
    rate_limit_per_second: float | None = None
    retry_after: int | None = None
    api_disabled_user: str | None = None
    api_disabled_courses: tuple[str, ...] = ()
    domain_admin: bool = True
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    truncate_rate: float = 0.0
    seed: int = 0
    fault_paths: tuple[str, ...] = ()
    clock: Callable[[], float] = time.monotonic
    keep_deleted: float = 86_400.0
    now: Callable[[], dt.datetime] = _utc_now


@dataclass
class SimulatorState:
    """What the simulator saw; tokens it issued; the district it serves now
    (``district``, stamped by ``changes``) and how often it re-read the
    folder (``reloads``)."""

    config: SimulatorConfig
    district: ClassroomDistrict
    changes: ChangingClassroom
    watch: FolderWatch
    disabled_user: str | None = None
    disabled_courses: frozenset[str] = frozenset()
    data_requests: int = 0
    throttled: int = 0
    paths: list[str] = field(default_factory=list)
    queries: list[list[tuple[str, str]]] = field(default_factory=list)
    reloads: int = 0
    _tokens: dict[str, float] = field(default_factory=dict)
    _recent: collections.deque[float] = field(default_factory=collections.deque)
    _random: random.Random = field(default_factory=random.Random)

    def revoke_tokens(self) -> None:
        """Forget every issued token (their next use gets 401)."""
        self._tokens.clear()


def google_error(
    status: int, message: str, reason: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Google's error envelope (``details`` carries an ``ErrorInfo`` with ``reason``)."""
    error: Json = {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "classroom.googleapis.com",
            }
        ]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _api_disabled() -> JSONResponse:
    return google_error(
        403,
        "@ClassroomApiDisabled The user is not permitted to access the Classroom API.",
        "ClassroomApiDisabled",
    )


def _not_found() -> JSONResponse:
    return google_error(404, "Requested entity was not found.")


def create_simulator(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The simulated Classroom over the OneRoster CSV set in ``data_dir``."""
    config = config or SimulatorConfig()
    watch = FolderWatch(Path(data_dir))
    district = _district(watch.folder, watch.signature)
    changes = ChangingClassroom(district, keep_deleted=config.keep_deleted, clock=config.now)
    state = SimulatorState(config, changes.served, changes, watch, _random=random.Random(config.seed))
    api = _Api(state)
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/token", _token_endpoint(state), methods=["POST"]),
        Route("/v1/courses", api.gated(api.courses), methods=["GET"]),
        Route("/v1/courses/{courseId}", api.gated(api.course), methods=["GET"]),
        Route("/v1/courses/{courseId}/students", api.gated(api.members("students")), methods=["GET"]),
        Route("/v1/courses/{courseId}/teachers", api.gated(api.members("teachers")), methods=["GET"]),
        Route("/v1/courses/{courseId}/aliases", api.gated(api.aliases), methods=["GET"]),
        Route("/v1/courses/{courseId}/courseWork", api.gated(api.course_work), methods=["GET"]),
        Route(
            "/v1/courses/{courseId}/courseWork/{courseWorkId}/studentSubmissions",
            api.gated(api.submissions),
            methods=["GET"],
        ),
        Route("/v1/userProfiles/{studentId}/guardians", api.gated(api.guardians), methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


@functools.lru_cache(maxsize=8)
def _district(path: Path, signature: FolderSignature) -> ClassroomDistrict:
    # Shared by simulators over the same files (tests start many); never changed
    # after loading (stamps go on copies). ``signature`` makes a rewritten set load again.
    return load_district(path)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _token_endpoint(state: SimulatorState) -> Handler:
    config = state.config

    async def token(request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            client_id, _, client_secret = (unquote(part) for part in decoded.partition(":"))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        good = hmac.compare_digest(client_id, config.client_id) and hmac.compare_digest(
            client_secret, config.client_secret
        )
        if not good:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        access_token = secrets.token_urlsafe(24)
        state._tokens[access_token] = time.monotonic() + config.token_ttl
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": config.token_ttl},
            headers={"Cache-Control": "no-store"},
        )

    return token


class _Api:
    """The data endpoints, behind one gate (auth, throttling, faults)."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self._serve(state.district)

    def _serve(self, district: ClassroomDistrict) -> None:
        state, config = self.state, self.state.config
        state.district = self.district = district
        self.by_course = {course["id"]: course for course in district.courses}
        state.disabled_user = district.user(config.api_disabled_user) if config.api_disabled_user else None
        state.disabled_courses = frozenset(
            found for key in config.api_disabled_courses if (found := district.course(key))
        )

    def refresh(self) -> None:
        """Serve the files as they are now: re-read them when one changed, and drop
        deleted work kept long enough. Cheap when nothing changed (a ``stat`` per file)."""
        state = self.state
        before = state.watch.signature
        if state.watch.changed():
            try:
                fresh = _district(state.watch.folder, state.watch.signature)
            except Exception:
                state.watch.signature = before  # half-written files: read them again next time
                raise
            state.changes.update(fresh)
            state.reloads += 1
        elif state.changes.expired():
            state.changes.update(state.changes.loaded)
        else:
            return
        self._serve(state.changes.served)

    # -- gate and answers ------------------------------------------------------------

    def gated(self, handler: Handler) -> Handler:
        async def handle(request: Request) -> Response:
            refused = await self._gate(request)
            if refused is not None:
                return refused
            self.refresh()
            return await handler(request)

        return handle

    def _authorised(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return False
        token = self.state.config.token
        if token is not None and hmac.compare_digest(value.strip(), token):
            return True
        expires = self.state._tokens.get(value.strip())
        return expires is not None and expires > time.monotonic()

    def _faulty(self, request: Request) -> bool:
        paths = self.state.config.fault_paths
        return not paths or any(part in request.url.path for part in paths)

    async def _gate(self, request: Request) -> Response | None:
        state, config = self.state, self.state.config
        state.data_requests += 1
        state.paths.append(request.url.path)
        state.queries.append(list(request.query_params.multi_items()))
        if not self._authorised(request):
            return google_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                "ACCESS_TOKEN_TYPE_UNSUPPORTED",
            )
        if config.rate_limit_per_second:
            now, recent = config.clock(), state._recent
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= config.rate_limit_per_second:
                state.throttled += 1
                headers = {"Retry-After": str(config.retry_after)} if config.retry_after is not None else None
                return google_error(
                    429,
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.",
                    "RATE_LIMIT_EXCEEDED",
                    headers,
                )
            recent.append(now)
        if not self._faulty(request):
            return None
        if config.latency:
            await asyncio.sleep(config.latency)
        if config.error_rate and state._random.random() < config.error_rate:
            return google_error(config.error_status, "The service is currently unavailable (simulated).")
        return None

    def _answer(self, request: Request, body: Json) -> Response:
        mask = request.query_params.get("fields")
        if mask:
            try:
                body = prune(body, parse_mask(mask))
            except FieldMaskError as exc:
                return google_error(400, f"Invalid field selection: {exc}")
        content = json.dumps(body, separators=(",", ":")).encode()
        config = self.state.config
        if (
            config.truncate_rate
            and self._faulty(request)
            and self.state._random.random() < config.truncate_rate
        ):
            content = content[: len(content) // 2]
        return Response(content, media_type="application/json")

    def _page(
        self, request: Request, key: str, items: Sequence[Json], default_size: int | None = None
    ) -> Response:
        """One page of ``items`` under ``key``, with a ``nextPageToken`` bound to the request."""
        query = request.query_params
        size_text = query.get("pageSize") or "0"
        if not size_text.isdigit():
            return google_error(400, "Invalid value for pageSize.")
        limit = self.state.config.max_page_size
        size = min(int(size_text) or default_size or limit, limit)
        fingerprint = _fingerprint(request)
        offset = 0
        if query.get("pageToken"):
            decoded = _read_token(query["pageToken"])
            if decoded is None or decoded[1] != fingerprint:
                return google_error(400, "Invalid page token.")
            offset = decoded[0]
        window = list(items[offset : offset + size])
        body: Json = {key: window} if window else {}
        if offset + size < len(items):
            body["nextPageToken"] = _make_token(offset + size, fingerprint)
        return self._answer(request, body)

    def _states(self, request: Request, name: str, allowed: frozenset[str]) -> set[str] | Response:
        values = set(request.query_params.getlist(name))
        unknown = values - allowed
        if unknown:
            return google_error(400, f"Invalid value for {name}.")
        return values

    # -- endpoints ---------------------------------------------------------------------

    async def courses(self, request: Request) -> Response:
        query = request.query_params
        states = self._states(request, "courseStates", _COURSE_STATES)
        if isinstance(states, Response):
            return states
        if query.get("studentId") and query.get("teacherId"):
            return google_error(400, "Only one of studentId and teacherId may be given.")
        courses = [c for c in self.district.courses if not states or c.get("courseState") in states]
        for name, roster in (("studentId", self.district.students), ("teacherId", self.district.teachers)):
            if query.get(name):
                user = self.district.user(query[name])
                courses = [c for c in courses if any(m["userId"] == user for m in roster.get(c["id"], []))]
        return self._page(request, "courses", courses)

    async def course(self, request: Request) -> Response:
        found = self.by_course.get(request.path_params["courseId"])
        return self._answer(request, found) if found is not None else _not_found()

    def _course_id(self, request: Request) -> str | Response:
        course_id = str(request.path_params["courseId"])
        if course_id not in self.by_course:
            return _not_found()
        if course_id in self.state.disabled_courses:
            return _api_disabled()
        return course_id

    def members(self, key: str) -> Handler:
        async def handle(request: Request) -> Response:
            course_id = self._course_id(request)
            if isinstance(course_id, Response):
                return course_id
            roster = getattr(self.district, key).get(course_id, [])
            return self._page(request, key, roster, _ROSTER_PAGE)

        return handle

    async def aliases(self, request: Request) -> Response:
        course_id = self._course_id(request)
        if isinstance(course_id, Response):
            return course_id
        return self._page(request, "aliases", self.district.aliases.get(course_id, []))

    async def course_work(self, request: Request) -> Response:
        course_id = self._course_id(request)
        if isinstance(course_id, Response):
            return course_id
        states = self._states(request, "courseWorkStates", _WORK_STATES)
        if isinstance(states, Response):
            return states
        works = [
            w for w in self.district.course_work.get(course_id, []) if w["state"] in (states or {"PUBLISHED"})
        ]
        ordered = _ordered(works, request.query_params.get("orderBy") or _WORK_ORDER)
        if ordered is None:
            return google_error(400, "Invalid value for orderBy.")
        return self._page(request, "courseWork", ordered)

    async def submissions(self, request: Request) -> Response:
        course_id = self._course_id(request)
        if isinstance(course_id, Response):
            return course_id
        query = request.query_params
        if "orderBy" in query:
            return _unknown_parameter("orderBy")
        work_id = request.path_params["courseWorkId"]
        items = self.district.submissions.get(course_id, [])
        if work_id != "-":
            if not any(w["id"] == work_id for w in self.district.course_work.get(course_id, [])):
                return _not_found()
            items = [s for s in items if s["courseWorkId"] == work_id]
        if query.get("userId"):
            user = self.district.user(query["userId"])
            items = [s for s in items if s["userId"] == user]
        states = self._states(request, "states", _SUBMISSION_STATES)
        if isinstance(states, Response):
            return states
        if states:
            items = [s for s in items if s["state"] in states]
        late = query.get("late")
        if late in ("LATE_ONLY", "NOT_LATE_ONLY"):
            items = [s for s in items if bool(s.get("late")) == (late == "LATE_ONLY")]
        return self._page(request, "studentSubmissions", items)

    async def guardians(self, request: Request) -> Response:
        student = str(request.path_params["studentId"])
        disabled = self.state.disabled_user
        if student == "-":
            if not self.state.config.domain_admin:
                return google_error(403, "The caller does not have permission.")
            links = [
                link for user, found in self.district.guardians.items() if user != disabled for link in found
            ]
        else:
            user = self.district.user(student)
            if user is None:
                return _not_found()
            if user == disabled:
                return _api_disabled()
            links = self.district.guardians.get(user, [])
        invited = request.query_params.get("invitedEmailAddress")
        if invited:
            links = [link for link in links if link.get("invitedEmailAddress", "").lower() == invited.lower()]
        return self._page(request, "guardians", links)


def _unknown_parameter(name: str) -> JSONResponse:
    return google_error(
        400,
        f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
        f"Field '{name}' could not be found in request message.",
    )


def _update_time(work: Json) -> tuple[int, dt.datetime]:
    try:
        return 1, dt.datetime.fromisoformat(str(work.get("updateTime")).replace("Z", "+00:00"))
    except ValueError:
        return 0, dt.datetime.min.replace(tzinfo=dt.UTC)


def _due(work: Json) -> tuple[int, ...]:
    # Work without a due date sorts as the earliest.
    date, clock = work.get("dueDate"), work.get("dueTime") or {}
    if not isinstance(date, dict):
        return (0,)
    day = tuple(int(date.get(part, 0)) for part in ("year", "month", "day"))
    return (1, *day, *(int(clock.get(part, 0)) for part in ("hours", "minutes", "seconds", "nanos")))


_SORT_KEYS: dict[str, Callable[[Json], Any]] = {"updateTime": _update_time, "dueDate": _due}


def _ordered(works: list[Json], order_by: str) -> list[Json] | None:
    """``works`` sorted as ``orderBy`` says (``field [asc|desc]``, comma-separated;
    ``asc`` when no direction is given), ``None`` when it names something else."""
    keys: list[tuple[Callable[[Json], Any], bool]] = []
    for part in order_by.split(","):
        words = part.split()
        if not 1 <= len(words) <= 2 or words[0] not in _SORT_KEYS:
            return None
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            return None
        keys.append((_SORT_KEYS[words[0]], direction == "desc"))
    ordered = list(works)
    # Stable sorts, last key first: the first key decides, the next ones break ties.
    for key, descending in reversed(keys):
        ordered.sort(key=key, reverse=descending)
    return ordered


def _fingerprint(request: Request) -> str:
    """What a page token is bound to: the path and every parameter but the token."""
    items = sorted((k, v) for k, v in request.query_params.multi_items() if k != "pageToken")
    return hashlib.sha256(json.dumps([request.url.path, items]).encode()).hexdigest()[:16]


def _make_token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode().rstrip("=")


def _read_token(token: str) -> tuple[int, str] | None:
    try:
        offset, fingerprint = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, binascii.Error):
        return None
    if isinstance(offset, int) and offset >= 0 and isinstance(fingerprint, str):
        return offset, fingerprint
    return None
