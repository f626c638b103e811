"""The table of record kinds: what each bundle kind holds and how the graph stores it.

Every kind is declared once, below: its fields (types, vocabularies, references: the bundle
format of docs/bundle-format.md as data), its `Store` (node, edge or interval node; label or
relationship type; ends; keys; the import's write and an entity's export read, as literal
Cypher with `$parameters`) and, for the interval kinds the API keeps current, its
`Mutations`. The validator, the importer, the exporter, `graph.care`, the test factories and
graph/MODEL.md's tables (`graph.model`) all read this table. A field's `refs` names the kinds
its value must exist as (several when any will do: a guardian is a person or an institution).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, LiteralString

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
    #: What the field means, where its name does not say (API input descriptions).
    doc: str = ""


Shape = Literal["node", "edge", "interval_node"]


@dataclass(frozen=True, slots=True)
class End:
    """One end of a stored relationship: the bundle field naming the node there (None when the
    write chooses the node from other fields) and the labels that node may carry."""

    field: LiteralString | None
    labels: tuple[LiteralString, ...]


def _end(field: LiteralString | None, *labels: LiteralString) -> End:
    return End(field, labels)


@dataclass(frozen=True, slots=True)
class Store:
    """How a kind's records are stored (graph/MODEL.md's tables are generated from this).

    `shape` is `node` (an entity, unique by the kind's key), `edge` (a relationship from
    `start` to `end`, identified by both ends plus `key`) or `interval_node` (a node hanging
    off the person `start` by a `via` relationship, unique by `key`: the values of the `key`
    fields joined with `|`). `write` is the import's batched write (`UNWIND $batch.rows AS
    row`, with `$at`); `read` an entity's export read (`UNWIND $keys AS id`, one collected list).

    The rows come inside a map (`$batch`) because Neo4j keys its plan cache by the size of a
    list parameter (in buckets): a list passed as `$rows` is planned again for every batch size
    a kind meets (one line of a kind, 14, 300, 5,000), and planning one of these statements
    costs about as much database CPU as writing thousands of rows. Nested in a map its size is
    unknown to the planner, so each statement is planned once; the plans are index seeks on the
    rows' keys whatever their number.
    """

    shape: Shape
    #: the node label, or an edge's relationship type
    label: LiteralString
    write: LiteralString
    key: tuple[str, ...] = ()
    start: End | None = None
    end: End | None = None
    via: LiteralString | None = None
    read: LiteralString | None = None
    #: bundle fields kept under another property name
    stored_as: Mapping[str, str] = field(default_factory=dict)
    #: an entity's reference fields, which are stored as relationships (pattern from the node)
    edges: Mapping[str, str] = field(default_factory=dict)
    #: a node's uniqueness constraint on its key (`graph.migrations` applies it): name, statement
    unique: tuple[str, LiteralString] | None = None
    #: what else is stored, for the model's documentation
    also: str = ""

    def node_key(self, data: Mapping[str, Any]) -> str | None:
        """An interval node's `key` (its key fields joined with `|`); None for other shapes."""
        if self.shape != "interval_node":
            return None
        return "|".join(str(data[name]) for name in self.key)


#: Appended to every interval mutation's `create`: the record's own fields, stamped.
CREATE_SET: LiteralString = " SET r = $props, r.recordedAt = datetime() RETURN properties(r) AS props"


@dataclass(frozen=True, slots=True)
class Mutations:
    """The GraphQL mutations that record and end an interval kind's records (`graph.care`).

    `pattern` binds `r` to the records of one identity (any `since`); `create` writes a new
    one from `$props`. The `anchor` field's person must be in the caller's scope; who may
    call `record` and `end` is the access table's (`graph.access`).
    """

    record: str
    end: str
    anchor: str
    pattern: LiteralString
    create: LiteralString
    #: what one record is (the input type's description), and what each mutation does
    summary: str = ""
    record_doc: str = ""
    end_doc: str = ""


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    #: The identifying field of an entity kind (`code` or `id`); None for relationships/events.
    key: str | None = None
    #: Interval kinds carry `since`/`until` and are identified by their endpoints plus `since`.
    interval: bool = False
    #: None for a kind an import reads and never writes
    store: Store | None = None
    mutations: Mutations | None = None
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(spec.name for spec in self.fields))

    @property
    def entity(self) -> bool:
        return self.key is not None

    @property
    def identity(self) -> tuple[str, ...]:
        """The fields that with `since` identify an interval record: its ends (and, for a node,
        the rest of its key: a condition's type, a registration's category)."""
        store = self.store
        assert store is not None and store.start is not None, f"{self.name} is not a stored link"
        if store.shape == "interval_node":
            return tuple(name for name in store.key if name != "since")
        ends = (store.start.field, store.end.field if store.end else None)
        return tuple(name for name in ends if name is not None)


def _f(
    name: str,
    type_: str,
    *,
    values: Iterable[str] = (),
    refs: tuple[str, ...] = (),
    no_future: bool = False,
    doc: str = "",
) -> Field:
    """A required field."""
    return Field(name, type_, True, frozenset(values), refs, no_future, doc)


def _opt(name: str, type_: str, *, refs: tuple[str, ...] = (), no_future: bool = False, doc: str = "") -> Field:
    """An optional field."""
    return Field(name, type_, False, frozenset(), refs, no_future, doc)


PERSON = ("person",)
_SINCE = _f("since", "date")
_UNTIL = _opt("until", "date")

# --- region -------------------------------------------------------------------------------

REGION: Final = Kind(
    "region",
    (
        _f("code", "code"), _f("name", "text"), _f("level", "enum", values=frozenset(LEVELS)),
        _opt("parent", "code", refs=("region",)),
    ),
    key="code",
    store=Store(
        "node", "Region", write="""
UNWIND $batch.rows AS row
MERGE (r:Region {code: row.code})
SET r.name = row.name, r.level = row.level
WITH r, row
CALL (r, row) {
    MATCH (r)-[old:PART_OF]->(p) WHERE row.parent IS NULL OR p.code <> row.parent
    DELETE old
}
FOREACH (code IN CASE WHEN row.parent IS NULL THEN [] ELSE [row.parent] END |
    MERGE (p:Region {code: code})
    MERGE (r)-[:PART_OF]->(p)
)
""",
        unique=("region_code", "CREATE CONSTRAINT region_code IF NOT EXISTS FOR (r:Region) REQUIRE r.code IS UNIQUE"),
        read="""
UNWIND $keys AS code
MATCH (:Region {code: code})-[:PART_OF*0..]->(r:Region)
WITH DISTINCT r
OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
RETURN collect({code: r.code, name: r.name, level: r.level, parent: parent.code}) AS rows
""",
        edges={"parent": "-[:PART_OF]->(:Region)"},
    ),
)  # fmt: skip

# --- household ----------------------------------------------------------------------------

# A household that is new or has moved passes its village on to its members.
HOUSEHOLD: Final = Kind(
    "household",
    (
        _f("id", "id"), _f("region", "code", refs=("region",)), _opt("address", "text"),
        _f("lowIncome", "enums", values=LOW_INCOME),
    ),
    key="id",
    store=Store(
        "node", "Household", write="""
UNWIND $batch.rows AS row
MERGE (h:Household {id: row.id})
WITH h, row, coalesce(h.regionCode <> row.region, true) AS moved,
     h.updatedAt IS NULL OR h.regionCode <> row.region OR h.lowIncome <> row.lowIncome
     OR NOT coalesce(h.address = row.address, h.address IS NULL AND row.address IS NULL) AS changed
SET h.address = row.address, h.lowIncome = row.lowIncome, h.regionCode = row.region,
    h.updatedAt = CASE WHEN changed THEN $at ELSE h.updatedAt END
WITH h, row, moved
CALL (h, row) {
    MATCH (h)-[old:LOCATED_IN]->(r) WHERE r.code <> row.region
    DELETE old
}
MERGE (r:Region {code: row.region})
MERGE (h)-[:LOCATED_IN]->(r)
WITH h, moved WHERE moved
MATCH (p:Person)-[:MEMBER_OF]->(h)
SET p.regionCode = h.regionCode
""",
        unique=(
            "household_id",
            "CREATE CONSTRAINT household_id IF NOT EXISTS FOR (h:Household) REQUIRE h.id IS UNIQUE",
        ),
        read="""
UNWIND $keys AS id
MATCH (h:Household {id: id})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(r:Region)
RETURN collect({id: h.id, region: coalesce(r.code, h.regionCode), address: h.address,
                lowIncome: h.lowIncome}) AS rows
""",
        edges={"region": "-[:LOCATED_IN]->(:Region)"},
        also="`lowIncome` is a list of strings (may be empty); `regionCode` (its village), `updatedAt`",
    ),
)  # fmt: skip

# --- person -------------------------------------------------------------------------------

# A person's regionCode is their household's village (set here when the household's line came
# first, by the household's line otherwise); no household, no region. A caller who never
# receives ID and phone numbers (`$keepMasked`) leaves out those it does not send: its export,
# imported back, must not erase them.
PERSON_KIND: Final = Kind(
    "person",
    (
        _f("id", "id"), _f("name", "text"), _f("gender", "enum", values=GENDERS),
        _f("birthDate", "date", no_future=True), _opt("idNumber", "id_number"),
        _opt("household", "id", refs=("household",)), _opt("phone", "text"),
        _opt("deceasedOn", "date", no_future=True),
    ),
    key="id",
    store=Store(
        "node", "Person", write="""
UNWIND $batch.rows AS row
MERGE (p:Person {id: row.id})
WITH p, CASE WHEN $keepMasked
             THEN row {.*, idNumber: coalesce(row.idNumber, p.idNumber), phone: coalesce(row.phone, p.phone)}
             ELSE row END AS row
WITH p, row,
     p.updatedAt IS NULL OR p.name <> row.name OR p.gender <> row.gender OR p.birthDate <> row.birthDate
     OR NOT coalesce(p.idNumber = row.idNumber, p.idNumber IS NULL AND row.idNumber IS NULL)
     OR NOT coalesce(p.phone = row.phone, p.phone IS NULL AND row.phone IS NULL)
     OR NOT coalesce(p.deceasedOn = row.deceasedOn, p.deceasedOn IS NULL AND row.deceasedOn IS NULL)
     OR NOT CASE WHEN row.household IS NULL THEN NOT EXISTS { (p)-[:MEMBER_OF]->() }
                 ELSE EXISTS { (p)-[:MEMBER_OF]->(:Household {id: row.household}) } END AS changed
SET p.name = row.name, p.gender = row.gender, p.birthDate = row.birthDate, p.idNumber = row.idNumber,
    p.phone = row.phone, p.deceasedOn = row.deceasedOn,
    p.updatedAt = CASE WHEN changed THEN $at ELSE p.updatedAt END
WITH p, row
CALL (p, row) {
    MATCH (p)-[old:MEMBER_OF]->(h) WHERE row.household IS NULL OR h.id <> row.household
    DELETE old
}
FOREACH (id IN CASE WHEN row.household IS NULL THEN [] ELSE [row.household] END |
    MERGE (h:Household {id: id})
    MERGE (p)-[:MEMBER_OF]->(h)
)
WITH p, row
OPTIONAL MATCH (h:Household {id: row.household})
SET p.regionCode = h.regionCode
""",
        unique=("person_id", "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE"),
        read="""
UNWIND $keys AS id
MATCH (p:Person {id: id})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(h:Household)
RETURN collect({id: p.id, name: p.name, gender: p.gender, birthDate: p.birthDate, idNumber: p.idNumber,
                household: h.id, phone: p.phone, deceasedOn: p.deceasedOn}) AS rows
""",
        edges={"household": "-[:MEMBER_OF]->(:Household)"},
        also="`idNumber` unique when present; `regionCode` (the household's village), `updatedAt`",
    ),
)  # fmt: skip

# --- institution --------------------------------------------------------------------------

INSTITUTION: Final = Kind(
    "institution",
    (
        _f("id", "id"), _f("name", "text"), _f("type", "enum", values=INSTITUTION_TYPES),
        _f("region", "code", refs=("region",)), _f("services", "enums", values=SERVICES),
        _opt("capacity", "count"),
    ),
    key="id",
    store=Store(
        "node", "Institution", write="""
UNWIND $batch.rows AS row
MERGE (i:Institution {id: row.id})
WITH i, row,
     i.updatedAt IS NULL OR i.name <> row.name OR i.type <> row.type OR i.regionCode <> row.region
     OR i.services <> row.services
     OR NOT coalesce(i.capacity = row.capacity, i.capacity IS NULL AND row.capacity IS NULL) AS changed
SET i.name = row.name, i.type = row.type, i.services = row.services, i.capacity = row.capacity,
    i.regionCode = row.region, i.updatedAt = CASE WHEN changed THEN $at ELSE i.updatedAt END
WITH i, row
CALL (i, row) {
    MATCH (i)-[old:LOCATED_IN]->(r) WHERE r.code <> row.region
    DELETE old
}
MERGE (r:Region {code: row.region})
MERGE (i)-[:LOCATED_IN]->(r)
""",
        unique=(
            "institution_id",
            "CREATE CONSTRAINT institution_id IF NOT EXISTS FOR (i:Institution)"
            " REQUIRE i.id IS UNIQUE",
        ),
        read="""
UNWIND $keys AS id
MATCH (i:Institution {id: id})
OPTIONAL MATCH (i)-[:LOCATED_IN]->(r:Region)
RETURN collect({id: i.id, name: i.name, type: i.type, region: coalesce(r.code, i.regionCode),
                services: i.services, capacity: i.capacity}) AS rows
""",
        edges={"region": "-[:LOCATED_IN]->(:Region)"},
        also="`services` is a list; `regionCode` (its own region), `updatedAt`",
    ),
)  # fmt: skip

# --- parent -------------------------------------------------------------------------------

PARENT: Final = Kind(
    "parent",
    (
        _f("parent", "id", refs=PERSON), _f("child", "id", refs=PERSON),
        _f("type", "enum", values=PARENT_TYPES),
    ),
    store=Store(
        "edge", "PARENT_OF", start=_end("parent", "Person"), end=_end("child", "Person"),
        write="""
UNWIND $batch.rows AS row
MATCH (p:Person {id: row.parent}), (c:Person {id: row.child})
MERGE (p)-[r:PARENT_OF]->(c)
SET r.type = row.type
""",
    ),
)  # fmt: skip

# --- guardian -----------------------------------------------------------------------------

GUARDIAN: Final = Kind(
    "guardian",
    (
        _f("guardian", "id", refs=("person", "institution")), _f("child", "id", refs=PERSON),
        _SINCE, _UNTIL, _f("basis", "enum", values=GUARDIAN_BASES, doc="parent, relative, court_appointed or state"),
    ),
    interval=True,
    store=Store(
        "edge", "GUARDIAN_OF", key=("since",), start=_end("guardian", "Person", "Institution"),
        end=_end("child", "Person"), write="""
UNWIND $batch.rows AS row
MATCH (c:Person {id: row.child})
OPTIONAL MATCH (person:Person {id: row.guardian})
OPTIONAL MATCH (institution:Institution {id: row.guardian})
WITH c, row, coalesce(person, institution) AS g
WHERE g IS NOT NULL
MERGE (g)-[r:GUARDIAN_OF {since: row.since}]->(c)
SET r.until = row.until, r.basis = row.basis
""",
    ),
    mutations=Mutations(
        "setGuardian", "endGuardian", anchor="child",
        pattern="(a:Person|Institution {id: $guardian})-[r:GUARDIAN_OF]->(b:Person {id: $child})",
        create="MATCH (a:Person|Institution {id: $guardian}), (b:Person {id: $child})"
        " CREATE (a)-[r:GUARDIAN_OF]->(b)" + CREATE_SET,
        summary="A legal guardian (a person or an institution) of a child.",
        record_doc="Record a legal guardian of a child from `since`.",
        end_doc="End a guardianship.",
    ),
)  # fmt: skip

# --- care ---------------------------------------------------------------------------------

CARE: Final = Kind(
    "care",
    (
        _f("caregiver", "id", refs=PERSON), _f("child", "id", refs=PERSON), _SINCE, _UNTIL,
        _opt("agreementSignedOn", "date", doc="书面照护协议: when signed."),
        _opt("entrustedBy", "id", refs=PERSON, doc="The guardian entrusting."),
    ),
    interval=True,
    store=Store(
        "edge", "CARES_FOR", key=("since",), start=_end("caregiver", "Person"), end=_end("child", "Person"),
        write="""
UNWIND $batch.rows AS row
MATCH (g:Person {id: row.caregiver}), (c:Person {id: row.child})
MERGE (g)-[r:CARES_FOR {since: row.since}]->(c)
SET r.until = row.until, r.agreementSignedOn = row.agreementSignedOn, r.entrustedBy = row.entrustedBy
""",
        also="`entrustedBy` is a person id",
    ),
    mutations=Mutations(
        "recordCare", "endCare", anchor="child",
        pattern="(a:Person {id: $caregiver})-[r:CARES_FOR]->(b:Person {id: $child})",
        create="MATCH (a:Person {id: $caregiver}), (b:Person {id: $child})"
        " CREATE (a)-[r:CARES_FOR]->(b)" + CREATE_SET,
        summary="Day-to-day care by an entrusted caregiver, with its written agreement.",
        record_doc="Record that a caregiver looks after a child from `since`.",
        end_doc="End a care arrangement.",
    ),
)  # fmt: skip

# --- away ---------------------------------------------------------------------------------

AWAY: Final = Kind(
    "away",
    (
        # `destinationRegion` is where someone works, usually outside the bundle's county:
        # a well-formed code, not a reference.
        _f("person", "id", refs=PERSON), _SINCE, _UNTIL, _f("destination", "text"),
        _opt("destinationRegion", "code"),
    ),
    interval=True,
    store=Store(
        "interval_node", "AwayEpisode", key=("person", "since"), start=_end("person", "Person"), via="AWAY",
        unique=("away_key", "CREATE CONSTRAINT away_key IF NOT EXISTS FOR (a:AwayEpisode) REQUIRE a.key IS UNIQUE"),
        write="""
UNWIND $batch.rows AS row
MATCH (p:Person {id: row.person})
MERGE (a:AwayEpisode {key: row.key})
SET a.since = row.since, a.until = row.until, a.destination = row.destination,
    a.destinationRegion = row.destinationRegion
MERGE (p)-[:AWAY]->(a)
""",
    ),
    mutations=Mutations(
        "recordAway", "endAway", anchor="person",
        pattern="(b:Person {id: $person})-[:AWAY]->(r:AwayEpisode)",
        create="MATCH (b:Person {id: $person})"
        " CREATE (b)-[:AWAY]->(r:AwayEpisode)" + CREATE_SET,
        summary="A time a person is away for work (外出务工).",
        record_doc="Record a time away for work.",
        end_doc="End a time away (the person came back).",
    ),
)  # fmt: skip

# --- condition ----------------------------------------------------------------------------

CONDITION: Final = Kind(
    "condition",
    (
        _f("person", "id", refs=PERSON), _f("type", "enum", values=CONDITIONS), _SINCE, _UNTIL,
    ),
    interval=True,
    store=Store(
        "interval_node", "Condition", key=("person", "type", "since"), start=_end("person", "Person"),
        unique=(
            "condition_key",
            "CREATE CONSTRAINT condition_key IF NOT EXISTS FOR (c:Condition)"
            " REQUIRE c.key IS UNIQUE",
        ),
        via="HAS_CONDITION", write="""
UNWIND $batch.rows AS row
MATCH (p:Person {id: row.person})
MERGE (c:Condition {key: row.key})
SET c.type = row.type, c.since = row.since, c.until = row.until
MERGE (p)-[:HAS_CONDITION]->(c)
""",
    ),
    mutations=Mutations(
        "recordCondition", "endCondition", anchor="person",
        pattern="(b:Person {id: $person})-[:HAS_CONDITION]->(r:Condition {type: $type})",
        create="MATCH (b:Person {id: $person})"
        " CREATE (b)-[:HAS_CONDITION]->(r:Condition)" + CREATE_SET,
        summary="A condition of a person (missing, imprisoned, abuse_record, ...).",
        record_doc="Record a condition of a person.",
        end_doc="End a condition.",
    ),
)  # fmt: skip

# --- enrollment ---------------------------------------------------------------------------

ENROLLMENT: Final = Kind(
    "enrollment",
    (
        _f("child", "id", refs=PERSON), _f("institution", "id", refs=("institution",)),
        _SINCE, _UNTIL, _opt("grade", "text"), _opt("boarding", "bool"),
    ),
    interval=True,
    store=Store(
        "edge", "ENROLLED_IN", key=("since",), start=_end("child", "Person"), end=_end("institution", "Institution"),
        write="""
UNWIND $batch.rows AS row
MATCH (c:Person {id: row.child}), (i:Institution {id: row.institution})
MERGE (c)-[r:ENROLLED_IN {since: row.since}]->(i)
SET r.until = row.until, r.grade = row.grade, r.boarding = row.boarding
""",
    ),
    mutations=Mutations(
        "enrolChild", "endEnrollment", anchor="child",
        pattern="(b:Person {id: $child})-[r:ENROLLED_IN]->(a:Institution {id: $institution})",
        create="MATCH (a:Institution {id: $institution}), (b:Person {id: $child})"
        " CREATE (b)-[r:ENROLLED_IN]->(a)" + CREATE_SET,
        summary="A child's enrollment in a school or kindergarten.",
        record_doc="Enrol a child in a school.",
        end_doc="End an enrollment (left or graduated).",
    ),
)  # fmt: skip

# --- placement ----------------------------------------------------------------------------

PLACEMENT: Final = Kind(
    "placement",
    (
        _f("child", "id", refs=PERSON), _f("institution", "id", refs=("institution",)),
        _SINCE, _UNTIL,
    ),
    interval=True,
    store=Store(
        "edge", "PLACED_IN", key=("since",), start=_end("child", "Person"), end=_end("institution", "Institution"),
        write="""
UNWIND $batch.rows AS row
MATCH (c:Person {id: row.child}), (i:Institution {id: row.institution})
MERGE (c)-[r:PLACED_IN {since: row.since}]->(i)
SET r.until = row.until
""",
    ),
)  # fmt: skip

# --- pairing ------------------------------------------------------------------------------

PAIRING: Final = Kind(
    "pairing",
    (
        _f("volunteer", "id", refs=PERSON), _f("child", "id", refs=PERSON), _SINCE, _UNTIL,
    ),
    interval=True,
    store=Store(
        "edge", "PAIRED_WITH", key=("since",), start=_end("volunteer", "Person"), end=_end("child", "Person"),
        write="""
UNWIND $batch.rows AS row
MATCH (v:Person {id: row.volunteer}), (c:Person {id: row.child})
MERGE (v)-[r:PAIRED_WITH {since: row.since}]->(c)
SET r.until = row.until
""",
    ),
    mutations=Mutations(
        "pairVolunteer", "unpairVolunteer", anchor="child",
        pattern="(a:Person {id: $volunteer})-[r:PAIRED_WITH]->(b:Person {id: $child})",
        create="MATCH (a:Person {id: $volunteer}), (b:Person {id: $child})"
        " CREATE (a)-[r:PAIRED_WITH]->(b)" + CREATE_SET,
        summary="A volunteer or cadre paired with a child (结对帮扶).",
        record_doc="Pair a volunteer with a child.",
        end_doc="End a pairing.",
    ),
)  # fmt: skip

# --- staff --------------------------------------------------------------------------------

# Staff serve an institution when one is named, else a region.
STAFF: Final = Kind(
    "staff",
    (
        _f("person", "id", refs=PERSON), _f("role", "enum", values=STAFF_ROLES),
        _opt("region", "code", refs=("region",)),
        _opt("institution", "id", refs=("institution",)), _SINCE, _UNTIL,
    ),
    interval=True,
    store=Store(
        "edge", "SERVES", key=("since",), start=_end("person", "Person"), end=_end(None, "Region", "Institution"),
        write="""
UNWIND $batch.rows AS row
MATCH (p:Person {id: row.person})
OPTIONAL MATCH (i:Institution {id: row.institution})
OPTIONAL MATCH (r:Region {code: row.region})
WITH p, row, coalesce(i, r) AS target
WHERE target IS NOT NULL
MERGE (p)-[s:SERVES {since: row.since}]->(target)
SET s.role = row.role, s.until = row.until, s.regionCode = row.region, s.institutionId = row.institution
""",
        stored_as={"region": "regionCode", "institution": "institutionId"},
        also="target: the institution when given, else the region",
    ),
)  # fmt: skip

# --- registration -------------------------------------------------------------------------

REGISTRATION: Final = Kind(
    "registration",
    (
        _f("child", "id", refs=PERSON), _f("category", "enum", values=CATEGORIES),
        _SINCE, _UNTIL,
    ),
    interval=True,
    store=Store(
        "interval_node", "Registration", key=("child", "category", "since"), start=_end("child", "Person"),
        unique=(
            "registration_key",
            "CREATE CONSTRAINT registration_key IF NOT EXISTS FOR (r:Registration)"
            " REQUIRE r.key IS UNIQUE",
        ),
        via="REGISTERED", write="""
UNWIND $batch.rows AS row
MATCH (p:Person {id: row.child})
MERGE (r:Registration {key: row.key})
SET r.category = row.category, r.since = row.since, r.until = row.until
MERGE (p)-[:REGISTERED]->(r)
""",
    ),
    mutations=Mutations(
        "registerChild", "deregisterChild", anchor="child",
        pattern="(b:Person {id: $child})-[:REGISTERED]->(r:Registration {category: $category})",
        create="MATCH (b:Person {id: $child})"
        " CREATE (b)-[:REGISTERED]->(r:Registration)" + CREATE_SET,
        summary="A registration of a child in a category (left_behind, orphan, ...).",
        record_doc="Register a child in a category (coordinators).",
        end_doc="End a child's registration in a category (coordinators).",
    ),
)  # fmt: skip

# --- contact ------------------------------------------------------------------------------

CONTACT: Final = Kind(
    "contact",
    (
        _f("from", "id", refs=PERSON), _f("child", "id", refs=PERSON),
        _f("on", "date", no_future=True), _f("channel", "enum", values=CHANNELS),
    ),
    store=Store(
        "edge", "CONTACTED", key=("on", "channel"), start=_end("from", "Person"), end=_end("child", "Person"),
        write="""
UNWIND $batch.rows AS row
MATCH (f:Person {id: row.from}), (c:Person {id: row.child})
MERGE (f)-[:CONTACTED {on: row.on, channel: row.channel}]->(c)
""",
        also="parent or guardian to child",
    ),
)  # fmt: skip

# --- visit --------------------------------------------------------------------------------

VISIT: Final = Kind(
    "visit",
    (
        _f("visitor", "id", refs=PERSON), _f("child", "id", refs=PERSON),
        _f("on", "date", no_future=True), _f("type", "enum", values=VISIT_TYPES),
        _opt("notes", "text"),
    ),
    store=Store(
        "edge", "VISITED", key=("on", "type", "notes"), start=_end("visitor", "Person"),
        end=_end("child", "Person"),
        # A visit line has no id: every field identifies it (graph.visits), so a line kept
        # already adds nothing and one with other notes is another visit. Identical lines of
        # one bundle are one; MERGE cannot match a null `notes`, hence the explicit check.
        write="""
UNWIND $batch.rows AS row
WITH DISTINCT row.visitor AS visitor, row.child AS child, row.on AS on, row.type AS type, row.notes AS notes
MATCH (v:Person {id: visitor}), (c:Person {id: child})
SET c.visitLock = true
REMOVE c.visitLock
WITH v, c, on, type, notes
WHERE NOT EXISTS {
  (v)-[same:VISITED {on: on, type: type}]->(c)
  WHERE coalesce(same.notes = notes, same.notes IS NULL AND notes IS NULL)
}
CREATE (v)-[e:VISITED {on: on, type: type}]->(c)
SET e.notes = notes
""",
        also="visitor to child; identified by every field, notes included",
    ),
)  # fmt: skip

# --- report -------------------------------------------------------------------------------

REPORT: Final = Kind(
    "report",
    (
        _f("id", "id"), _f("child", "id", refs=PERSON), _opt("reporter", "id", refs=PERSON),
        _f("reporterRole", "enum", values=REPORTER_ROLES),
        _f("at", "datetime", no_future=True),
        _f("category", "enum", values=REPORT_CATEGORIES),
        _f("urgency", "enum", values=URGENCIES), _f("description", "text"),
    ),
    key="id",
    store=Store(
        "node", "Report", write="""
UNWIND $batch.rows AS row
MERGE (r:Report {id: row.id})
SET r.at = row.at, r.reporterRole = row.reporterRole, r.category = row.category,
    r.urgency = row.urgency, r.description = row.description
WITH r, row
CALL (r, row) {
    MATCH (r)-[old:ABOUT]->(c) WHERE c.id <> row.child
    DELETE old
}
CALL (r, row) {
    MATCH (p)-[old:REPORTED]->(r) WHERE row.reporter IS NULL OR p.id <> row.reporter
    DELETE old
}
MERGE (c:Person {id: row.child})
MERGE (r)-[:ABOUT]->(c)
FOREACH (id IN CASE WHEN row.reporter IS NULL THEN [] ELSE [row.reporter] END |
    MERGE (p:Person {id: id})
    MERGE (p)-[:REPORTED]->(r)
)
""",
        unique=("report_id", "CREATE CONSTRAINT report_id IF NOT EXISTS FOR (r:Report) REQUIRE r.id IS UNIQUE"),
        read="""
UNWIND $keys AS id
MATCH (r:Report {id: id})
OPTIONAL MATCH (r)-[:ABOUT]->(child:Person)
OPTIONAL MATCH (reporter:Person)-[:REPORTED]->(r)
RETURN collect({id: r.id, child: child.id, reporter: reporter.id, reporterRole: r.reporterRole, at: r.at,
                category: r.category, urgency: r.urgency, description: r.description}) AS rows
""",
        edges={"child": "-[:ABOUT]->(:Person)", "reporter": "(:Person)-[:REPORTED]->"},
    ),
)  # fmt: skip

# --- case ---------------------------------------------------------------------------------

# A case's history starts with the stage it was imported at; a later import that changes the
# stage records that change too.
CASE: Final = Kind(
    "case",
    (
        _f("id", "id"), _f("child", "id", refs=PERSON), _f("openedOn", "date"),
        _f("stage", "enum", values=CASE_STAGES), _opt("worker", "id", refs=PERSON),
        _opt("report", "id", refs=("report",)),
    ),
    key="id",
    store=Store(
        "node", "Case", write="""
UNWIND $batch.rows AS row
MERGE (c:Case {id: row.id})
WITH c, row, c.stage AS previous,
     c.updatedAt IS NULL OR c.openedOn <> row.openedOn OR c.stage <> row.stage AS changed
SET c.openedOn = row.openedOn, c.stage = row.stage,
    c.updatedAt = CASE WHEN changed THEN $at ELSE c.updatedAt END
WITH c, row, previous
CALL (c, row) {
    MATCH (c)-[old:CONCERNS]->(p) WHERE p.id <> row.child
    DELETE old
}
CALL (c, row) {
    MATCH (c)-[old:ASSIGNED_TO]->(p) WHERE row.worker IS NULL OR p.id <> row.worker
    DELETE old
}
CALL (c, row) {
    MATCH (c)-[old:FROM_REPORT]->(r) WHERE row.report IS NULL OR r.id <> row.report
    DELETE old
}
MERGE (child:Person {id: row.child})
MERGE (c)-[:CONCERNS]->(child)
FOREACH (id IN CASE WHEN row.worker IS NULL THEN [] ELSE [row.worker] END |
    MERGE (worker:Person {id: id})
    MERGE (c)-[:ASSIGNED_TO]->(worker)
)
FOREACH (id IN CASE WHEN row.report IS NULL THEN [] ELSE [row.report] END |
    MERGE (report:Report {id: id})
    MERGE (c)-[:FROM_REPORT]->(report)
)
FOREACH (_ IN CASE WHEN previous IS NULL OR previous <> row.stage THEN [1] ELSE [] END |
    CREATE (c)-[:HAD_STAGE]->(:StageChange {stage: row.stage, at: $at, by: 'import'})
)
""",
        unique=("case_id", "CREATE CONSTRAINT case_id IF NOT EXISTS FOR (c:Case) REQUIRE c.id IS UNIQUE"),
        read="""
UNWIND $keys AS id
MATCH (c:Case {id: id})
OPTIONAL MATCH (c)-[:CONCERNS]->(child:Person)
OPTIONAL MATCH (c)-[:ASSIGNED_TO]->(worker:Person)
OPTIONAL MATCH (c)-[:FROM_REPORT]->(report:Report)
RETURN collect({id: c.id, child: child.id, openedOn: c.openedOn, stage: c.stage, worker: worker.id,
                report: report.id}) AS rows
""",
        edges={
            "child": "-[:CONCERNS]->(:Person)", "worker": "-[:ASSIGNED_TO]->(:Person)",
            "report": "-[:FROM_REPORT]->(:Report)",
        },
        also="`updatedAt`; `-[:HAD_STAGE]->(:StageChange {stage, at, by, note})`",
    ),
)  # fmt: skip

# --- referral -----------------------------------------------------------------------------

REFERRAL: Final = Kind(
    "referral",
    (
        _f("id", "id"), _f("case", "id", refs=("case",)),
        _f("institution", "id", refs=("institution",)), _f("service", "enum", values=SERVICES),
        _f("on", "date", no_future=True), _f("dueOn", "date"),
        _f("status", "enum", values=REFERRAL_STATUSES), _opt("reason", "text"),
    ),
    key="id",
    store=Store(
        "node", "Referral", write="""
UNWIND $batch.rows AS row
MERGE (f:Referral {id: row.id})
WITH f, row, f.status AS previous,
     f.updatedAt IS NULL OR f.service <> row.service OR f.on <> row.on OR f.dueOn <> row.dueOn
     OR f.status <> row.status
     OR NOT coalesce(f.reason = row.reason, f.reason IS NULL AND row.reason IS NULL) AS changed
SET f.service = row.service, f.on = row.on, f.dueOn = row.dueOn, f.status = row.status,
    f.reason = row.reason, f.updatedAt = CASE WHEN changed THEN $at ELSE f.updatedAt END
WITH f, row, previous
CALL (f, row) {
    MATCH (c)-[old:REFERRED]->(f) WHERE c.id <> row.case
    DELETE old
}
CALL (f, row) {
    MATCH (f)-[old:TO]->(i) WHERE i.id <> row.institution
    DELETE old
}
MERGE (c:Case {id: row.case})
MERGE (c)-[:REFERRED]->(f)
MERGE (i:Institution {id: row.institution})
MERGE (f)-[:TO]->(i)
FOREACH (_ IN CASE WHEN previous IS NULL OR previous <> row.status THEN [1] ELSE [] END |
    CREATE (f)-[:HAD_STATUS]->(:StatusChange {status: row.status, at: $at, by: 'import'})
)
""",
        unique=("referral_id", "CREATE CONSTRAINT referral_id IF NOT EXISTS FOR (r:Referral) REQUIRE r.id IS UNIQUE"),
        read="""
UNWIND $keys AS id
MATCH (f:Referral {id: id})
OPTIONAL MATCH (c:Case)-[:REFERRED]->(f)
OPTIONAL MATCH (f)-[:TO]->(i:Institution)
RETURN collect({id: f.id, `case`: c.id, institution: i.id, service: f.service, `on`: f.on, dueOn: f.dueOn,
                status: f.status, reason: f.reason}) AS rows
""",
        edges={"case": "(:Case)-[:REFERRED]->", "institution": "-[:TO]->(:Institution)"},
        also="`updatedAt`; `-[:HAD_STATUS]->(:StatusChange {status, at, by, note})`",
    ),
)  # fmt: skip
# --- linked person ------------------------------------------------------------------------

LINKED_PERSON: Final = "linked_person"
# A person outside an export's region whom a record inside it names (a parent away in another
# village): only as far as the link requires. An import never writes nor checks it.
LINKED: Final = Kind(LINKED_PERSON, (_f("id", "id"), _f("name", "text")))

KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        REGION,
        HOUSEHOLD,
        PERSON_KIND,
        INSTITUTION,
        PARENT,
        GUARDIAN,
        CARE,
        AWAY,
        CONDITION,
        ENROLLMENT,
        PLACEMENT,
        PAIRING,
        STAFF,
        REGISTRATION,
        CONTACT,
        VISIT,
        REPORT,
        CASE,
        REFERRAL,
        LINKED,
    )
}

assert all(kind.store.unique is not None for kind in KINDS.values() if kind.store and kind.store.shape != "edge"), (
    "every stored node is unique by its key"
)

ENTITY_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.entity)
INTERVAL_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.interval)
#: Kinds an import accepts and never writes.
UNWRITTEN_KINDS: Final = frozenset(name for name, kind in KINDS.items() if kind.store is None)

#: Entity kinds in the order their cross-line checks run: every kind refers only to kinds
#: before it (a region to its parent region, which is checked level by level).
ENTITY_ORDER: Final = ("region", "household", "institution", "person", "report", "case", "referral")
