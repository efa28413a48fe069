"""The read model: one mirror table per entity, link items and sync state.

A mirrored source's records live here (only the attributes some grant of the
policy can read, plus the links relation tests follow: see docs/mirror.md).
Plain tables with no triggers; every column of a record is nullable, as an
attribute no grant reads is never stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the mirror tables and their indexes (empty: the first sync fills them)."""
    op.create_table(
        "mirror_organization",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_organization"),
    )
    op.create_index("ix_mirror_organization_source_parent_id", "mirror_organization", ["source", "parent_id"])
    op.create_index("ix_mirror_organization_source_seq", "mirror_organization", ["source", "seq"])
    op.create_table(
        "mirror_academic_session",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("school_year", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_academic_session"),
    )
    op.create_index(
        "ix_mirror_academic_session_source_parent_id", "mirror_academic_session", ["source", "parent_id"]
    )
    op.create_index("ix_mirror_academic_session_source_seq", "mirror_academic_session", ["source", "seq"])
    op.create_table(
        "mirror_course",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("course_code", sa.Text(), nullable=True),
        sa.Column("grades", sa.Text(), nullable=True),
        sa.Column("subjects", sa.Text(), nullable=True),
        sa.Column("org_id", sa.Text(), nullable=True),
        sa.Column("school_year_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_course"),
    )
    op.create_index("ix_mirror_course_source_org_id", "mirror_course", ["source", "org_id"])
    op.create_index("ix_mirror_course_source_school_year_id", "mirror_course", ["source", "school_year_id"])
    op.create_index("ix_mirror_course_source_seq", "mirror_course", ["source", "seq"])
    op.create_table(
        "mirror_section",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("class_code", sa.Text(), nullable=True),
        sa.Column("class_type", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("periods", sa.Text(), nullable=True),
        sa.Column("subjects", sa.Text(), nullable=True),
        sa.Column("grades", sa.Text(), nullable=True),
        sa.Column("course_id", sa.Text(), nullable=True),
        sa.Column("school_id", sa.Text(), nullable=True),
        sa.Column("term_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_section"),
    )
    op.create_index("ix_mirror_section_source_course_id", "mirror_section", ["source", "course_id"])
    op.create_index("ix_mirror_section_source_school_id", "mirror_section", ["source", "school_id"])
    op.create_index("ix_mirror_section_source_seq", "mirror_section", ["source", "seq"])
    op.create_table(
        "mirror_student",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("preferred_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("grade_level", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sa.Text(), nullable=True),
        sa.Column("races", sa.Text(), nullable=True),
        sa.Column("hispanic_or_latino", sa.Boolean(), nullable=True),
        sa.Column("programs", sa.Text(), nullable=True),
        sa.Column("directory_opt_out", sa.Boolean(), nullable=True),
        sa.Column("school_id", sa.Text(), nullable=True),
        sa.Column("school_ids", sa.Text(), nullable=True),
        sa.Column("guardian_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_student"),
    )
    op.create_index("ix_mirror_student_source_school_id", "mirror_student", ["source", "school_id"])
    op.create_index("ix_mirror_student_source_seq", "mirror_student", ["source", "seq"])
    op.create_table(
        "mirror_teacher",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("preferred_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("school_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_teacher"),
    )
    op.create_index("ix_mirror_teacher_source_seq", "mirror_teacher", ["source", "seq"])
    op.create_table(
        "mirror_guardian",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("given_name", sa.Text(), nullable=True),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("middle_name", sa.Text(), nullable=True),
        sa.Column("preferred_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("identifier", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("relationship", sa.Text(), nullable=True),
        sa.Column("student_ids", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_guardian"),
    )
    op.create_index("ix_mirror_guardian_source_seq", "mirror_guardian", ["source", "seq"])
    op.create_table(
        "mirror_enrollment",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("primary", sa.Boolean(), nullable=True),
        sa.Column("begin_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("section_id", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Text(), nullable=True),
        sa.Column("school_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_enrollment"),
    )
    op.create_index("ix_mirror_enrollment_source_person_id", "mirror_enrollment", ["source", "person_id"])
    op.create_index("ix_mirror_enrollment_source_school_id", "mirror_enrollment", ["source", "school_id"])
    op.create_index("ix_mirror_enrollment_source_section_id", "mirror_enrollment", ["source", "section_id"])
    op.create_index("ix_mirror_enrollment_source_seq", "mirror_enrollment", ["source", "seq"])
    op.create_table(
        "mirror_assignment",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("assign_date", _TS, nullable=True),
        sa.Column("due_date", _TS, nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("points_possible", sa.Float(), nullable=True),
        sa.Column("section_id", sa.Text(), nullable=True),
        sa.Column("grading_period_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_assignment"),
    )
    op.create_index(
        "ix_mirror_assignment_source_grading_period_id", "mirror_assignment", ["source", "grading_period_id"]
    )
    op.create_index("ix_mirror_assignment_source_section_id", "mirror_assignment", ["source", "section_id"])
    op.create_index("ix_mirror_assignment_source_seq", "mirror_assignment", ["source", "seq"])
    op.create_table(
        "mirror_score",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("assignment_id", sa.Text(), nullable=True),
        sa.Column("student_id", sa.Text(), nullable=True),
        sa.Column("section_id", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("score_status", sa.Text(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("missing", sa.Boolean(), nullable=True),
        sa.Column("submitted_at", _TS, nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_score"),
    )
    op.create_index("ix_mirror_score_source_assignment_id", "mirror_score", ["source", "assignment_id"])
    op.create_index("ix_mirror_score_source_section_id", "mirror_score", ["source", "section_id"])
    op.create_index("ix_mirror_score_source_seq", "mirror_score", ["source", "seq"])
    op.create_index("ix_mirror_score_source_student_id", "mirror_score", ["source", "student_id"])
    op.create_table(
        "mirror_course_grade",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.Text(), nullable=True),
        sa.Column("section_id", sa.Text(), nullable=True),
        sa.Column("term_id", sa.Text(), nullable=True),
        sa.Column("letter_grade", sa.Text(), nullable=True),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_course_grade"),
    )
    op.create_index(
        "ix_mirror_course_grade_source_section_id", "mirror_course_grade", ["source", "section_id"]
    )
    op.create_index("ix_mirror_course_grade_source_seq", "mirror_course_grade", ["source", "seq"])
    op.create_index(
        "ix_mirror_course_grade_source_student_id", "mirror_course_grade", ["source", "student_id"]
    )
    op.create_index("ix_mirror_course_grade_source_term_id", "mirror_course_grade", ["source", "term_id"])
    op.create_table(
        "mirror_attendance_event",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("student_id", sa.Text(), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("section_id", sa.Text(), nullable=True),
        sa.Column("school_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "vendor_id", name="pk_mirror_attendance_event"),
    )
    op.create_index(
        "ix_mirror_attendance_event_source_school_id", "mirror_attendance_event", ["source", "school_id"]
    )
    op.create_index(
        "ix_mirror_attendance_event_source_section_id", "mirror_attendance_event", ["source", "section_id"]
    )
    op.create_index("ix_mirror_attendance_event_source_seq", "mirror_attendance_event", ["source", "seq"])
    op.create_index(
        "ix_mirror_attendance_event_source_student_id", "mirror_attendance_event", ["source", "student_id"]
    )
    op.create_table(
        "mirror_link",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("attribute", sa.String(64), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("source", "entity", "vendor_id", "attribute", "value", name="pk_mirror_link"),
    )
    op.create_index(
        "ix_mirror_link_source_entity_attribute_value",
        "mirror_link",
        ["source", "entity", "attribute", "value"],
    )
    op.create_table(
        "mirror_state",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("last_full_sync", _TS, nullable=True),
        sa.Column("last_delta_sync", _TS, nullable=True),
        sa.Column("watermark", sa.Text(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source", "entity", name="pk_mirror_state"),
    )


def downgrade() -> None:
    """Drop the mirror tables (the next start in mirror mode reads every source again)."""
    op.drop_index("ix_mirror_organization_source_parent_id", table_name="mirror_organization")
    op.drop_index("ix_mirror_organization_source_seq", table_name="mirror_organization")
    op.drop_table("mirror_organization")
    op.drop_index("ix_mirror_academic_session_source_parent_id", table_name="mirror_academic_session")
    op.drop_index("ix_mirror_academic_session_source_seq", table_name="mirror_academic_session")
    op.drop_table("mirror_academic_session")
    op.drop_index("ix_mirror_course_source_org_id", table_name="mirror_course")
    op.drop_index("ix_mirror_course_source_school_year_id", table_name="mirror_course")
    op.drop_index("ix_mirror_course_source_seq", table_name="mirror_course")
    op.drop_table("mirror_course")
    op.drop_index("ix_mirror_section_source_course_id", table_name="mirror_section")
    op.drop_index("ix_mirror_section_source_school_id", table_name="mirror_section")
    op.drop_index("ix_mirror_section_source_seq", table_name="mirror_section")
    op.drop_table("mirror_section")
    op.drop_index("ix_mirror_student_source_school_id", table_name="mirror_student")
    op.drop_index("ix_mirror_student_source_seq", table_name="mirror_student")
    op.drop_table("mirror_student")
    op.drop_index("ix_mirror_teacher_source_seq", table_name="mirror_teacher")
    op.drop_table("mirror_teacher")
    op.drop_index("ix_mirror_guardian_source_seq", table_name="mirror_guardian")
    op.drop_table("mirror_guardian")
    op.drop_index("ix_mirror_enrollment_source_person_id", table_name="mirror_enrollment")
    op.drop_index("ix_mirror_enrollment_source_school_id", table_name="mirror_enrollment")
    op.drop_index("ix_mirror_enrollment_source_section_id", table_name="mirror_enrollment")
    op.drop_index("ix_mirror_enrollment_source_seq", table_name="mirror_enrollment")
    op.drop_table("mirror_enrollment")
    op.drop_index("ix_mirror_assignment_source_grading_period_id", table_name="mirror_assignment")
    op.drop_index("ix_mirror_assignment_source_section_id", table_name="mirror_assignment")
    op.drop_index("ix_mirror_assignment_source_seq", table_name="mirror_assignment")
    op.drop_table("mirror_assignment")
    op.drop_index("ix_mirror_score_source_assignment_id", table_name="mirror_score")
    op.drop_index("ix_mirror_score_source_section_id", table_name="mirror_score")
    op.drop_index("ix_mirror_score_source_seq", table_name="mirror_score")
    op.drop_index("ix_mirror_score_source_student_id", table_name="mirror_score")
    op.drop_table("mirror_score")
    op.drop_index("ix_mirror_course_grade_source_section_id", table_name="mirror_course_grade")
    op.drop_index("ix_mirror_course_grade_source_seq", table_name="mirror_course_grade")
    op.drop_index("ix_mirror_course_grade_source_student_id", table_name="mirror_course_grade")
    op.drop_index("ix_mirror_course_grade_source_term_id", table_name="mirror_course_grade")
    op.drop_table("mirror_course_grade")
    op.drop_index("ix_mirror_attendance_event_source_school_id", table_name="mirror_attendance_event")
    op.drop_index("ix_mirror_attendance_event_source_section_id", table_name="mirror_attendance_event")
    op.drop_index("ix_mirror_attendance_event_source_seq", table_name="mirror_attendance_event")
    op.drop_index("ix_mirror_attendance_event_source_student_id", table_name="mirror_attendance_event")
    op.drop_table("mirror_attendance_event")
    op.drop_index("ix_mirror_link_source_entity_attribute_value", table_name="mirror_link")
    op.drop_table("mirror_link")
    op.drop_table("mirror_state")
