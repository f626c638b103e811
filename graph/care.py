"""The interval records a case worker keeps current: care, guardians, away episodes,
conditions, registrations, pairings and enrollments.

Each is a bundle `kind` with `since`/`until` (docs/bundle-format.md) and is stored as graph/MODEL.md
says: a relationship (`CARES_FOR`, `GUARDIAN_OF`, `PAIRED_WITH`, `ENROLLED_IN`) or a node
(`AwayEpisode`, `Condition`, `Registration`) identified by its endpoints plus `since`.
Recording validates the fields as the bundle line would be, then writes a new record;
ending one sets its `until` (who, when and a note kept as `endedBy`, `endedAt`, `endNote`),
never deletes. History is never overwritten:

- recording the same record again (same identity and fields) returns it and writes nothing;
- the same identity with other fields, or a record overlapping an earlier one of the same
  endpoints (and type or category) in time, is a conflict: end the earlier one first;
- ending a record already ended is a conflict; an end before its `since` is bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, LiteralString

import orjson
from neo4j import AsyncManagedTransaction

from graph import writes
from graph.bundle.records import KINDS, Kind, Mutations
from graph.dates import native
from graph.driver import Graph
from graph.errors import Conflict, InvalidInput, NotFound, OutOfReach
from graph.writes import Actor, Outcome

RETURN_PROPS: LiteralString = " RETURN properties(r) AS props ORDER BY r.since"
END_SET: LiteralString = """
WHERE r.since = $since
SET r.until = $until, r.endedBy = $by, r.endedAt = datetime(), r.endNote = $note
RETURN properties(r) AS props
"""


@dataclass(frozen=True, slots=True)
class Spec:
    """One interval kind as its mutations see it, derived from its `Kind` and `Mutations` in
    `graph.bundle.records`. Who may write it is the access table's row of `operation` (and
    `end_operation`)."""

    kind: str
    operation: str  #: the record mutation's name; the end mutation is `end_operation`
    end_operation: str
    #: fields that with `since` identify a record (the endpoints, plus type or category)
    identity: tuple[str, ...]
    #: the field whose person must be in the caller's scope, through their household
    anchor: str
    #: MATCH pattern binding `r` to the records of one identity (any since)
    pattern: LiteralString
    create: LiteralString
    #: an interval node's `key` from its fields (None for a relationship)
    node_key: Callable[[Mapping[str, Any]], str | None]
    #: the other reference fields, which must be within reach: (field, the kinds it may be)
    references: tuple[tuple[str, tuple[str, ...]], ...] = ()
    siblings: LiteralString = field(init=False)
    end: LiteralString = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "siblings", "MATCH " + self.pattern + RETURN_PROPS)
        object.__setattr__(self, "end", "MATCH " + self.pattern + END_SET)

    def write(self, data: dict[str, Any]) -> dict[str, Any]:
        """The properties stored on the record: every field but the endpoints."""
        endpoints = {name for name in self.identity if name not in ("type", "category")}
        props = {name: value for name, value in data.items() if name not in endpoints}
        key = self.node_key(data)
        if key is not None:
            props["key"] = key
        return props


def _spec(kind: Kind, mutations: Mutations) -> Spec:
    assert kind.store is not None
    references = tuple((f.name, f.refs) for f in kind.fields if f.refs and f.name != mutations.anchor)
    assert all(set(refs) <= {"person", "institution"} for _, refs in references), kind.name
    return Spec(
        kind.name,
        mutations.record,
        mutations.end,
        kind.identity,
        mutations.anchor,
        mutations.pattern,
        mutations.create,
        node_key=kind.store.node_key,
        references=references,
    )


SPECS: Final[dict[str, Spec]] = {
    name: _spec(kind, kind.mutations) for name, kind in KINDS.items() if kind.mutations is not None
}

SIGN_AGREEMENT: LiteralString = """
MATCH (a:Person {id: $caregiver})-[r:CARES_FOR]->(b:Person {id: $child})
WHERE r.since = $since
SET r.agreementSignedOn = $signedOn, r.agreementRecordedBy = $by, r.agreementRecordedAt = datetime()
RETURN properties(r) AS props
"""

#: bookkeeping properties, not bundle fields
_STAMPS: Final = (
    "recordedBy",
    "recordedAt",
    "endedBy",
    "endedAt",
    "endNote",
    "key",
    "agreementRecordedBy",
    "agreementRecordedAt",
)


@dataclass(frozen=True, slots=True)
class IntervalRecord:
    kind: str
    #: the identifying fields (endpoints, and type or category), by bundle field name
    identity: dict[str, str]
    since: date
    until: date | None
    #: the kind's other bundle fields (agreementSignedOn, basis, grade, destination...)
    values: dict[str, Any]
    recorded_by: str | None
    recorded_at: datetime | None
    ended_by: str | None
    ended_at: datetime | None
    end_note: str | None

    @property
    def id(self) -> str:
        return "|".join([self.kind, *self.identity.values(), self.since.isoformat()])


def interval_record(spec: Spec, identity: dict[str, str], props: dict[str, Any]) -> IntervalRecord:
    values = {k: native(v) for k, v in props.items()}
    return IntervalRecord(
        kind=spec.kind,
        identity=identity,
        since=values["since"],
        until=values.get("until"),
        values={k: v for k, v in values.items() if k not in (*_STAMPS, "since", "until", *spec.identity)},
        recorded_by=values.get("recordedBy"),
        recorded_at=values.get("recordedAt"),
        ended_by=values.get("endedBy"),
        ended_at=values.get("endedAt"),
        end_note=values.get("endNote"),
    )


async def _siblings(tx: AsyncManagedTransaction, spec: Spec, identity: dict[str, str]) -> list[IntervalRecord]:
    found = await writes.rows(tx, spec.siblings, identity)
    return [interval_record(spec, identity, row["props"]) for row in found]


def _result_id(identity: dict[str, str], since: date) -> str:
    return orjson.dumps(identity | {"since": since.isoformat()}).decode()


def _replay(spec: Spec) -> writes.Replay[IntervalRecord]:
    async def replay(tx: AsyncManagedTransaction, result_id: str) -> IntervalRecord:
        stored = orjson.loads(result_id)
        since = date.fromisoformat(stored.pop("since"))
        return next(r for r in await _siblings(tx, spec, stored) if r.since == since)

    return replay


async def _check_targets(tx: AsyncManagedTransaction, actor: Actor, spec: Spec, data: dict[str, Any]) -> str | None:
    """The anchor in scope and every person and institution it names within reach (see
    `graph.writes`); the anchor's region code."""
    region = await writes.person_in_scope(tx, actor, data[spec.anchor], spec.anchor)
    for name, refs in spec.references:
        value = data.get(name)
        if value is None:
            continue
        if "person" in refs:
            try:
                await writes.person_reference(tx, actor, value, name)
                continue
            except OutOfReach:
                if "institution" not in refs:
                    raise
        await writes.institution(tx, actor, value, region, name)
    return region


def _overlaps(a: IntervalRecord, since: date, until: date | None) -> bool:
    return (a.until is None or a.until >= since) and (until is None or until >= a.since)


async def record_interval(
    graph: Graph, actor: Actor, kind: str, fields: dict[str, Any], *, today: date, key: str | None = None
) -> IntervalRecord:
    """Record one interval of `kind` from its bundle fields (`since`, `until`, endpoints...)."""
    spec = SPECS[kind]

    async def work(tx: AsyncManagedTransaction) -> Outcome[IntervalRecord]:
        data = writes.validate_as(kind, fields, today=today)
        region = await _check_targets(tx, actor, spec, data)
        identity = {name: data[name] for name in spec.identity}
        result_id = _result_id(identity, data["since"])
        wanted = spec.write(data)
        for existing in await _siblings(tx, spec, identity):
            if existing.since == data["since"]:
                stored = {k: v for k, v in existing.values.items() if v is not None}
                asked = {
                    k: v
                    for k, v in wanted.items()
                    if v is not None and k not in ("since", "until", "key", *spec.identity)
                }
                if existing.until == data["until"] and stored == asked:
                    return Outcome(existing, result_id, list(identity.values()), region)
                raise Conflict(f"a {kind} record since {existing.since.isoformat()} exists with other details")
            if _overlaps(existing, data["since"], data["until"]):
                raise Conflict(
                    f"it overlaps the {kind} record since {existing.since.isoformat()}"
                    + ("" if existing.until is None else f" until {existing.until.isoformat()}")
                    + ": end that one first"
                )
        params = identity | {"props": wanted | {"recordedBy": actor.sub}}
        row = (await writes.rows(tx, spec.create, params))[0]
        return Outcome(interval_record(spec, identity, row["props"]), result_id, list(identity.values()), region)

    return await writes.perform(
        graph,
        actor,
        spec.operation,
        inputs=fields,
        work=work,
        replay=_replay(spec),
        key=key,
        ids=[str(v) for k, v in fields.items() if k in spec.identity and v is not None],
    )


async def _one(
    tx: AsyncManagedTransaction, actor: Actor, spec: Spec, identity: dict[str, str], since: date
) -> tuple[IntervalRecord, str | None]:
    """The record of `identity` since `since`, its anchor in scope."""
    region = await writes.person_in_scope(tx, actor, identity[spec.anchor], spec.anchor)
    for record in await _siblings(tx, spec, identity):
        if record.since == since:
            return record, region
    raise NotFound(f"no {spec.kind} record of {', '.join(identity.values())} since {since.isoformat()}")


async def end_interval(
    graph: Graph,
    actor: Actor,
    kind: str,
    identity: dict[str, str],
    since: date,
    until: date,
    *,
    note: str | None = None,
    key: str | None = None,
) -> IntervalRecord:
    """End the record of `identity` that began on `since`: its `until` is set, nothing deleted."""
    spec = SPECS[kind]
    inputs = identity | {"since": since.isoformat(), "until": until.isoformat(), "note": note}

    async def work(tx: AsyncManagedTransaction) -> Outcome[IntervalRecord]:
        if until < since:
            raise InvalidInput("until", f"{until.isoformat()} is before since {since.isoformat()}")
        record, region = await _one(tx, actor, spec, identity, since)
        if record.until is not None:
            raise Conflict(f"this {kind} record already ended on {record.until.isoformat()}")
        params = identity | {"since": since, "until": until, "by": actor.sub, "note": note}
        row = (await writes.rows(tx, spec.end, params))[0]
        return Outcome(
            interval_record(spec, identity, row["props"]), _result_id(identity, since), list(identity.values()), region
        )

    return await writes.perform(
        graph,
        actor,
        spec.end_operation,
        inputs=inputs,
        work=work,
        replay=_replay(spec),
        key=key,
        ids=list(identity.values()),
    )


async def sign_care_agreement(
    graph: Graph,
    actor: Actor,
    *,
    caregiver: str,
    child: str,
    since: date,
    signed_on: date,
    today: date,
    key: str | None = None,
) -> IntervalRecord:
    """Record that the written care agreement (书面照护协议) of a care record was signed."""
    spec = SPECS["care"]
    identity = {"caregiver": caregiver, "child": child}
    inputs = identity | {"since": since.isoformat(), "signedOn": signed_on.isoformat()}

    async def work(tx: AsyncManagedTransaction) -> Outcome[IntervalRecord]:
        if signed_on > today:
            raise InvalidInput("signedOn", f"{signed_on.isoformat()} is in the future")
        record, region = await _one(tx, actor, spec, identity, since)
        if record.values.get("agreementSignedOn") is not None:
            raise Conflict(f"the agreement was recorded as signed on {record.values['agreementSignedOn'].isoformat()}")
        params = identity | {"since": since, "signedOn": signed_on, "by": actor.sub}
        row = (await writes.rows(tx, SIGN_AGREEMENT, params))[0]
        return Outcome(
            interval_record(spec, identity, row["props"]), _result_id(identity, since), [caregiver, child], region
        )

    return await writes.perform(
        graph,
        actor,
        "signCareAgreement",
        inputs=inputs,
        work=work,
        replay=_replay(spec),
        key=key,
        ids=[caregiver, child],
    )
