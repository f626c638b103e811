"""Which roles may use which reads (docs/access.md, Roles); the region scope itself is in Cypher.

A role that may not use a query at all gets FORBIDDEN; a role that may use it sees only its
scope, and what lies outside reads as absent. `institution_staff` reach children only through
referrals addressed to their institution, so person reads give them a scope no region code
starts with: the database returns nothing, as for anything else out of scope.
"""

from __future__ import annotations

from typing import Final

from graph.callers import NO_REGION, Caller, Role
from graph.errors import Forbidden

#: A prefix no 12-digit region code starts with.
NOTHING: Final = NO_REGION

PERSON_READERS: Final = frozenset(
    {
        Role.CHILDREN_DIRECTOR,
        Role.CHILDREN_SUPERVISOR,
        Role.CASE_WORKER,
        Role.COORDINATOR,
        Role.INTEGRATOR,
        Role.ADMIN,
        Role.INSTITUTION_STAFF,
    }
)
TRACERS: Final = frozenset({Role.CASE_WORKER, Role.COORDINATOR, Role.ADMIN})
AUDIT_READERS: Final = frozenset({Role.AUDITOR, Role.COORDINATOR, Role.ADMIN})


def read_scope(caller: Caller) -> str:
    """The region-code prefix of the persons, households and institutions the caller reads."""
    if caller.role is Role.INSTITUTION_STAFF or caller.role not in PERSON_READERS:
        return NOTHING
    return caller.scope


def require(caller: Caller, roles: frozenset[Role], what: str) -> None:
    if caller.role not in roles:
        raise Forbidden(f"the role {caller.role.value} may not use {what}")
