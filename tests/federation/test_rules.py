"""The relation rules table is well formed: every relation is one the policy
speaks of, every fact one the caller's relationships work out, every attribute
one the record has, and every link one the identity map can follow."""

from __future__ import annotations

import pytest

from hub.federation.relations import Relationships
from hub.federation.rules import (
    DIRECTORY,
    LINK_TARGET,
    OWN,
    PERSON_OF,
    RELATION_RULES,
    RelationTest,
    deciding_attributes,
)
from hub.model import RECORD_TYPES, Entity, data_fields
from hub.policy.catalogue import RELATIONS


def _tests() -> list[tuple[Entity, str, RelationTest]]:
    out = []
    for entity, rules in RELATION_RULES.items():
        for relation, tests in rules.items():
            for test in tests:
                while test is not None:
                    out.append((entity, relation, test))
                    test = test.otherwise
    return out


@pytest.mark.parametrize(("entity", "relation", "test"), _tests())
def test_each_rule_names_known_things(entity: Entity, relation: str, test: RelationTest) -> None:
    assert relation in RELATIONS and relation not in ("district", "directory")
    assert test.fact == "self" or test.fact in _lazy_facts()
    if test.attribute != OWN:
        assert test.attribute in data_fields(RECORD_TYPES[entity])
        assert test.attribute in LINK_TARGET


def _lazy_facts() -> set[str]:
    import inspect

    source = inspect.getsource(Relationships.__init__)
    return {
        line.split("=")[0].strip().removeprefix("self.") for line in source.splitlines() if "_Lazy(" in line
    }


def test_person_links_are_record_attributes() -> None:
    for entity, attributes in PERSON_OF.items():
        assert set(attributes) <= set(data_fields(RECORD_TYPES[entity]))


def test_directory_never_reaches_person_bound_rows() -> None:
    assert not DIRECTORY & {Entity.SCORE, Entity.COURSE_GRADE, Entity.ATTENDANCE_EVENT, Entity.ENROLLMENT}
    assert Entity.GUARDIAN not in DIRECTORY


def test_deciding_attributes_are_read_only_for_needed_relations() -> None:
    assert deciding_attributes(Entity.STUDENT, frozenset({"teacher", "directory"})) == frozenset()
    assert deciding_attributes(Entity.STUDENT, frozenset({"school"})) == {"school_id", "school_ids"}
    assert deciding_attributes(Entity.ATTENDANCE_EVENT, frozenset({"teacher"})) == {
        "section_id",
        "student_id",
    }
    assert deciding_attributes(Entity.ENROLLMENT, frozenset({"self"})) == {"person_id", "section_id"}
