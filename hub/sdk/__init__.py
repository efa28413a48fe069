"""The Homeroom adapter SDK: everything an integrator imports.

An adapter maps one vendor's data onto the unified records below and answers
:class:`FetchRequest` with :class:`FetchResult`. It registers an
:class:`AdapterSpec` under the ``homeroom.adapters`` entry point group. Adapters
import ``hub.sdk`` and nothing else of ``hub``.
"""

from hub.model import (
    RECORD_TYPES,
    AcademicSession,
    Assignment,
    AttendanceEvent,
    Course,
    CourseGrade,
    Enrollment,
    Entity,
    Guardian,
    Organization,
    Person,
    Record,
    Score,
    Section,
    Student,
    Teacher,
    data_fields,
)
from hub.sdk._adapter import Adapter, AdapterSpec
from hub.sdk._background import background_deadline, background_reads
from hub.sdk._capabilities import Capabilities, EntitySupport
from hub.sdk._changes import ChangeFeed, Changes
from hub.sdk._config import SourceConfig, read_secret
from hub.sdk._errors import (
    BadVendorData,
    ConfigError,
    SourceAuthFailed,
    SourceError,
    SourceUnavailable,
    UnsupportedRequest,
)
from hub.sdk._projection import Projector, projector
from hub.sdk._report import FileStats, LoadReport, RowProblem
from hub.sdk._request import FetchRequest, FetchResult, fetch_every_page, filter_value, matches, visible
from hub.sdk._search import NAME_ATTRIBUTES, name_matches
from hub.sdk._sim_changes import (
    FolderSignature,
    FolderWatch,
    KeyedChanges,
    StampClock,
    compare,
    folder_signature,
)
from hub.sdk._simulator import SIMULATOR_ENTRY_POINT_GROUP, SimulatorOptions, SimulatorSpec, env_prefix
from hub.sdk._values import BadValue, enum_key, parse_bool, parse_date, parse_datetime, parse_grade

__all__ = [
    "NAME_ATTRIBUTES",
    "RECORD_TYPES",
    "SIMULATOR_ENTRY_POINT_GROUP",
    "AcademicSession",
    "Adapter",
    "AdapterSpec",
    "Assignment",
    "AttendanceEvent",
    "BadValue",
    "BadVendorData",
    "Capabilities",
    "ChangeFeed",
    "Changes",
    "ConfigError",
    "Course",
    "CourseGrade",
    "Enrollment",
    "Entity",
    "EntitySupport",
    "FetchRequest",
    "FetchResult",
    "FileStats",
    "FolderSignature",
    "FolderWatch",
    "Guardian",
    "KeyedChanges",
    "LoadReport",
    "Organization",
    "Person",
    "Projector",
    "Record",
    "RowProblem",
    "Score",
    "Section",
    "SimulatorOptions",
    "SimulatorSpec",
    "SourceAuthFailed",
    "SourceConfig",
    "SourceError",
    "SourceUnavailable",
    "StampClock",
    "Student",
    "Teacher",
    "UnsupportedRequest",
    "background_deadline",
    "background_reads",
    "compare",
    "data_fields",
    "enum_key",
    "env_prefix",
    "fetch_every_page",
    "filter_value",
    "folder_signature",
    "matches",
    "name_matches",
    "parse_bool",
    "parse_date",
    "parse_datetime",
    "parse_grade",
    "projector",
    "read_secret",
    "visible",
]
