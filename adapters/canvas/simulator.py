"""A Canvas LMS REST API over a generated district, for the demo and tests.

``create_simulator(data_dir, SimulatorConfig(...))`` returns a Starlette app
serving the OneRoster CSV set in ``data_dir`` as one Canvas account (see
:mod:`adapters.canvas._sim_data` for how the district maps):

- ``/api/v1/...``: accounts, terms, courses, sections, users, enrollments,
  observers/observees, assignment groups, assignments, submissions (the
  endpoints the ``canvas`` adapter reads, with their Canvas parameters:
  ``type[]``, ``state[]``, ``enrollment_type``, ``user_ids[]``,
  ``student_ids[]``, ``assignment_ids[]``, ``include[]``...). Paths accept
  ``sis_user_id:``, ``sis_course_id:``, ``sis_section_id:`` and
  ``sis_term_id:`` ids as Canvas does.
- Auth: ``Authorization: Bearer <token>``; anything else gets 401 with
  Canvas's error body.
- Paging: ``page``/``per_page`` (10 by default, at most 100), with a ``Link``
  header (current, next, prev, first, last; no ``last`` for users, as Canvas
  leaves it out where counting is expensive).
- Throttling: a leaky bucket like Canvas's (600 units). Every answer carries
  ``X-Rate-Limit-Remaining`` and ``X-Request-Cost``; with
  ``rate_limit_per_second`` set, about ``rate_limit_burst`` requests in a row
  fill the bucket (the last may overdraw it: remaining goes negative, as in
  Canvas), and the next gets ``403 Forbidden (Rate Limit Exceeded)`` in plain
  text (or ``throttle_status``).
- Faults: added latency, a share of 5xx answers and a share of bodies cut
  short, optionally only on paths containing one of ``fault_paths``.
- Changes: every API request first checks the CSV folder (one ``stat`` per
  file); when a file changed it is read again, ids kept, and what changed is
  stamped as Canvas stamps it (:mod:`adapters.canvas._sim_changes`: a new
  ``graded_at`` for a new grade, ``submitted_at`` for work handed in,
  ``updated_at`` for assignments and enrollments). The submissions lists take
  Canvas's ``submitted_since`` and ``graded_since`` (``submitted_at`` /
  ``graded_at`` strictly after an ISO 8601 time; 400 when malformed), so a
  test can change a score in the folder and watch it arrive. Every answer
  carries a ``Date`` header from the instance's clock (``now``).

``app.state.simulator`` (a :class:`SimulatorState`) counts requests and can
change the token, so tests can watch what a client did.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import hmac
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters.canvas._sim_changes import ChangingDistrict, provider_clock
from adapters.canvas._sim_data import CanvasDistrict, graded_at, load_district, submission_json, submitted_at
from hub.sdk import FolderSignature, FolderWatch

__all__ = ["SimulatorConfig", "SimulatorState", "create_simulator"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Listing:
    """A collection answer: its ``items`` are paged first, then each item of the
    page is ``render``-ed (big lists are never copied whole), then wrapped in
    the envelope ``key`` if the endpoint has one."""

    items: Sequence[Any]
    render: Callable[[Any], Json] | None = None
    key: str | None = None


Answer = Json | list[Json] | Response | Listing
Handler = Callable[[Request, "SimulatorState"], Answer]

_CAPACITY = 600.0  # Canvas's default high-water mark
_NOT_FOUND = {"errors": [{"message": "The specified resource does not exist."}]}
_PREFIX = "/api/v1"
# Canvas's Api::ISO8601_REGEX: what submitted_since and graded_since accept.
_ISO8601 = re.compile(
    r"^-?\d{4}-(1[0-2]|0[1-9])-(3[01]|0[1-9]|[12]\d)T(2[0-3]|[01]\d):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-](2[0-3]|[01]\d)(:?[0-5]\d)?)?$"
)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated Canvas behaves.

    - ``token``: the only access token accepted.
    - ``default_per_page`` / ``max_per_page``: Canvas's 10 and its cap.
    - ``rate_limit_per_second`` / ``rate_limit_burst``: requests per second
      the bucket drains, and requests it holds; ``None``: never throttles.
    - ``throttle_status``: 403 (Canvas's documented answer) or 429.
    - ``latency``: seconds added to every data request.
    - ``error_rate`` / ``error_status``: that share of data requests fails
      with ``error_status`` (drawn from a ``seed``-ed generator, so runs repeat).
    - ``truncate_rate``: that share of data answers is cut to half its body.
    - ``fault_paths``: faults apply only to paths containing one of these;
      empty: to every data path.
    - ``now``: the wall clock of the ``Date`` header and of the stamps given
      to what changes in the files (moved on when the files carry later times).
    """

    token: str = "homeroom-canvas-sim"
    default_per_page: int = 10
    max_per_page: int = 100
    rate_limit_per_second: float | None = None
    rate_limit_burst: int = 30
    throttle_status: int = 403
    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    truncate_rate: float = 0.0
    fault_paths: tuple[str, ...] = ()
    seed: int = 0
    now: Callable[[], dt.datetime] = _utc_now


@dataclass
class SimulatorState:
    """What the simulator saw, its bucket, and a switch to change the token.

    ``district`` is what is served now: the files as last read, with the
    stamps of what changed in them (``changes``, re-read when ``watch`` sees
    a file change; ``reloads`` counts the reads). ``clock`` is the instance's own.
    """

    config: SimulatorConfig
    district: CanvasDistrict
    token: str
    watch: FolderWatch
    changes: ChangingDistrict
    clock: Callable[[], dt.datetime]
    requests: int = 0
    reloads: int = 0
    throttled: int = 0
    paths: list[str] = field(default_factory=list)
    queries: list[list[tuple[str, str]]] = field(default_factory=list)
    remaining: list[float] = field(default_factory=list)
    _users_by_type: dict[str, list[Json]] = field(default_factory=dict)
    _level: float = 0.0
    _touched: float = field(default_factory=time.monotonic)
    _random: random.Random = field(default_factory=random.Random)

    def change_token(self, token: str) -> None:
        """Accept only ``token`` from now on (the old one gets 401)."""
        self.token = token

    def _bucket(self) -> tuple[bool, float, float]:
        """(allowed, remaining units, cost) of one request, Canvas's way: a
        request is refused only when the bucket is already full."""
        rate = self.config.rate_limit_per_second
        if not rate:
            return True, _CAPACITY, 0.0
        cost = _CAPACITY / max(1, self.config.rate_limit_burst)
        now = time.monotonic()
        self._level = max(0.0, self._level - (now - self._touched) * cost * rate)
        self._touched = now
        if self._level >= _CAPACITY:
            return False, _CAPACITY - self._level, 0.0
        self._level += cost
        return True, _CAPACITY - self._level, cost


def create_simulator(data_dir: Path, config: SimulatorConfig | None = None) -> Starlette:
    """The simulated Canvas over the OneRoster CSV set in ``data_dir``."""
    config = config or SimulatorConfig()
    watch = FolderWatch(Path(data_dir))
    district = _district(watch.folder, watch.signature)
    clock = provider_clock(config.now, district)
    state = SimulatorState(
        config,
        district,
        config.token,
        watch,
        ChangingDistrict(district, clock),
        clock,
        _random=random.Random(config.seed),
    )
    routes = [Route("/healthz", _healthz, methods=["GET"])]
    routes += [
        Route(_PREFIX + pattern, _endpoint(state, handler), methods=["GET"]) for pattern, handler in _ROUTES
    ]
    app = Starlette(routes=routes)
    app.state.simulator = state
    return app


@functools.lru_cache(maxsize=8)
def _district(path: Path, signature: FolderSignature) -> CanvasDistrict:
    # Shared by simulators over the same files (tests start many): never
    # changed after loading (stamps go on later reads). ``signature`` makes a
    # rewritten set load again.
    return load_district(path)


def _refresh(state: SimulatorState) -> None:
    """Serve the files as they are now: re-read them when one changed (keeping
    the ids of what was read before) and stamp what changed. Cheap when nothing
    did: one ``stat`` per file."""
    before = state.watch.signature
    if not state.watch.changed():
        return
    try:
        fresh = load_district(state.watch.folder, previous=state.changes.served)
    except Exception:
        state.watch.signature = before  # half-written files: read them again next time
        raise
    state.changes.update(fresh)
    state.district = state.changes.served
    state._users_by_type.clear()
    state.reloads += 1


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


# -- the gate: auth, throttling, faults, paging ------------------------------------


def _faulty(state: SimulatorState, request: Request) -> bool:
    paths = state.config.fault_paths
    return not paths or any(part in request.url.path for part in paths)


def _endpoint(state: SimulatorState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    answer = _answering(state, handler)

    async def endpoint(request: Request) -> Response:
        response = await answer(request)
        # As any web server: the adapter's change feed reads the instance's clock here.
        response.headers["Date"] = email.utils.format_datetime(state.clock().astimezone(dt.UTC), usegmt=True)
        return response

    return endpoint


def _answering(state: SimulatorState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        config = state.config
        state.requests += 1
        state.paths.append(request.url.path)
        state.queries.append(list(request.query_params.multi_items()))
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return JSONResponse(
                {"status": "unauthenticated", "errors": [{"message": "user authorization required"}]},
                status_code=401,
            )
        if not hmac.compare_digest(token.strip().encode(), state.token.encode()):
            return JSONResponse(
                {"errors": [{"message": "Invalid access token."}]},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="canvas-lms"'},
            )
        allowed, remaining, cost = state._bucket()
        state.remaining.append(remaining)
        meter = {"X-Rate-Limit-Remaining": f"{remaining:.1f}"}
        if not allowed:
            state.throttled += 1
            status = config.throttle_status
            text = f"{status} {'Forbidden' if status == 403 else 'Too Many Requests'} (Rate Limit Exceeded)\n"
            return PlainTextResponse(text, status_code=status, headers=meter)
        meter["X-Request-Cost"] = f"{cost:.4f}"
        faulty = _faulty(state, request)
        if faulty and config.latency:
            await asyncio.sleep(config.latency)
        if faulty and config.error_rate and state._random.random() < config.error_rate:
            return JSONResponse(
                {"errors": [{"message": "simulated failure"}]}, status_code=config.error_status, headers=meter
            )
        _refresh(state)
        answer = handler(request, state)
        if isinstance(answer, Response):
            answer.headers.update(meter)
            return answer
        headers = dict(meter)
        body: Any = answer
        if isinstance(answer, list):
            body, link = _page(request, state, answer)
            if link:
                headers["Link"] = link
        elif isinstance(answer, Listing):
            page, link = _page(request, state, answer.items)
            rendered = [answer.render(item) for item in page] if answer.render else page
            body = {answer.key: rendered} if answer.key else rendered
            if link:
                headers["Link"] = link
        content = json.dumps(body, separators=(",", ":")).encode()
        if faulty and config.truncate_rate and state._random.random() < config.truncate_rate:
            content = content[: len(content) // 2]
        return Response(content, media_type="application/json", headers=headers)

    return endpoint


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _page(request: Request, state: SimulatorState, items: Sequence[Any]) -> tuple[list[Any], str]:
    config = state.config
    per_page = min(
        max(1, _int(request.query_params.get("per_page"), config.default_per_page)), config.max_per_page
    )
    page = max(1, _int(request.query_params.get("page"), 1))
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "per_page")]

    def url(number: int) -> str:
        return str(
            request.url.replace(query=urlencode([*query, ("page", str(number)), ("per_page", str(per_page))]))
        )

    links = [(url(page), "current")]
    if page < last:
        links.append((url(page + 1), "next"))
    if page > 1:
        links.append((url(page - 1), "prev"))
    links.append((url(1), "first"))
    if "/users" not in request.url.path:  # Canvas leaves "last" out where counting is expensive
        links.append((url(last), "last"))
    return chunk, ",".join(f'<{target}>; rel="{rel}"' for target, rel in links)


def _not_found() -> Response:
    return JSONResponse(_NOT_FOUND, status_code=404)


# -- ids -------------------------------------------------------------------------------


def _find(state: SimulatorState, kind: str, value: str) -> Json | None:
    """The object a path id names: a Canvas id, or ``sis_<kind>_id:...``."""
    district = state.district
    prefix = f"sis_{kind}_id:"
    if value.startswith(prefix):
        found = district.sis[kind].get(value[len(prefix) :])
        return district.by_id[kind].get(found) if found is not None else None
    if kind == "user" and value == "self":
        return None
    return district.by_id[kind].get(_int(value, -1))


def _list(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(name)


def _includes(request: Request) -> set[str]:
    return set(_list(request, "include[]"))


def _user_json(state: SimulatorState, user: Json, includes: set[str]) -> Json:
    out = dict(user)
    if "email" in includes and user["id"] in state.district.emails:
        out["email"] = state.district.emails[user["id"]]
    return out


# -- handlers ---------------------------------------------------------------------------


def _account(request: Request, state: SimulatorState) -> Json | None:
    value = request.path_params["account"]
    account = state.district.account
    if value in ("self", str(account["id"]), f"sis_account_id:{account['sis_account_id']}"):
        return account
    return None


def get_account(request: Request, state: SimulatorState) -> Answer:
    return _account(request, state) or _not_found()


def list_terms(request: Request, state: SimulatorState) -> Answer:
    if _account(request, state) is None:
        return _not_found()
    return Listing(state.district.terms, key="enrollment_terms")


def get_term(request: Request, state: SimulatorState) -> Answer:
    if _account(request, state) is None:
        return _not_found()
    return _find(state, "term", request.path_params["term"]) or _not_found()


def _course_json(state: SimulatorState, course: Json, includes: set[str]) -> Json:
    out = dict(course)
    if "term" in includes:
        out["term"] = state.district.by_id["term"].get(course["enrollment_term_id"])
    return out


def list_courses(request: Request, state: SimulatorState) -> Answer:
    if _account(request, state) is None:
        return _not_found()
    courses = state.district.courses
    term_value = request.query_params.get("enrollment_term_id")
    if term_value:
        term = _find(state, "term", term_value)
        wanted = term["id"] if term is not None else None
        courses = [c for c in courses if c["enrollment_term_id"] == wanted]
    includes = _includes(request)
    return Listing(courses, lambda course: _course_json(state, course, includes))


_ACCOUNT_USER_TYPES = {
    "student": "StudentEnrollment",
    "teacher": "TeacherEnrollment",
    "ta": "TaEnrollment",
    "observer": "ObserverEnrollment",
    "designer": "DesignerEnrollment",
}


def list_account_users(request: Request, state: SimulatorState) -> Answer:
    if _account(request, state) is None:
        return _not_found()
    includes = _includes(request)
    users = _users_of_type(state, request.query_params.get("enrollment_type") or "")
    return Listing(users, lambda user: _user_json(state, user, includes))


def _users_of_type(state: SimulatorState, kind: str) -> list[Json]:
    """The account's users with an enrollment of ``kind`` (all users for none), computed once."""
    found = state._users_by_type.get(kind)
    if found is None:
        district = state.district
        wanted = _ACCOUNT_USER_TYPES.get(kind)
        found = [u for u in district.users if not kind or wanted in district.user_types.get(u["id"], set())]
        state._users_by_type[kind] = found
    return found


def get_account_enrollment(request: Request, state: SimulatorState) -> Answer:
    if _account(request, state) is None:
        return _not_found()
    return state.district.by_id["enrollment"].get(_int(request.path_params["enrollment"], -1)) or _not_found()


def get_course(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    return _course_json(state, course, _includes(request)) if course is not None else _not_found()


def list_course_sections(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    return list(state.district.course_sections[course["id"]]) if course is not None else _not_found()


_DEFAULT_STATES = ("active", "invited")


def _enrollments(request: Request, state: SimulatorState, items: Sequence[Json]) -> list[Json]:
    types = set(_list(request, "type[]"))
    states = set(_list(request, "state[]")) or set(_DEFAULT_STATES)
    found = [e for e in items if (not types or e["type"] in types) and e["enrollment_state"] in states]
    user = request.query_params.get("user_id")
    if user:
        found = [e for e in found if str(e["user_id"]) == user]
    term_value = request.query_params.get("enrollment_term_id")
    if term_value:
        term = _find(state, "term", term_value)
        courses = state.district.by_id["course"]
        wanted = term["id"] if term is not None else None
        found = [e for e in found if courses[e["course_id"]]["enrollment_term_id"] == wanted]
    return found


def list_course_enrollments(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    return (
        _enrollments(request, state, state.district.course_enrollments[course["id"]])
        if course
        else _not_found()
    )


def list_section_enrollments(request: Request, state: SimulatorState) -> Answer:
    section = _find(state, "section", request.path_params["section"])
    return (
        _enrollments(request, state, state.district.section_enrollments[section["id"]])
        if section
        else _not_found()
    )


def list_user_enrollments(request: Request, state: SimulatorState) -> Answer:
    user = _find(state, "user", request.path_params["user"])
    return _enrollments(request, state, state.district.user_enrollments[user["id"]]) if user else _not_found()


def list_course_users(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    if course is None:
        return _not_found()
    district = state.district
    types = {_ACCOUNT_USER_TYPES[t] for t in _list(request, "enrollment_type[]") if t in _ACCOUNT_USER_TYPES}
    states = set(_list(request, "enrollment_state[]")) or set(_DEFAULT_STATES)
    wanted_ids = {_int(u, -1) for u in _list(request, "user_ids[]")}
    includes = _includes(request)
    by_user: dict[int, list[Json]] = {}
    for enrollment in district.course_enrollments[course["id"]]:
        if types and enrollment["type"] not in types:
            continue
        if enrollment["enrollment_state"] not in states:
            continue
        if wanted_ids and enrollment["user_id"] not in wanted_ids:
            continue
        by_user.setdefault(enrollment["user_id"], []).append(enrollment)
    users = []
    for user_id in sorted(by_user):
        user = _user_json(state, district.by_id["user"][user_id], includes)
        if "enrollments" in includes:
            user["enrollments"] = [
                {k: e[k] for k in ("id", "type", "course_section_id", "enrollment_state")}
                for e in by_user[user_id]
            ]
        users.append(user)
    return users


def _assignments(request: Request, assignments: Sequence[Json]) -> list[Json]:
    """Assignments as the API writes them: ``assignment_ids[]`` kept, overrides only when included."""
    wanted = {_int(a, -1) for a in _list(request, "assignment_ids[]")}
    overrides = "overrides" in _includes(request)
    found = []
    for assignment in assignments:
        if wanted and assignment["id"] not in wanted:
            continue
        out = dict(assignment)
        if not overrides:
            out.pop("overrides")
        found.append(out)
    return found


def list_assignments(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    if course is None:
        return _not_found()
    # Canvas's default order ("position"): by assignment group position, then the
    # assignment's position, then id; the groups' lists give the same order.
    group_position = {group["id"]: group["position"] for group in state.district.groups[course["id"]]}
    ordered = sorted(
        state.district.assignments[course["id"]],
        key=lambda a: (group_position.get(a["assignment_group_id"], 0), a["position"], a["id"]),
    )
    return _assignments(request, ordered)


def list_assignment_groups(request: Request, state: SimulatorState) -> Answer:
    """The course's assignment groups; with ``include[]=assignments``, each with its
    assignments (``include[]=overrides`` and ``assignment_ids[]`` as for the assignments list)."""
    course = _find(state, "course", request.path_params["course"])
    if course is None:
        return _not_found()
    groups = state.district.groups[course["id"]]
    if "assignments" not in _includes(request):
        return list(groups)
    assignments = state.district.assignments[course["id"]]
    return [
        {
            **group,
            "assignments": _assignments(
                request, [a for a in assignments if a["assignment_group_id"] == group["id"]]
            ),
        }
        for group in groups
    ]


def _since(request: Request, name: str) -> dt.datetime | Response | None:
    """A ``submitted_since`` / ``graded_since`` time; a 400 as Canvas words it when malformed."""
    value = request.query_params.get(name)
    if not value:
        return None
    moment = None
    if _ISO8601.match(value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        return JSONResponse({"errors": {name: f"Invalid datetime for {name}"}}, status_code=400)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _after(moment: dt.datetime | None, bound: dt.datetime | None) -> bool:
    return bound is None or (moment is not None and moment > bound)


def _submissions(request: Request, state: SimulatorState, section_ids: Sequence[int]) -> Answer:
    students = _list(request, "student_ids[]")
    everyone = not students or "all" in students
    wanted_students = {_int(s, -1) for s in students}
    wanted_assignments = {_int(a, -1) for a in _list(request, "assignment_ids[]")}
    comments = "submission_comments" in _includes(request)
    submitted_since, graded_since = _since(request, "submitted_since"), _since(request, "graded_since")
    if isinstance(submitted_since, Response):
        return submitted_since
    if isinstance(graded_since, Response):
        return graded_since
    found = []
    for section_id in section_ids:
        for submission in state.district.section_submissions[section_id]:
            if not everyone and submission.user_id not in wanted_students:
                continue
            if wanted_assignments and submission.assignment["id"] not in wanted_assignments:
                continue
            # Canvas: "submitted_at > ?" and "graded_at > ?", so never-handed-in or ungraded work is left out.
            if not _after(submitted_at(submission), submitted_since):
                continue
            if not _after(graded_at(submission), graded_since):
                continue
            found.append(submission)
    return Listing(found, lambda result: submission_json(result, comments))


def list_section_submissions(request: Request, state: SimulatorState) -> Answer:
    section = _find(state, "section", request.path_params["section"])
    return _submissions(request, state, [section["id"]]) if section is not None else _not_found()


def list_course_submissions(request: Request, state: SimulatorState) -> Answer:
    course = _find(state, "course", request.path_params["course"])
    if course is None:
        return _not_found()
    return _submissions(request, state, [s["id"] for s in state.district.course_sections[course["id"]]])


def get_section_submission(request: Request, state: SimulatorState) -> Answer:
    section = _find(state, "section", request.path_params["section"])
    user = _find(state, "user", request.path_params["user"])
    if section is None or user is None:
        return _not_found()
    key = (section["id"], _int(request.path_params["assignment"], -1), user["id"])
    found = state.district.submission.get(key)
    if found is None:
        return _not_found()
    return submission_json(found, "submission_comments" in _includes(request))


def get_section(request: Request, state: SimulatorState) -> Answer:
    return _find(state, "section", request.path_params["section"]) or _not_found()


def get_user(request: Request, state: SimulatorState) -> Answer:
    user = _find(state, "user", request.path_params["user"])
    return _user_json(state, user, _includes(request)) if user is not None else _not_found()


def _linked_users(request: Request, state: SimulatorState, links: dict[int, list[int]]) -> Answer:
    user = _find(state, "user", request.path_params["user"])
    if user is None:
        return _not_found()
    includes = _includes(request)
    return [_user_json(state, state.district.by_id["user"][u], includes) for u in links.get(user["id"], [])]


def list_observees(request: Request, state: SimulatorState) -> Answer:
    return _linked_users(request, state, state.district.observees)


def list_observers(request: Request, state: SimulatorState) -> Answer:
    return _linked_users(request, state, state.district.observers)


_ROUTES: tuple[tuple[str, Handler], ...] = (
    ("/accounts/{account}", get_account),
    ("/accounts/{account}/terms", list_terms),
    ("/accounts/{account}/terms/{term}", get_term),
    ("/accounts/{account}/courses", list_courses),
    ("/accounts/{account}/users", list_account_users),
    ("/accounts/{account}/enrollments/{enrollment}", get_account_enrollment),
    ("/courses/{course}", get_course),
    ("/courses/{course}/sections", list_course_sections),
    ("/courses/{course}/enrollments", list_course_enrollments),
    ("/courses/{course}/users", list_course_users),
    ("/courses/{course}/assignments", list_assignments),
    ("/courses/{course}/assignment_groups", list_assignment_groups),
    ("/courses/{course}/students/submissions", list_course_submissions),
    ("/sections/{section}", get_section),
    ("/sections/{section}/enrollments", list_section_enrollments),
    ("/sections/{section}/students/submissions", list_section_submissions),
    ("/sections/{section}/assignments/{assignment}/submissions/{user}", get_section_submission),
    ("/users/{user}", get_user),
    ("/users/{user}/enrollments", list_user_enrollments),
    ("/users/{user}/observees", list_observees),
    ("/users/{user}/observers", list_observers),
)
