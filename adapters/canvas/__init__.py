"""The ``canvas`` adapter: a Canvas LMS account, read live through its REST API.

Registered under the ``homeroom.adapters`` entry point as ``canvas``::

    [[sources]]
    name = "lms"
    kind = "canvas"
    base_url = "https://district.instructure.com"
    token_env = "CANVAS_TOKEN"
    account_id = "self"
    per_page = 100

``adapters.canvas.simulator`` serves a generated district in the same API,
for the demo and the tests (``homeroom simulate canvas``).
"""

from adapters.canvas.adapter import CAPABILITIES, CanvasAdapter
from adapters.canvas.config import CanvasConfig
from hub.sdk import AdapterSpec

__all__ = ["CAPABILITIES", "SPEC", "CanvasAdapter", "CanvasConfig"]

SPEC: AdapterSpec[CanvasConfig] = AdapterSpec(
    kind="canvas",
    config=CanvasConfig,
    create=CanvasAdapter,
    summary="Canvas LMS REST API (bearer token): courses, sections, people, enrollments, grades, scores",
)
