"""Who a request acts for: the roles of docs/access.md and the caller a verified token names.

These live in `graph/` because both layers need them: the repositories and the import scope
their Cypher by the caller's region, and the API builds a `Caller` from a token. `graph/`
never imports `api/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph.regions import scope_prefix


class Role(StrEnum):
    CHILDREN_DIRECTOR = "children_director"
    CHILDREN_SUPERVISOR = "children_supervisor"
    CASE_WORKER = "case_worker"
    COORDINATOR = "coordinator"
    INSTITUTION_STAFF = "institution_staff"
    INTEGRATOR = "integrator"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: A prefix no 12-digit region code starts with.
NO_REGION = "-"


@dataclass(frozen=True, slots=True)
class Caller:
    sub: str
    role: Role
    region: str | None = None
    institution: str | None = None

    @property
    def scope(self) -> str:
        """The region-code prefix of everything this caller may see ('' for admin).

        Institution staff have no region: their prefix matches no code, so a query that
        forgets to special-case them still returns nothing rather than everything.
        """
        if self.role is Role.ADMIN:
            return ""
        if self.region is None:
            return NO_REGION
        return scope_prefix(self.region)
