"""What each bundle kind may hold: its fields, their types, enumerations and references.

This module is the bundle format (docs/bundle-format.md) as data, so
the validator and the importer read one table. A field's `refs` names the kinds its value
must exist as (several when any will do: a guardian is a person or an institution).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from graph.regions import LEVELS

#: A parent is at least this many completed years older than their child.
MIN_PARENT_AGE: Final = 12

LOW_INCOME: Final = frozenset({"dibao", "tekun", "dibao_edge", "poverty_monitoring"})
GENDERS: Final = frozenset({"F", "M"})
INSTITUTION_TYPES: Final = frozenset({
    "school", "kindergarten", "child_welfare_institution", "minor_protection_center",
    "minor_protection_workstation", "social_work_station", "hospital", "police_station", "court",
    "procuratorate", "womens_federation", "ngo", "village_committee",
})  # fmt: skip
SERVICES: Final = frozenset({
    "education", "boarding", "emergency_shelter", "temporary_guardianship",
    "long_term_guardianship", "medical", "rehabilitation", "psychological_support", "legal_aid",
    "financial_assistance", "family_guidance", "after_school_care",
})  # fmt: skip
PARENT_TYPES: Final = frozenset({"biological", "adoptive", "step"})
GUARDIAN_BASES: Final = frozenset({"parent", "relative", "court_appointed", "state"})
#: The incapacity set (docs/domain.md): a person holding one of these lacks capacity to care.
INCAPACITY: Final = (
    "missing", "imprisoned", "compulsory_rehab", "detained", "severe_disability", "serious_illness",
)  # fmt: skip
#: Conditions that make a caregiver unfit (CAREGIVER_UNFIT) without taking their capacity.
DISQUALIFYING: Final = ("abuse_record", "substance_abuse", "neglect_record")
CONDITIONS: Final = frozenset(INCAPACITY + DISQUALIFYING)
STAFF_ROLES: Final = frozenset(
    {"children_director", "children_supervisor", "case_worker", "coordinator", "institution_staff"}
)
CATEGORIES: Final = frozenset({"left_behind", "de_facto_unsupported", "orphan", "in_difficulty", "disability"})
CHANNELS: Final = frozenset({"phone", "video", "in_person", "message"})
VISIT_TYPES: Final = frozenset({"home_visit", "school_visit", "phone_check"})
REPORTER_ROLES: Final = frozenset(
    {"teacher", "doctor", "village_committee", "police", "neighbor", "relative", "self", "other"}
)
REPORT_CATEGORIES: Final = frozenset(
    {"neglect", "abuse", "abandonment", "injury", "unsupervised", "dropout", "mental_health", "other"}
)
URGENCIES: Final = frozenset({"immediate", "high", "normal"})
CASE_STAGES: Final = frozenset({"reported", "emergency_response", "assessment", "intervention", "closed"})
REFERRAL_STATUSES: Final = frozenset({"pending", "accepted", "declined", "completed", "withdrawn"})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a kind.

    `type` is one of: `id` (non-empty string), `text` (string; non-empty when required),
    `code` (12 ASCII digits), `date` (`YYYY-MM-DD`), `datetime` (ISO 8601 with offset),
    `bool`, `count` (integer >= 0), `enum` (one of `values`), `enums` (list of `values`),
    `id_number` (18-character resident ID, see `graph.bundle.idnumber`).
    """

    name: str
    type: str
    required: bool = True
    values: frozenset[str] = frozenset()
    #: Kinds the value must exist as (in the bundle or the database); any one will do.
    refs: tuple[str, ...] = ()
    #: Dates that may not lie after the validation day (docs/bundle-format.md).
    no_future: bool = False


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    #: The identifying field of an entity kind (`code` or `id`); None for relationships/events.
    key: str | None = None
    #: Interval kinds carry `since`/`until` and are identified by their endpoints plus `since`.
    interval: bool = False
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(spec.name for spec in self.fields))

    @property
    def entity(self) -> bool:
        return self.key is not None


def _f(
    name: str, type_: str, *, values: Iterable[str] = (), refs: tuple[str, ...] = (), no_future: bool = False
) -> Field:
    """A required field."""
    return Field(name, type_, True, frozenset(values), refs, no_future)


def _opt(name: str, type_: str, *, refs: tuple[str, ...] = (), no_future: bool = False) -> Field:
    """An optional field."""
    return Field(name, type_, False, frozenset(), refs, no_future)


PERSON = ("person",)
_SINCE = _f("since", "date")
_UNTIL = _opt("until", "date")

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind("region", (
            _f("code", "code"), _f("name", "text"), _f("level", "enum", values=frozenset(LEVELS)),
            _opt("parent", "code", refs=("region",)),
        ), key="code"),
        Kind("household", (
            _f("id", "id"), _f("region", "code", refs=("region",)), _opt("address", "text"),
            _f("lowIncome", "enums", values=LOW_INCOME),
        ), key="id"),
        Kind("person", (
            _f("id", "id"), _f("name", "text"), _f("gender", "enum", values=GENDERS),
            _f("birthDate", "date", no_future=True), _opt("idNumber", "id_number"),
            _opt("household", "id", refs=("household",)), _opt("phone", "text"),
            _opt("deceasedOn", "date", no_future=True),
        ), key="id"),
        Kind("institution", (
            _f("id", "id"), _f("name", "text"), _f("type", "enum", values=INSTITUTION_TYPES),
            _f("region", "code", refs=("region",)), _f("services", "enums", values=SERVICES),
            _opt("capacity", "count"),
        ), key="id"),
        Kind("parent", (
            _f("parent", "id", refs=PERSON), _f("child", "id", refs=PERSON),
            _f("type", "enum", values=PARENT_TYPES),
        )),
        Kind("guardian", (
            _f("guardian", "id", refs=("person", "institution")), _f("child", "id", refs=PERSON),
            _SINCE, _UNTIL, _f("basis", "enum", values=GUARDIAN_BASES),
        ), interval=True),
        Kind("care", (
            _f("caregiver", "id", refs=PERSON), _f("child", "id", refs=PERSON), _SINCE, _UNTIL,
            _opt("agreementSignedOn", "date"), _opt("entrustedBy", "id", refs=PERSON),
        ), interval=True),
        Kind("away", (
            # `destinationRegion` is where someone works, usually outside the bundle's county:
            # a well-formed code, not a reference.
            _f("person", "id", refs=PERSON), _SINCE, _UNTIL, _f("destination", "text"),
            _opt("destinationRegion", "code"),
        ), interval=True),
        Kind("condition", (
            _f("person", "id", refs=PERSON), _f("type", "enum", values=CONDITIONS), _SINCE, _UNTIL,
        ), interval=True),
        Kind("enrollment", (
            _f("child", "id", refs=PERSON), _f("institution", "id", refs=("institution",)),
            _SINCE, _UNTIL, _opt("grade", "text"), _opt("boarding", "bool"),
        ), interval=True),
        Kind("placement", (
            _f("child", "id", refs=PERSON), _f("institution", "id", refs=("institution",)),
            _SINCE, _UNTIL,
        ), interval=True),
        Kind("pairing", (
            _f("volunteer", "id", refs=PERSON), _f("child", "id", refs=PERSON), _SINCE, _UNTIL,
        ), interval=True),
        Kind("staff", (
            _f("person", "id", refs=PERSON), _f("role", "enum", values=STAFF_ROLES),
            _opt("region", "code", refs=("region",)),
            _opt("institution", "id", refs=("institution",)), _SINCE, _UNTIL,
        ), interval=True),
        Kind("registration", (
            _f("child", "id", refs=PERSON), _f("category", "enum", values=CATEGORIES),
            _SINCE, _UNTIL,
        ), interval=True),
        Kind("contact", (
            _f("from", "id", refs=PERSON), _f("child", "id", refs=PERSON),
            _f("on", "date", no_future=True), _f("channel", "enum", values=CHANNELS),
        )),
        Kind("visit", (
            _f("visitor", "id", refs=PERSON), _f("child", "id", refs=PERSON),
            _f("on", "date", no_future=True), _f("type", "enum", values=VISIT_TYPES),
            _opt("notes", "text"),
        )),
        Kind("report", (
            _f("id", "id"), _f("child", "id", refs=PERSON), _opt("reporter", "id", refs=PERSON),
            _f("reporterRole", "enum", values=REPORTER_ROLES),
            _f("at", "datetime", no_future=True),
            _f("category", "enum", values=REPORT_CATEGORIES),
            _f("urgency", "enum", values=URGENCIES), _f("description", "text"),
        ), key="id"),
        Kind("case", (
            _f("id", "id"), _f("child", "id", refs=PERSON), _f("openedOn", "date"),
            _f("stage", "enum", values=CASE_STAGES), _opt("worker", "id", refs=PERSON),
            _opt("report", "id", refs=("report",)),
        ), key="id"),
        Kind("referral", (
            _f("id", "id"), _f("case", "id", refs=("case",)),
            _f("institution", "id", refs=("institution",)), _f("service", "enum", values=SERVICES),
            _f("on", "date", no_future=True), _f("dueOn", "date"),
            _f("status", "enum", values=REFERRAL_STATUSES), _opt("reason", "text"),
        ), key="id"),
    )
}  # fmt: skip

ENTITY_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.entity)
INTERVAL_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.interval)

#: Entity kinds in the order their cross-line checks run: every kind refers only to kinds
#: before it (a region to its parent region, which is checked level by level).
ENTITY_ORDER: Final = ("region", "household", "institution", "person", "report", "case", "referral")
