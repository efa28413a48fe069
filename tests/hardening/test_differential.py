"""Differential property test: a student the caller cannot see changes no byte of any answer.

For each generated district and persona, students the caller cannot see are
found by asking the hub itself, as that caller: ``student(id:)`` answers
NOT_FOUND and ``node(id:)`` null for them, and no answer the caller gets in
the test names them. Two of them are removed in turn: for each, a second
district folder is written that is the same minus that student (their rows in
every file, and the guardians' links to them) and a hub opened on it.
Hypothesis puts the same operations to the hub on the whole district and to
each reduced one, as the same person (same sourcedId; each hub signs its own
token): root lists with filters on sections, schools and grades the caller
does and does not see, search terms cut from names of visible and hidden
students, page sizes 1-5, cursors from earlier pages (followed for up to two
more pages, reused on another list, or forged to name another student),
hand-made cursors, and look-ups of the hidden ids. Every answer must be
byte-identical, the whole JSON text with its cursors, counts and errors: an
answer that changes is one that depends on a row the caller may not see, an
oracle for it.

The removed students share no section with the caller (nor, for school staff,
with the caller's school): a student may read the enrollments of her own
sections, so removing a classmate would change rows she may see.

The hubs are opened in process on one event loop this module runs itself, so
the Hypothesis test is a plain function over module-scoped fixtures.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from hub.federation.ids import encode_id
from hub.model import Entity
from hub.personas import Persona
from tests.hardening.roster import Roster, StudentRow, section_id
from tests.support import RunningHub, district_without_student, make_district, running_hub

# (seed, students): small districts have few students who opted out of the
# directory; in these, the teacher persona has some she does not teach.
DISTRICTS: dict[str, tuple[int, int]] = {"seed29": (29, 60), "seed15": (15, 80)}
PERSONAS = ("teacher", "guardian", "student", "principal", "counselor")
STUDENT_FIELDS = (
    "givenName",
    "familyName",
    "middleName",
    "preferredName",
    "gradeLevel",
    "email",
    "birthDate",
    "programs",
)

DIFFERENTIAL = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


# Cursors no answer gave: positions in the source's list, and things that are no cursor at all.
HAND_MADE_CURSORS = (
    _cursor("sis", "0", 1),
    _cursor("sis", "5", 0),
    _cursor("sis", "20", 0),
    _cursor("sis", "40", 2),
    base64.urlsafe_b64encode(b"not-a-cursor").decode(),
    "!!",
)

CONNECTION = "totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {fields} }} }}"
LISTS: dict[str, tuple[str, str]] = {
    # kind: (operation, the node type of its connection)
    "students": (
        "query Students($first: Int!, $after: String, $filter: StudentFilter) "
        "{{ students(first: $first, after: $after, filter: $filter) {{ {connection} }} }}",
        "Student",
    ),
    "viewer.students": (
        "query MyStudents($first: Int!, $after: String) "
        "{{ viewer {{ students(first: $first, after: $after) {{ {connection} }} }} }}",
        "Student",
    ),
    "sections": (
        "query Sections($first: Int!, $after: String, $filter: SectionFilter) "
        "{{ sections(first: $first, after: $after, filter: $filter) {{ {connection} }} }}",
        "Section",
    ),
    "viewer.sections": (
        "query MySections($first: Int!, $after: String) "
        "{{ viewer {{ sections(first: $first, after: $after) {{ {connection} }} }} }}",
        "Section",
    ),
}
LOOKUPS = {
    "student": "query One($id: ID!) {{ student(id: $id) {{ {fields} }} }}",
    "node": "query Node($id: ID!) {{ node(id: $id) {{ id ... on Student {{ {fields} }} }} }}",
}
# The root student list, where searches and filters are, twice as often as the others.
KINDS = ("students", *LISTS, *LOOKUPS)
VISIBILITY = (
    "query Visible($id: ID!) { student(id: $id) { id } node(id: $id) { id } }"  # both look-ups, one call
)


# ---------------------------------------------------------------- hubs on a loop of our own


class Hubs:
    """Hubs opened in process on one event loop, driven synchronously."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._open: list[AbstractAsyncContextManager[RunningHub]] = []

    def open(self, folder: Path) -> RunningHub:
        context = running_hub(folder)
        running = self._runner.run(context.__aenter__())
        self._open.append(context)
        return running

    def post(self, running: RunningHub, query: str, token: str, variables: dict[str, Any]) -> tuple[int, str]:
        """The status and the exact body text of one operation."""
        response = self._runner.run(
            running.client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        return response.status_code, response.text

    def close(self) -> None:
        try:
            for context in reversed(self._open):
                self._runner.run(context.__aexit__(None, None, None))
        finally:
            self._runner.close()


@dataclass(frozen=True)
class Removal:
    """A hub on the district without one student the caller cannot see, and the caller's token there."""

    student: StudentRow
    hub: RunningHub
    token: str


@dataclass
class Caller:
    """One persona before the district as it is and, for each removal, the same district
    without one student the caller cannot see."""

    hubs: Hubs
    name: str
    full: RunningHub
    token: str
    removals: tuple[Removal, ...]
    fields: tuple[str, ...]  # Student fields the caller may read under some relation
    hidden_words: tuple[str, ...]  # names of the removed students
    visible_words: tuple[str, ...]
    other_words: tuple[str, ...]  # names of other students the caller cannot see
    section_ids: tuple[str, ...]
    school_ids: tuple[str, ...]
    grades: tuple[str, ...]
    visible_ids: tuple[str, ...]
    # Vendor ids to forge cursors with: the removed students, another hidden one, a visible one.
    forge_ids: tuple[str, ...]
    student_vids: frozenset[str]

    def __repr__(self) -> str:
        return f"Caller({self.name} without {'/'.join(r.student.vid for r in self.removals)})"

    @property
    def hidden(self) -> tuple[StudentRow, ...]:
        return tuple(r.student for r in self.removals)

    def ask(self, query: str, variables: dict[str, Any], *, names_hidden: bool = False) -> dict[str, Any]:
        """Ask every hub; the answers must be byte-identical, and never name a removed
        student unless the question did (``names_hidden``: an echo is no disclosure)."""
        note(f"{query}  variables={json.dumps(variables)}")
        full = self.hubs.post(self.full, query, self.token, variables)
        for removal in self.removals:
            without = self.hubs.post(removal.hub, query, removal.token, variables)
            if not names_hidden:
                for marker in (removal.student.hub_id, removal.student.vid):
                    assert marker not in full[1], f"an answer names a hidden student: {query} {variables}"
            assert full == without, _difference(query, variables, removal.student, full, without)
        body: dict[str, Any] = json.loads(full[1])
        return body


def _difference(
    query: str, variables: dict[str, Any], gone: StudentRow, full: tuple[int, str], without: tuple[int, str]
) -> str:
    a, b = full[1], without[1]
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, at - 300)
    return (
        f"the answer depends on {gone.vid}, a student the caller cannot see\n"
        f"{query}\nvariables: {json.dumps(variables)}\n"
        f"status {full[0]} vs {without[0]}; first difference at character {at}\n"
        f"with the hidden student:    ...{a[start : at + 300]}\n"
        f"without the hidden student: ...{b[start : at + 300]}"
    )


def _spread(items: list[str], count: int) -> tuple[str, ...]:
    return tuple(items[:: max(1, len(items) // count)][:count])


def _words(rows: list[StudentRow], count: int) -> tuple[str, ...]:
    picked = [rows[i] for i in range(0, len(rows), max(1, len(rows) // count))][:count]
    return tuple(dict.fromkeys(word for row in picked for word in row.names))


class Lab:
    """The districts, their hubs and the callers, built on first use and closed at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hubs = Hubs()
        self._full: dict[str, tuple[Path, RunningHub, Roster]] = {}
        self._callers: dict[tuple[str, str], Caller] = {}

    def __repr__(self) -> str:
        return "Lab()"

    def district(self, key: str) -> tuple[Path, RunningHub, Roster]:
        if key not in self._full:
            seed, students = DISTRICTS[key]
            folder = make_district(self.root / key, students, seed=seed)
            self._full[key] = (folder, self.hubs.open(folder), Roster(folder))
        return self._full[key]

    def persona(self, key: str, name: str) -> Persona:
        _, running, roster = self.district(key)
        if name == "counselor":
            return Persona("counselor", ("counselor",), Entity.TEACHER, "sis", roster.counselor)
        return running.personas[name]

    def split(self, key: str, name: str) -> tuple[list[StudentRow], list[StudentRow]]:
        """(visible, hidden) students of the district for this persona, as the hub answers them."""
        _, running, roster = self.district(key)
        token = self.persona(key, name).token(running.signer)
        visible: list[StudentRow] = []
        hidden: list[StudentRow] = []
        for row in roster.students.values():
            status, text = self.hubs.post(running, VISIBILITY, token, {"id": row.hub_id})
            body = json.loads(text)
            assert status == 200, text
            found = body["data"]["student"] is not None
            codes = {e["extensions"]["code"] for e in body.get("errors", [])}
            if not found and codes == {"NOT_FOUND"} and body["data"]["node"] is None:
                hidden.append(row)
            else:
                visible.append(row)
        return visible, hidden

    def remove(self, key: str, persona: Persona, student: StudentRow) -> Removal:
        folder, _, _ = self.district(key)
        target = self.root / f"{key}-{persona.name}-without-{student.vid}"
        hub = self.hubs.open(district_without_student(folder, target, student.vid))
        return Removal(student, hub, persona.token(hub.signer))

    def caller(self, key: str, name: str) -> Caller:
        if (key, name) in self._callers:
            return self._callers[(key, name)]
        _, running, roster = self.district(key)
        persona = self.persona(key, name)
        visible, hidden = self.split(key, name)
        mine = roster.caller_sections(persona)
        apart = [row for row in hidden if not roster.sections_of[row.vid] & mine]
        assert apart, f"{name} has no hidden student who shares no section with them"
        # The first in file order (most visible rows come after it: a count of rows
        # that includes it moves their cursors) and the last (rows left after the last
        # visible one: a hasNextPage that counts them turns true).
        chosen = list(dict.fromkeys((apart[0], apart[-1])))
        token = persona.token(running.signer)
        others = [r for r in hidden if r not in chosen]
        sections = sorted(roster.section_school)
        section_vids = [
            *sorted(mine)[:3],
            *(s for row in chosen for s in sorted(roster.sections_of[row.vid])[:2]),
            *_spread([s for s in sections if s not in mine], 3),
            "sec-absent",
        ]
        caller = Caller(
            hubs=self.hubs,
            name=name,
            full=running,
            token=token,
            removals=tuple(self.remove(key, persona, row) for row in chosen),
            fields=self._readable(running, token),
            hidden_words=tuple(dict.fromkeys(word for row in chosen for word in row.names)),
            visible_words=_words(visible, 6),
            other_words=_words(others, 6) or chosen[0].names,
            section_ids=tuple(section_id(s) for s in dict.fromkeys(section_vids)),
            school_ids=tuple(
                encode_id(Entity.ORGANIZATION.value, "sis", s) for s in (*roster.schools, "org-absent")
            ),
            grades=tuple(sorted({r.grade for r in roster.students.values()} | {"99"})),
            visible_ids=tuple(r.hub_id for r in visible[:3]),
            forge_ids=(*(r.vid for r in chosen), (others or chosen)[0].vid, visible[len(visible) // 2].vid),
            student_vids=frozenset(roster.students),
        )
        self._callers[(key, name)] = caller
        return caller

    def _readable(self, running: RunningHub, token: str) -> tuple[str, ...]:
        readable = []
        for name in STUDENT_FIELDS:
            query = f"{{ students(first: 1) {{ edges {{ node {{ id {name} }} }} }} }}"
            body = json.loads(self.hubs.post(running, query, token, {})[1])
            if "FORBIDDEN" not in {e["extensions"]["code"] for e in body.get("errors", [])}:
                readable.append(name)
        return tuple(readable)

    def close(self) -> None:
        self.hubs.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    built = Lab(tmp_path_factory.mktemp("differential"))
    try:
        yield built
    finally:
        built.close()


# ---------------------------------------------------------------- operations


@st.composite
def _fragment(draw: st.DrawFn, words: st.SearchStrategy[str], shortest: int = 1) -> str:
    word = draw(words)
    length = draw(st.integers(min(shortest, len(word)), len(word)))
    start = draw(st.integers(0, len(word) - length))
    piece = word[start : start + length]
    return draw(st.sampled_from((piece, piece.lower(), piece.upper())))


def search_terms(who: Caller) -> st.SearchStrategy[str]:
    """Pieces of names, half of them from the hidden student's (what an attacker would
    spell out), the others from anyone's."""
    hidden = _fragment(st.sampled_from(who.hidden_words), shortest=2)
    anyone = _fragment(st.sampled_from((*who.hidden_words, *who.visible_words, *who.other_words)))
    one = st.one_of(hidden, anyone)
    return st.one_of(one, st.tuples(one, one).map(" ".join))


def _forged(cursor: str, who: Caller, vendor_id: str) -> str | None:
    """``cursor`` with every student id it holds replaced by ``vendor_id``; None when it
    holds none (the cursor is not base64 text, or names no student)."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeError):
        return None
    named = [vid for vid in who.student_vids if vid in text]
    for vid in named:
        text = text.replace(vid, vendor_id)
    return base64.urlsafe_b64encode(text.encode()).decode() if named else None


def _after(data: st.DataObject, who: Caller, pool: list[str]) -> tuple[str, bool]:
    """A cursor from an earlier answer (of any list) or a hand-made one, perhaps forged
    to name another student; and whether it names the hidden student."""
    cursor = data.draw(st.sampled_from(pool), label="after")
    if data.draw(st.booleans(), label="forge?"):
        target = data.draw(st.sampled_from(who.forge_ids), label="forge with")
        forged = _forged(cursor, who, target)
        if forged is not None:
            return forged, target in {row.vid for row in who.hidden}
    return cursor, False


def _filter(data: st.DataObject, who: Caller, kind: str) -> dict[str, str] | None:
    chosen: dict[str, str] = {}
    if kind == "students":
        if data.draw(st.booleans(), label="search?"):
            chosen["search"] = data.draw(search_terms(who), label="search")
        link = data.draw(
            st.sampled_from((None, None, None, "sectionId", "schoolId", "gradeLevel")), label="filter"
        )
        if link == "sectionId":
            chosen[link] = data.draw(st.sampled_from(who.section_ids), label="section")
        elif link == "schoolId":
            chosen[link] = data.draw(st.sampled_from(who.school_ids), label="school")
        elif link == "gradeLevel":
            chosen[link] = data.draw(st.sampled_from(who.grades), label="grade")
    elif kind == "sections" and data.draw(st.booleans(), label="school?"):
        chosen["schoolId"] = data.draw(st.sampled_from(who.school_ids), label="school")
    return chosen or None


def _connection_of(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    node: Any = body.get("data")
    for key in kind.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _page_through(data: st.DataObject, who: Caller, kind: str, pool: list[str]) -> None:
    """One root list: a first page, then up to two more by its cursors."""
    operation, node_type = LISTS[kind]
    if node_type == "Student":
        fields = data.draw(st.lists(st.sampled_from(who.fields), max_size=3, unique=True), label="fields")
    else:
        fields = ["title"]
    query = operation.format(connection=CONNECTION.format(fields=" ".join(["id", *fields])))
    variables: dict[str, Any] = {"first": data.draw(st.integers(1, 5), label="first")}
    names_hidden = False
    if data.draw(st.integers(0, 3), label="resume?") == 0:
        variables["after"], names_hidden = _after(data, who, pool)
    if kind in ("students", "sections"):
        variables["filter"] = _filter(data, who, kind)
    body = who.ask(query, variables, names_hidden=names_hidden)
    for _ in range(data.draw(st.integers(0, 2), label="more pages")):
        connection = _connection_of(body, kind)
        if connection is None:
            break
        pool.extend(edge["cursor"] for edge in connection["edges"])
        info = connection["pageInfo"]
        if not info["hasNextPage"] or not info["endCursor"]:
            break
        cursors = [info["endCursor"], *(edge["cursor"] for edge in connection["edges"])]
        after = (
            cursors[0]
            if data.draw(st.integers(0, 3), label="by edge?")
            else data.draw(st.sampled_from(cursors))
        )
        variables = {**variables, "after": after}
        body = who.ask(query, variables)
    connection = _connection_of(body, kind)
    if connection is not None:
        pool.extend(edge["cursor"] for edge in connection["edges"])
        if connection["pageInfo"]["endCursor"]:
            pool.append(connection["pageInfo"]["endCursor"])


def _look_up(data: st.DataObject, who: Caller, kind: str) -> None:
    fields = data.draw(st.lists(st.sampled_from(who.fields), max_size=3, unique=True), label="fields")
    if data.draw(st.integers(0, 3), label="hidden?"):
        target = data.draw(st.sampled_from([row.hub_id for row in who.hidden]), label="hidden id")
    else:
        target = data.draw(st.sampled_from(who.visible_ids), label="visible id")
    query = LOOKUPS[kind].format(fields=" ".join(["id", *fields]))
    who.ask(query, {"id": target}, names_hidden=target in {row.hub_id for row in who.hidden})


# ---------------------------------------------------------------- the property


@pytest.mark.slow
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("district", sorted(DISTRICTS))
@DIFFERENTIAL
@given(data=st.data())
def test_a_student_the_caller_cannot_see_changes_no_answer(
    lab: Lab, district: str, persona: str, data: st.DataObject
) -> None:
    """One to four operations, each put to every hub; cursors gathered on the way feed later ones."""
    who = lab.caller(district, persona)
    pool = list(HAND_MADE_CURSORS)
    for _ in range(data.draw(st.integers(1, 4), label="operations")):
        kind = data.draw(st.sampled_from(KINDS), label="kind")
        if kind in LISTS:
            _page_through(data, who, kind, pool)
        else:
            _look_up(data, who, kind)


# ---------------------------------------------------------------- the harness itself


def test_the_district_admin_has_no_student_to_hide(lab: Lab) -> None:
    """Why the property leaves the district admin out: every student is visible to them."""
    visible, hidden = lab.split("seed29", "district_admin")
    assert not hidden and len(visible) == DISTRICTS["seed29"][1]


def test_the_comparison_notices_a_visible_student_removed(lab: Lab) -> None:
    """The same comparison, with a student the teacher can see removed, finds a difference:
    the property is not vacuous."""
    folder, running, _ = lab.district("seed29")
    visible, _ = lab.split("seed29", "teacher")
    gone = visible[len(visible) // 2]
    without = lab.hubs.open(district_without_student(folder, lab.root / f"seed29-minus-{gone.vid}", gone.vid))
    persona = lab.persona("seed29", "teacher")
    query = "query($first: Int!) { students(first: $first) { edges { node { id givenName } } } }"
    variables = {"first": len(visible)}
    full = lab.hubs.post(running, query, persona.token(running.signer), variables)
    less = lab.hubs.post(without, query, persona.token(without.signer), variables)
    assert full[0] == less[0] == 200
    assert gone.hub_id in full[1] and gone.hub_id not in less[1]
