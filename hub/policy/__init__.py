"""Field-level access policy: Casbin decides, per query, what a caller may read.

Per request the hub calls :func:`collect_fields` on the validated operation,
then :func:`build_plan` with ``store.current`` (read once, kept for the whole
request) and the caller's roles. A non-empty ``plan.forbidden`` refuses the
operation; otherwise resolvers use ``plan.relations_for`` and
``plan.allowed_fields`` per row, which never reach Casbin.
"""

from hub.policy.catalogue import (
    ACTIONS,
    RELATIONS,
    Catalogue,
    catalogue_entries,
    catalogue_from_schema,
    is_structural,
)
from hub.policy.check import CheckReport, PolicyWarning, check_policy, roles_granted_nothing
from hub.policy.engine import Explanation, PolicyEngine
from hub.policy.files import (
    Location,
    ParsedPolicy,
    PolicyError,
    PolicyProblem,
    RoleLink,
    Rule,
    default_policy_dir,
    read_policy_dir,
    read_policy_files,
)
from hub.policy.grants import Grant, GrantDiff, diff_grants, grant_table, grants, render_diff, render_matrix
from hub.policy.plan import AccessPlan, build_plan
from hub.policy.reload import PolicyRejected, PolicyStore, ReloadOutcome, load_checked_engine
from hub.policy.suite import (
    CaseResult,
    PolicyCase,
    SuiteReport,
    case_files_in,
    load_cases,
    run_cases,
    run_suite,
)
from hub.policy.walker import ArgumentReads, OperationNotFound, collect_argument_reads, collect_fields

__all__ = [
    "ACTIONS",
    "RELATIONS",
    "AccessPlan",
    "ArgumentReads",
    "CaseResult",
    "Catalogue",
    "CheckReport",
    "Explanation",
    "Grant",
    "GrantDiff",
    "Location",
    "OperationNotFound",
    "ParsedPolicy",
    "PolicyCase",
    "PolicyEngine",
    "PolicyError",
    "PolicyProblem",
    "PolicyRejected",
    "PolicyStore",
    "PolicyWarning",
    "ReloadOutcome",
    "RoleLink",
    "Rule",
    "SuiteReport",
    "build_plan",
    "case_files_in",
    "catalogue_entries",
    "catalogue_from_schema",
    "check_policy",
    "collect_argument_reads",
    "collect_fields",
    "default_policy_dir",
    "diff_grants",
    "grant_table",
    "grants",
    "is_structural",
    "load_cases",
    "load_checked_engine",
    "read_policy_dir",
    "read_policy_files",
    "render_diff",
    "render_matrix",
    "roles_granted_nothing",
    "run_cases",
    "run_suite",
]
