"""The ``google-classroom`` adapter: Google Classroom API v1, read live.

Registered under the ``homeroom.adapters`` entry point as ``google-classroom``::

    [[sources]]
    name = "classroom"
    kind = "google-classroom"
    token_file = "/run/secrets/classroom-token"

``adapters.google_classroom.simulator`` serves a generated district in the
same API, for the demo and the tests. Mapping decisions are listed in
``_mapping``, the calls each question costs in ``_collect``, the id
conventions in ``_ids``, the change feed (course work only) in ``_feed``.
"""

from adapters.google_classroom.adapter import CAPABILITIES, GoogleClassroomAdapter
from adapters.google_classroom.config import GoogleClassroomConfig
from hub.sdk import AdapterSpec

__all__ = ["CAPABILITIES", "SPEC", "GoogleClassroomAdapter", "GoogleClassroomConfig"]

SPEC: AdapterSpec[GoogleClassroomConfig] = AdapterSpec(
    kind="google-classroom",
    config=GoogleClassroomConfig,
    create=GoogleClassroomAdapter,
    summary="Google Classroom API v1 (bearer token or OAuth 2), course-level reads with pageToken paging",
)
