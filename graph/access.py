"""The one table of access: which role may use which operation, and how far each role reaches.

Every root field of the GraphQL schema (query, mutation, subscription) is a row, and so is
every finer permission a field consults (`facet` rows: full ID numbers, whole phones, internal
notes...). The schema refuses a root field the table does not grant before its resolver runs
(`schema.access.AccessTable`), the case-work writes consult it again in `graph.writes.perform`,
the matrix test is generated from it, and `shouhu docs` prints it. A role list is spelled here
and nowhere else.

The scope rule (docs/access.md): what a role may use, it uses within its reach. A region role
reaches the subtree of its token's region (a child or person through their household's
village, a household through its village, an institution through its region), `admin`
everything, `institution_staff` the referrals addressed to their institution. Outside the
reach a read answers as if nothing were there, and a write is FORBIDDEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

from graph.callers import NO_REGION, Caller, Role
from graph.errors import Forbidden


class Kind(StrEnum):
    QUERY = "query"
    MUTATION = "mutation"
    SUBSCRIPTION = "subscription"
    #: a permission inside operations (a field's detail, a decision), not a root field
    FACET = "facet"


#: The table's columns, in order.
COLUMNS: Final = (
    Role.CHILDREN_DIRECTOR,
    Role.CHILDREN_SUPERVISOR,
    Role.CASE_WORKER,
    Role.COORDINATOR,
    Role.INSTITUTION_STAFF,
    Role.INTEGRATOR,
    Role.AUDITOR,
    Role.ADMIN,
)

#: How far each role reaches (the scope rule).
REACH: Final = {
    Role.CHILDREN_DIRECTOR: "its village",
    Role.CHILDREN_SUPERVISOR: "its township",
    Role.CASE_WORKER: "its township or county",
    Role.COORDINATOR: "its county or above",
    Role.INSTITUTION_STAFF: "the referrals addressed to its institution; the children it names in a report",
    Role.INTEGRATOR: "its region",
    Role.AUDITOR: "the audit trail of its region",
    Role.ADMIN: "everything",
}

# x: allowed; .: refused. One line per operation; `shouhu docs` renders this table as it is.
TABLE: Final = """
operation               kind          dir sup cw  co  ist int aud adm
me                      query         x   x   x   x   x   x   x   x
region                  query         x   x   x   x   .   x   .   x
child                   query         x   x   x   x   .   x   .   x
person                  query         x   x   x   x   .   x   .   x
children                query         x   x   x   x   .   x   .   x
searchPersons           query         x   x   x   x   .   x   .   x
duplicateCandidates     query         x   x   x   x   .   x   .   x
household               query         x   x   x   x   .   x   .   x
households              query         x   x   x   x   .   x   .   x
institution             query         x   x   x   x   .   x   .   x
institutions            query         x   x   x   x   .   x   .   x
timeline                query         x   x   x   x   .   x   .   x
case                    query         x   x   x   x   .   x   .   x
cases                   query         .   .   x   x   .   x   .   x
reports                 query         .   .   x   x   .   .   .   x
capacityOverrides       query         .   .   .   x   .   .   .   x
myCaseload              query         .   .   x   x   .   .   .   x
guardianship            query         .   .   x   x   .   .   .   x
caregiverNetwork        query         .   .   x   x   .   .   .   x
pathBetween             query         .   .   x   x   .   .   .   x
discover                query         x   x   x   x   .   .   .   x
riskProfile             query         x   x   x   x   .   .   .   x
alerts                  query         x   x   x   x   .   .   .   x
alertChanges            query         x   x   x   x   .   .   .   x
alertRaised             subscription  x   x   x   x   .   .   .   x
worklist                query         x   x   x   x   .   .   .   x
visitCoverage           query         x   x   x   x   .   .   .   x
referral                query         x   x   x   x   x   x   .   x
referralInbox           query         .   .   x   x   x   x   .   x
overdueReferrals        query         .   .   x   x   .   x   .   x
recommendInstitutions   query         .   .   x   x   .   .   .   x
recommendVolunteers     query         .   .   x   x   .   .   .   x
statistics              query         .   x   .   x   .   .   .   x
statisticsChildren      query         .   x   .   x   .   .   .   x
auditEvents             query         .   .   .   x   .   .   x   x
exportBundle            query         .   .   .   .   .   x   .   x
importRuns              query         .   .   .   .   .   x   .   x
importBundle            mutation      .   .   .   .   .   x   .   x
reportConcern           mutation      x   x   x   x   x   .   .   x
createHousehold         mutation      x   x   x   x   .   .   .   x
correctHousehold        mutation      x   x   x   x   .   .   .   x
createPerson            mutation      x   x   x   x   .   .   .   x
correctPerson           mutation      x   x   x   x   .   .   .   x
movePerson              mutation      x   x   x   x   .   .   .   x
linkParent              mutation      x   x   x   x   .   .   .   x
endParentLink           mutation      x   x   x   x   .   .   .   x
recordVisit             mutation      x   x   x   x   .   .   .   x
recordContact           mutation      x   x   x   x   .   .   .   x
recordAway              mutation      x   x   x   x   .   .   .   x
endAway                 mutation      x   x   x   x   .   .   .   x
signCareAgreement       mutation      x   x   x   x   .   .   .   x
acknowledgeAlert        mutation      x   x   x   x   .   .   .   x
reassignAlert           mutation      .   x   x   x   .   .   .   x
openCase                mutation      .   .   x   x   .   .   .   x
advanceCase             mutation      .   .   x   x   .   .   .   x
referCase               mutation      .   .   x   x   .   .   .   x
respondToReferral       mutation      .   .   x   x   x   .   .   x
recordCare              mutation      .   .   x   x   .   .   .   x
endCare                 mutation      .   .   x   x   .   .   .   x
setGuardian             mutation      .   .   x   x   .   .   .   x
endGuardian             mutation      .   .   x   x   .   .   .   x
recordCondition         mutation      .   .   x   x   .   .   .   x
endCondition            mutation      .   .   x   x   .   .   .   x
pairVolunteer           mutation      .   .   x   x   .   .   .   x
unpairVolunteer         mutation      .   .   x   x   .   .   .   x
enrolChild              mutation      .   .   x   x   .   .   .   x
endEnrollment           mutation      .   .   x   x   .   .   .   x
registerChild           mutation      .   .   .   x   .   .   .   x
deregisterChild         mutation      .   .   .   x   .   .   .   x
sweep                   mutation      .   .   .   x   .   .   .   x
placeChild              mutation      .   .   x   x   .   .   .   x
endPlacement            mutation      .   .   x   x   .   .   .   x
reassignCase            mutation      .   .   x   x   .   .   .   x
transferCase            mutation      .   .   .   x   .   .   .   x
reopenCase              mutation      .   .   .   x   .   .   .   x
recordAssessment        mutation      .   .   x   x   .   .   .   x
setCasePlan             mutation      .   .   x   x   .   .   .   x
fileMandatoryReport     mutation      .   .   .   .   x   .   .   .
matchReport             mutation      .   .   x   x   .   .   .   x
answerReferral          facet         .   .   .   .   x   .   .   x
withdrawReferral        facet         .   .   x   x   .   .   .   x
fullIdNumber            facet         .   .   .   x   .   .   .   x
wholePhone              facet         x   x   x   x   .   .   .   x
internalNotes           facet         x   x   x   x   .   x   .   x
referralCase            facet         x   x   x   x   .   x   .   x
reporterIdentity        facet         .   .   x   x   .   .   .   x
"""

#: What each facet row permits.
FACETS: Final = {
    "answerReferral": "accept, decline or complete a referral (its institution's staff)",
    "withdrawReferral": "withdraw a referral (the case worker's side)",
    "fullIdNumber": "see ID numbers whole (others: first 6 and last 1 characters)",
    "wholePhone": "see phone numbers whole (others: the last 4 digits): the roles who call families",
    "internalNotes": "read case and referral notes (never institution staff)",
    "referralCase": "see the case and the child's id behind a referral (institution staff: name, age, reason)",
    "reporterIdentity": "see who filed a report of concern (hidden below case_worker)",
}


@dataclass(frozen=True, slots=True)
class Rule:
    operation: str
    kind: Kind
    roles: frozenset[Role]


def _parse(text: str) -> dict[str, Rule]:
    lines = [line.split() for line in text.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    if len(header) != 2 + len(COLUMNS):
        raise ValueError("the access table's header does not name every role")
    rules: dict[str, Rule] = {}
    for row in rows:
        operation, kind, *marks = row
        if len(marks) != len(COLUMNS) or set(marks) - {"x", "."} or operation in rules:
            raise ValueError(f"the access table's row {operation} is malformed")
        roles = frozenset(role for role, mark in zip(COLUMNS, marks, strict=True) if mark == "x")
        rules[operation] = Rule(operation, Kind(kind), roles)
    return rules


RULES: Final = _parse(TABLE)


def operations(kind: Kind) -> frozenset[str]:
    return frozenset(name for name, rule in RULES.items() if rule.kind is kind)


@cache
def granted(role: Role) -> tuple[str, ...]:
    """Every operation the table grants `role`, by name (worked out once per role)."""
    return tuple(sorted(name for name, rule in RULES.items() if role in rule.roles))


def allowed(role: Role, operation: str) -> bool:
    """Whether `role` may use `operation`; an operation missing from the table is nobody's."""
    rule = RULES.get(operation)
    return rule is not None and role in rule.roles


def require(role: Role, operation: str) -> None:
    if not allowed(role, operation):
        raise Forbidden(f"the role {role.value} may not use {operation}")


def scope(caller: Caller, operation: str) -> str:
    """The region-code prefix `caller` reads and writes within for `operation` (refused when
    the table does not grant it). Institution staff reach no region: their prefix matches no
    code, so a query that forgets to special-case them returns nothing rather than everything."""
    require(caller.role, operation)
    if caller.role is Role.INSTITUTION_STAFF:
        return NO_REGION
    return caller.scope


def read_scope(caller: Caller) -> str:
    """The prefix of the persons, households and institutions the caller reads in nested
    fields: its scope when it may read persons at all, else nothing."""
    return scope(caller, "person") if allowed(caller.role, "person") else NO_REGION


def covers(caller_scope: str, region_code: str) -> bool:
    """Whether a region code (12 digits, or a prefix) lies in the caller's scope."""
    return region_code.startswith(caller_scope)
