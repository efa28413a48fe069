"""Every persona sees exactly what the default policy gives it, over a generated district.

Expectations come from :mod:`tests.policy_e2e.ground_truth`, computed from the
CSV files and ``policies/*.csv`` without the hub. Each query below is checked
in full (every returned record, every value, every FORBIDDEN_FIELD error); the
explicit assertions after it pin the rows of the default policy table so that
a check cannot pass vacuously.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from graphql import GraphQLSchema

from hub.auth import DevSigner
from hub.model import Entity
from hub.personas import Persona
from hub.schema import build_schema
from tests.policy_e2e.ground_truth import (
    FORBIDDEN,
    FORBIDDEN_FIELD,
    NOT_FOUND,
    Caller,
    District,
    Findings,
    Oracle,
    Policy,
    check_response,
    hub_id,
    parse_hub_id,
)
from tests.support import READ_EVERYTHING, TODAY, RunningHub, make_district, running_hub

pytestmark = pytest.mark.asyncio(loop_scope="module")

STUDENTS = 300
GRACE_DAYS = 14
SCHEMA: GraphQLSchema = build_schema(gate=False)._schema  # shapes only: types, interfaces, defaults


# ---------------------------------------------------------------- the world


@dataclass
class World:
    """A running hub over a district, and the ground truth of the same files."""

    running: RunningHub
    district: District
    policy: Policy
    data_dir: Path

    def persona(self, name: str) -> Persona:
        if name == "counselor":
            return Persona(
                "counselor", ("counselor",), Entity.TEACHER, "sis", self.staff_with_role("counselor")
            )
        return self.running.personas[name]

    def staff_with_role(self, role: str) -> str:
        return next(vid for vid, row in self.district.rows["Teacher"].items() if row.refs["role"] == role)

    def oracle(self, persona: Persona, today: dt.date = TODAY) -> Oracle:
        kind = persona.entity.value if persona.entity else None
        caller = Caller(persona.roles, kind, persona.sourced_id)
        return Oracle(self.district, self.policy, caller, today=today, grace_days=GRACE_DAYS)

    async def ask(
        self, query: str, persona: str | Persona, *, variables: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], Findings, int]:
        """The response, what the ground truth says about it, and the adapter calls it made."""
        who = self.persona(persona) if isinstance(persona, str) else persona
        registry = self.running.hub.registry
        before = registry.calls
        body = await self.running.query(query, token=who.token(self.running.signer), variables=variables)
        calls = registry.calls - before
        assert body["_status"] == 200, body
        findings = check_response(self.oracle(who), SCHEMA, query, body, variables)
        return body, findings, calls


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_district(tmp_path_factory.mktemp("policy_e2e") / "district", STUDENTS)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["live", "mirror"])
async def world(data_dir: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    # Every persona test runs against the source read live and answered from
    # the read model: the same answers, the same refusals.
    async with running_hub(data_dir, server=READ_EVERYTHING, mode=request.param) as running:
        assert running.hub.settings.policy.grace_days == GRACE_DAYS
        yield World(running, District(data_dir), Policy.from_dir(), data_dir)


def clean(findings: Findings) -> None:
    assert not findings.problems, "\n".join(findings.problems[:20])
    assert not findings.forbidden


def edges(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def vid(record: dict[str, Any]) -> str:
    """The vendor id of a returned record."""
    parsed = parse_hub_id(record["id"])
    assert parsed is not None, record
    return parsed[1]


def error_codes(body: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    return {tuple(e.get("path") or ()): e["extensions"]["code"] for e in body.get("errors", [])}


# ---------------------------------------------------------------- queries

ALL_STUDENT_FIELDS = """
  id givenName familyName middleName preferredName email username identifier sources { source vendorId }
  gradeLevel birthDate sex races hispanicOrLatino programs directoryOptOut
  school { id name }
  guardians { id givenName familyName middleName preferredName email phone relationship }
  scores(first: 8) { totalCount edges { node { id score scoreStatus late missing submittedAt } } }
  courseGrades { id letterGrade percent section { id title } term { id title } }
  attendance { id date status school { id } }
"""

TEACHER_STUDENT_FIELDS = """
  id givenName familyName middleName preferredName email username identifier gradeLevel programs
  school { id name }
  guardians { id givenName familyName middleName preferredName email phone relationship }
  sections(first: 50) { edges { node { id title classCode } } }
  scores(first: 1000) { totalCount edges { node { id score assignment { id title } } } }
  courseGrades { id letterGrade percent section { id } }
  attendance { id date status }
"""

CHILD_FIELDS = """
  id givenName familyName middleName preferredName birthDate gradeLevel
  school { id name }
  sections(first: 50) { edges { node {
    id title location periods
    teachers { id givenName familyName middleName preferredName email }
    assignments(first: 100) { totalCount edges { node { id title dueDate pointsPossible } } }
  } } }
  scores(first: 1000) { totalCount edges { node { id score scoreStatus } } }
  courseGrades { id letterGrade percent }
  attendance { id date status }
"""

OWN_STUDENT_FIELDS = f"""
  {CHILD_FIELDS}
  email username identifier sex races hispanicOrLatino
  guardians {{ id givenName familyName middleName preferredName }}
"""


# ---------------------------------------------------------------- district_admin


async def test_district_admin_reads_everything_under_district(world: World) -> None:
    query = f"{{ students(first: 10000) {{ totalCount edges {{ node {{ {ALL_STUDENT_FIELDS} }} }} }} }}"
    body, findings, _ = await world.ask(query, "district_admin")
    clean(findings)
    nodes = edges(body["data"]["students"])
    assert len(nodes) == STUDENTS
    assert body["data"]["students"]["totalCount"] == STUDENTS
    assert all(node["birthDate"] and node["programs"] is not None and node["races"] for node in nodes)
    assert any(node["directoryOptOut"] for node in nodes)
    oracle = world.oracle(world.persona("district_admin"))
    assert all("district" in oracle.relations("Student", vid(n)) for n in nodes)
    assert findings.rows_checked > 10_000


async def test_district_admin_reads_sections_staff_and_guardians(world: World) -> None:
    query = """{
      sections(first: 10000) { totalCount edges { node {
        id title classCode classType location periods subjects
        course { id title courseCode grades subjects org { id name } }
        school { id name type identifier parent { id name } }
        terms { id title type startDate endDate schoolYear parent { id title } }
        teachers { id givenName familyName email username identifier phone schools { id } }
        students(first: 100) { totalCount edges { node { id givenName
          guardians { id givenName email phone relationship students { id } } } } }
        assignments(first: 2) { totalCount edges { node {
          id title description assignDate dueDate category pointsPossible section { id }
          scores(first: 3) { totalCount edges { node { id score student { id } assignment { id } } } }
        } } }
      } } }
    }"""
    body, findings, _ = await world.ask(query, "district_admin")
    clean(findings)
    assert len(edges(body["data"]["sections"])) == len(world.district.rows["Section"])


# ---------------------------------------------------------------- school staff


@pytest.mark.parametrize("persona", ["principal", "counselor"])
async def test_school_staff_read_every_field_of_their_school(world: World, persona: str) -> None:
    who = world.persona(persona)
    oracle = world.oracle(who)
    query = f"""{{ viewer {{ students(first: 10000) {{ totalCount edges {{ node {{
        {ALL_STUDENT_FIELDS} }} }} }} }} }}"""
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    nodes = edges(body["data"]["viewer"]["students"])
    assert {vid(n) for n in nodes} == oracle.school_students
    assert len(nodes) > STUDENTS // 4
    for node in nodes:
        row = world.district.rows["Student"][vid(node)]
        assert node["birthDate"] == row.values["birthDate"]
        assert node["programs"] == row.values["programs"]
        assert node["races"] == row.values["races"]
        assert node["sex"] == row.values["sex"]
        assert node["directoryOptOut"] == row.values["directoryOptOut"]
    # guardians' contact fields, scores, course grades and attendance, for every one of them
    assert all(g["phone"] and g["email"] for n in nodes for g in n["guardians"])
    assert sum(len(n["guardians"]) for n in nodes) > len(nodes)
    assert all(len(edges(n["scores"])) == min(8, n["scores"]["totalCount"]) for n in nodes)
    assert sum(n["scores"]["totalCount"] for n in nodes) > 10 * len(nodes)
    assert all(n["courseGrades"] and n["attendance"] for n in nodes)


@pytest.mark.parametrize("persona", ["principal", "counselor"])
async def test_school_staff_see_nothing_of_other_schools(world: World, persona: str) -> None:
    who = world.persona(persona)
    oracle = world.oracle(who)
    query = "{ students(first: 10000) { edges { node { id givenName familyName gradeLevel } } } }"
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    assert {vid(n) for n in edges(body["data"]["students"])} == oracle.school_students
    other = next(s for s in world.district.students() if s not in oracle.school_students)
    body, findings, _ = await world.ask(
        f'{{ student(id: "{hub_id("Student", other)}") {{ id givenName }} }}', who
    )
    clean(findings)
    assert body["data"] == {"student": None}
    assert error_codes(body) == {("student",): NOT_FOUND}


# ---------------------------------------------------------------- teacher


async def test_teacher_reads_the_students_they_teach(world: World) -> None:
    who = world.persona("teacher")
    oracle = world.oracle(who)
    query = f"{{ viewer {{ students(first: 10000) {{ edges {{ node {{ {TEACHER_STUDENT_FIELDS} }} }} }} }} }}"
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    nodes = edges(body["data"]["viewer"]["students"])
    assert {vid(n) for n in nodes} == oracle.taught_students
    assert oracle.taught_students and all(n["email"] and n["programs"] is not None for n in nodes)
    assert any(n["programs"] for n in nodes)
    assert all(g["phone"] and g["relationship"] for n in nodes for g in n["guardians"])
    # Scores, course grades and attendance of the sections they teach, not of the students' other sections.
    scores = world.district.rows["Score"]
    shown = [vid(s) for n in nodes for s in edges(n["scores"])]
    assert shown and all(scores[s].refs["section"] in oracle.taught_sections for s in shown)
    hidden = [
        s for n in nodes for s in world.district.linked("Score", "student", vid(n)) if s not in set(shown)
    ]
    assert hidden and all(scores[s].refs["section"] not in oracle.taught_sections for s in hidden)
    grades = world.district.rows["CourseGrade"]
    assert all(
        grades[vid(g)].refs["section"] in oracle.taught_sections for n in nodes for g in n["courseGrades"]
    )
    # their sections list shows the sections they teach only
    assert all(vid(s) in oracle.taught_sections for n in nodes for s in edges(n["sections"]))


@pytest.mark.parametrize("field", ["birthDate", "sex", "races", "hispanicOrLatino", "directoryOptOut"])
async def test_teacher_never_reads_demographics(world: World, field: str) -> None:
    query = f"{{ viewer {{ students {{ edges {{ node {{ id givenName {field} }} }} }} }} }}"
    body, findings, calls = await world.ask(query, "teacher")
    assert not findings.problems, findings.problems
    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": f"not allowed to read: Student.{field}",
            "extensions": {"code": FORBIDDEN, "fields": [f"Student.{field}"]},
        }
    ]
    assert calls == 0


async def test_teacher_reads_directory_information_of_other_students(world: World) -> None:
    who = world.persona("teacher")
    oracle = world.oracle(who)
    query = """{ students(first: 10000) { edges { node {
        id givenName familyName middleName preferredName gradeLevel school { id name } email programs
    } } } }"""
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    nodes = {vid(n): n for n in edges(body["data"]["students"])}
    rows = world.district.rows["Student"]
    opted_out = {s for s, row in rows.items() if row.refs["opt_out"]}
    assert opted_out - oracle.taught_students, "the district should hold an opted-out student not taught"
    assert set(nodes) == (set(rows) - opted_out) | oracle.taught_students
    codes = error_codes(body)
    directory_only = [s for s in nodes if s not in oracle.taught_students]
    assert directory_only
    for position, (student, node) in enumerate(nodes.items()):
        assert node["givenName"] == rows[student].values["givenName"]
        assert node["school"] is not None and node["gradeLevel"]
        path = ("students", "edges", position, "node")
        if student in oracle.taught_students:
            assert node["email"] and node["programs"] is not None
            assert (*path, "email") not in codes
        else:
            assert node["email"] is None and node["programs"] is None
            assert codes[(*path, "email")] == FORBIDDEN_FIELD
            assert codes[(*path, "programs")] == FORBIDDEN_FIELD


async def test_teacher_cannot_look_up_an_opted_out_student_they_do_not_teach(world: World) -> None:
    oracle = world.oracle(world.persona("teacher"))
    student = next(
        s
        for s, row in world.district.rows["Student"].items()
        if row.refs["opt_out"] and s not in oracle.taught_students
    )
    body, findings, _ = await world.ask(
        f'{{ student(id: "{hub_id("Student", student)}") {{ id givenName }} }}', "teacher"
    )
    clean(findings)
    assert body["data"] == {"student": None}
    assert error_codes(body) == {("student",): NOT_FOUND}


# ---------------------------------------------------------------- guardian


async def test_guardian_reads_their_children(world: World) -> None:
    who = world.persona("guardian")
    oracle = world.oracle(who)
    query = f"""{{ viewer {{
      person {{ __typename id ... on Guardian {{
        givenName familyName middleName preferredName email username identifier phone relationship
        students {{ id givenName }}
      }} }}
      students {{ edges {{ node {{ {CHILD_FIELDS} }} }} }}
    }} }}"""
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    viewer = body["data"]["viewer"]
    assert viewer["person"]["id"] == hub_id("Guardian", str(who.sourced_id))
    assert viewer["person"]["email"] and viewer["person"]["phone"]
    children = edges(viewer["students"])
    assert {vid(c) for c in children} == oracle.children and len(children) >= 1
    for child in children:
        row = world.district.rows["Student"][vid(child)]
        assert child["birthDate"] == row.values["birthDate"]
        assert edges(child["sections"]) and child["courseGrades"] and child["attendance"]
        # the children's teachers: names and email
        teachers = [t for s in edges(child["sections"]) for t in s["teachers"]]
        assert teachers and all(t["email"] and t["familyName"] for t in teachers)
        # a section's assignments carry the child's scores only, never a classmate's
        query = f"""{{ student(id: "{child["id"]}") {{ id sections {{ edges {{ node {{ id
            assignments(first: 100) {{ edges {{ node {{ id scores(first: 100) {{ totalCount edges {{ node {{
              id score student {{ id givenName }} }} }} }} }} }} }} }} }} }} }} }}"""
        body, findings, _ = await world.ask(query, who)
        clean(findings)
        shown = [
            vid(score)
            for section in edges(body["data"]["student"]["sections"])
            for assignment in edges(section["assignments"])
            for score in edges(assignment["scores"])
        ]
        assert shown
        assert {world.district.rows["Score"][s].refs["student"] for s in shown} == {vid(child)}


async def test_guardian_cannot_tell_another_student_from_no_student(world: World) -> None:
    who = world.persona("guardian")
    oracle = world.oracle(who)
    child = sorted(oracle.children)[0]
    child_sections = oracle.child_sections
    enrollments = world.district.rows["Enrollment"]
    classmate = next(
        e.refs["person"]
        for e in enrollments.values()
        if e.refs["section"] in child_sections
        and e.refs["role"] == "student"
        and e.refs["person"] not in oracle.children
    )
    query = "query ($id: ID!) { student(id: $id) { id givenName birthDate school { name } } }"
    answers = []
    for target in (hub_id("Student", classmate), hub_id("Student", "stu-999999"), "not-an-id"):
        body, findings, _ = await world.ask(query, who, variables={"id": target})
        clean(findings)
        del body["_status"]
        answers.append(body)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["data"] == {"student": None}
    assert [e["extensions"]["code"] for e in answers[0]["errors"]] == [NOT_FOUND]
    body, findings, _ = await world.ask(query, who, variables={"id": hub_id("Student", child)})
    clean(findings)
    assert body["data"]["student"]["givenName"]


async def test_guardian_lists_only_their_children(world: World) -> None:
    who = world.persona("guardian")
    body, findings, _ = await world.ask(
        "{ students(first: 10000) { edges { node { id givenName birthDate } } } }", who
    )
    clean(findings)
    assert {vid(n) for n in edges(body["data"]["students"])} == world.oracle(who).children


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("{ viewer { students { edges { node { id programs } } } } }", ["Student.programs"]),
        (
            "{ viewer { students { edges { node { id email guardians { id } } } } } }",
            ["Student.email", "Student.guardians"],
        ),
        (
            "{ viewer { sections { edges { node { id students { edges { node { id } } } } } } } }",
            ["Section.students"],
        ),
        (
            "{ viewer { students { edges { node {"
            " sections { edges { node { teachers { phone } } } } } } } } }",
            ["Teacher.phone"],
        ),
    ],
)
async def test_guardian_refused_fields(world: World, query: str, fields: list[str]) -> None:
    body, findings, calls = await world.ask(query, "guardian")
    assert not findings.problems, findings.problems
    assert findings.forbidden == fields
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": FORBIDDEN, "fields": fields}
    assert calls == 0


# ---------------------------------------------------------------- student


async def test_student_reads_their_own_record(world: World) -> None:
    who = world.persona("student")
    query = f"""{{ viewer {{
      person {{ __typename id ... on Student {{ {OWN_STUDENT_FIELDS} }} }}
      sections {{ edges {{ node {{ id title teachers {{ id givenName familyName email }} }} }} }}
      students {{ edges {{ node {{ id givenName }} }} }}
    }} }}"""
    body, findings, _ = await world.ask(query, who)
    clean(findings)
    me = body["data"]["viewer"]["person"]
    row = world.district.rows["Student"][str(who.sourced_id)]
    assert me["birthDate"] == row.values["birthDate"] and me["email"] == row.values["email"]
    assert me["guardians"] and all(g["givenName"] for g in me["guardians"])
    assert edges(me["sections"]) and edges(me["scores"]) and me["courseGrades"] and me["attendance"]
    teachers = [t for s in edges(body["data"]["viewer"]["sections"]) for t in s["teachers"]]
    assert teachers and all(t["email"] for t in teachers)
    assert [vid(s) for s in edges(body["data"]["viewer"]["students"])] == [who.sourced_id]


@pytest.mark.parametrize("field", ["programs", "directoryOptOut"])
async def test_student_never_reads_programs_or_opt_out(world: World, field: str) -> None:
    query = f"{{ viewer {{ person {{ ... on Student {{ id {field} }} }} }} }}"
    body, findings, calls = await world.ask(query, "student")
    assert not findings.problems
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": FORBIDDEN, "fields": [f"Student.{field}"]}
    assert calls == 0


async def test_student_sees_nothing_of_other_students(world: World) -> None:
    who = world.persona("student")
    body, findings, _ = await world.ask("{ students(first: 10000) { edges { node { id givenName } } } }", who)
    clean(findings)
    assert [vid(n) for n in edges(body["data"]["students"])] == [who.sourced_id]
    other = next(s for s in world.district.students() if s != who.sourced_id)
    body, findings, _ = await world.ask(f'{{ student(id: "{hub_id("Student", other)}") {{ id }} }}', who)
    clean(findings)
    assert error_codes(body) == {("student",): NOT_FOUND}


# ---------------------------------------------------------------- directory for everyone

PERSONAS = ["district_admin", "principal", "counselor", "teacher", "guardian", "student"]


@pytest.mark.parametrize("persona", PERSONAS)
async def test_teacher_and_school_names_are_directory_information(world: World, persona: str) -> None:
    teachers = list(world.district.rows["Teacher"])
    query = """query ($a: ID!, $b: ID!) {
      schools { id name type }
      a: teacher(id: $a) { id givenName familyName middleName preferredName }
      b: teacher(id: $b) { ...names }
    }
    fragment names on Teacher { id givenName familyName }"""
    variables = {"a": hub_id("Teacher", teachers[-1]), "b": hub_id("Teacher", teachers[len(teachers) // 2])}
    body, findings, _ = await world.ask(query, persona, variables=variables)
    clean(findings)
    data = body["data"]
    assert len(data["schools"]) == 2 and all(s["name"] for s in data["schools"])
    assert data["a"]["familyName"] and data["b"]["givenName"]


# ---------------------------------------------------------------- the grace period


def _dropped_pair(world: World) -> tuple[str, str, str, dt.date]:
    """(teacher, student, section, last day) of a dropped enrollment whose teacher
    teaches the student nowhere else."""
    rows = world.district.rows["Enrollment"]
    teachers_of: dict[str, set[str]] = {}
    sections_of: dict[str, set[str]] = {}
    for e in rows.values():
        if e.refs["role"] == "teacher":
            teachers_of.setdefault(e.refs["section"], set()).add(e.refs["person"])
        elif e.refs["role"] == "student":
            sections_of.setdefault(e.refs["person"], set()).add(e.refs["section"])
    for e in rows.values():
        end = e.refs["end"]
        if e.refs["role"] != "student" or end is None or end >= TODAY:
            continue
        for teacher in sorted(teachers_of.get(e.refs["section"], ())):
            others = sections_of[e.refs["person"]] - {e.refs["section"]}
            if not any(teacher in teachers_of.get(s, ()) for s in others):
                return teacher, e.refs["person"], e.refs["section"], end
    raise AssertionError("no dropped enrollment in the district")


@pytest.mark.parametrize("days_after", [GRACE_DAYS, GRACE_DAYS + 1])
async def test_a_dropped_student_stays_taught_for_the_grace_period(world: World, days_after: int) -> None:
    teacher, student, _, last_day = _dropped_pair(world)
    today = last_day + dt.timedelta(days=days_after)
    persona = Persona("teacher", ("teacher",), Entity.TEACHER, "sis", teacher)
    oracle = world.oracle(persona, today)
    assert (student in oracle.taught_students) == (days_after <= GRACE_DAYS)
    query = f'{{ student(id: "{hub_id("Student", student)}") {{ id givenName email programs }} }}'
    async with running_hub(world.data_dir, today=today, server=READ_EVERYTHING) as running:
        body = await running.query(query, token=persona.token(running.signer))
    findings = check_response(oracle, SCHEMA, query, body)
    assert not findings.problems, findings.problems
    shown = body["data"]["student"]
    if days_after <= GRACE_DAYS:
        assert shown["email"] and shown["programs"] is not None
    elif world.district.rows["Student"][student].refs["opt_out"]:
        assert shown is None
    else:
        assert shown["givenName"] and shown["email"] is None


# ---------------------------------------------------------------- sign-in and malformed operations


async def test_no_token_is_401_with_a_graphql_error(world: World) -> None:
    before = world.running.hub.registry.calls
    response = await world.running.client.post("/graphql", json={"query": "{ viewer { subject } }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json() == {
        "data": None,
        "errors": [
            {"message": "not signed in: missing bearer token", "extensions": {"code": "UNAUTHENTICATED"}}
        ],
    }
    assert world.running.hub.registry.calls == before


def _tokens(world: World) -> Iterator[tuple[str, str, str]]:
    persona = world.persona("district_admin")
    yield "garbage", "not-a-jwt", "token is malformed"
    other = DevSigner(secrets.token_bytes(32))
    yield "foreign key", persona.token(other), "token signature is invalid"
    expired = world.running.signer.issue(subject="x", roles=["district_admin"], ttl_seconds=-3600)
    yield "expired", expired, "token expired"


async def test_bad_and_expired_tokens_are_401(world: World) -> None:
    for label, token, reason in _tokens(world):
        before = world.running.hub.registry.calls
        body = await world.running.query("{ viewer { subject } }", token=token)
        assert body.pop("_status") == 401, label
        assert body == {
            "data": None,
            "errors": [{"message": f"not signed in: {reason}", "extensions": {"code": "UNAUTHENTICATED"}}],
        }, label
        assert world.running.hub.registry.calls == before


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("{ viewer { students { edges { node { id } } }", "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        (
            "{ students { edges { node { id shoeSize } } } }",
            "GRAPHQL_VALIDATION_FAILED",
            "Cannot query field 'shoeSize' on type 'Student'.",
        ),
    ],
)
async def test_a_malformed_operation_is_a_clear_400(
    world: World, query: str, code: str, message: str
) -> None:
    before = world.running.hub.registry.calls
    body = await world.running.query(query, persona="district_admin")
    assert body["_status"] == 400
    assert body["data"] is None
    assert len(body["errors"]) == 1 and message in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"] == {"code": code}
    assert body["errors"][0]["locations"]
    assert world.running.hub.registry.calls == before


# ---------------------------------------------------------------- regressions found by these tests


async def test_sources_are_withheld_like_any_field(world: World) -> None:
    """Teacher.sources is granted to teachers under self only: another teacher's is withheld."""
    oracle = world.oracle(world.persona("teacher"))
    other = next(t for t in world.district.rows["Teacher"] if "self" not in oracle.relations("Teacher", t))
    query = f'{{ teacher(id: "{hub_id("Teacher", other)}") {{ id givenName sources {{ vendorId }} }} }}'
    body, findings, _ = await world.ask(query, "teacher")
    clean(findings)
    given = world.district.rows["Teacher"][other].values["givenName"]
    assert body["data"]["teacher"] == {"id": hub_id("Teacher", other), "givenName": given, "sources": []}
    assert error_codes(body) == {("teacher", "sources"): FORBIDDEN_FIELD}


async def test_school_staff_read_assignments_of_their_school(world: World) -> None:
    query = """{ sections(first: 5) { edges { node { id title
        assignments(first: 100) { totalCount edges { node { id title } } } } } } }"""
    body, findings, _ = await world.ask(query, "principal")
    clean(findings)
    assert all(edges(s["assignments"]) for s in edges(body["data"]["sections"]))


def _dropped_with_scores(world: World) -> str:
    """A student who dropped a class after being scored in it."""
    rows = world.district.rows["Enrollment"]
    dropped = {
        (e.refs["person"], e.refs["section"])
        for e in rows.values()
        if e.refs["role"] == "student" and e.refs["end"] is not None and e.refs["end"] < TODAY
    }
    return next(
        str(s.refs["student"])
        for s in world.district.rows["Score"].values()
        if (s.refs["student"], s.refs["section"]) in dropped
    )


@pytest.mark.parametrize("who", ["principal", "dropped student", "guardian of a dropped student"])
async def test_scores_with_their_assignment(world: World, who: str) -> None:
    """Score.assignment is non-null: the assignment of every visible score must be visible too."""
    student = _dropped_with_scores(world)
    if who == "principal":
        persona = world.persona("principal")
        query = """{ viewer { students(first: 3) { edges { node { id
            scores(first: 3) { edges { node { id assignment { id title } } } } } } } } }"""
    else:
        if who == "dropped student":
            persona = Persona("student", ("student",), Entity.STUDENT, "sis", student)
        else:
            guardian = world.district.rows["Student"][student].refs["guardians"][0]
            persona = Persona("guardian", ("guardian",), Entity.GUARDIAN, "sis", guardian)
        query = f"""{{ student(id: "{hub_id("Student", student)}") {{ id
            scores(first: 1000) {{ edges {{ node {{
              id assignment {{ id title section {{ id title }} }} }} }} }} }} }}"""
    body, findings, _ = await world.ask(query, persona)
    assert body["data"] is not None, body["errors"]
    clean(findings)
