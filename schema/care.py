"""Keeping a child's file current in GraphQL: the interval kinds of `graph.bundle.records` that
declare `Mutations` (care, guardians, away episodes, conditions, registrations, pairings and
enrollments; see `graph.care` for the rules).

Each such kind gets, from its table entry alone, an input type (`<Kind>Input`: its bundle
fields, references as `<field>Id`), a mutation writing a new interval from it, and one setting
the `until` of an interval identified by its endpoints and `since`. All return an
`IntervalRecord`, whose fields are every field of those kinds. Only the signing of a care
agreement, which no other kind has, is written out here.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Coroutine
from typing import Any, Final

import strawberry

from api.context import Info
from graph import care
from graph.bundle.records import KINDS, Field, Kind, Mutations
from graph.care import IntervalRecord as Record
from schema.writing import actor, idempotency_key, mutate

#: The Python type of a bundle field type in GraphQL inputs and results.
TYPES: Final[dict[str, Any]] = {
    "id": strawberry.ID,
    "text": str,
    "enum": str,
    "code": str,
    "date": dt.date,
    "datetime": dt.datetime,
    "bool": bool,
    "count": int,
}
KEPT: Final = {name: kind for name, kind in KINDS.items() if kind.mutations is not None}
UNTIL = "The last day it held (inclusive); default today."
_P = inspect.Parameter


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _python_name(spec: Field) -> str:
    """`caregiver` -> `caregiver_id` (GraphQL `caregiverId`), `agreementSignedOn` -> `agreement_signed_on`."""
    return _snake(spec.name) + ("_id" if spec.refs else "")


def _type(spec: Field) -> Any:
    return strawberry.ID if spec.refs else TYPES[spec.type]


def _mutations(kind: Kind) -> Mutations:
    assert kind.mutations is not None
    return kind.mutations


def _key() -> Any:
    return strawberry.field(default=None, description="Idempotency key for retries.")


# --- the record every mutation returns ------------------------------------------------------

#: Every field of the kept kinds but since/until, once, in the table's order.
RESULT_FIELDS: Final = tuple(
    {spec.name: spec for kind in KEPT.values() for spec in kind.fields if spec.name not in ("since", "until")}.values()
)


def _result_description(spec: Field) -> str | None:
    if spec.doc:
        return spec.doc
    return "A person or an institution." if set(spec.refs) == {"person", "institution"} else None


def _result_type() -> type:
    annotations: dict[str, Any] = {
        "kind": str,
        "id": strawberry.ID,
        "since": dt.date,
        "until": dt.date | None,
    }
    namespace: dict[str, Any] = {
        "kind": strawberry.field(description=", ".join(list(KEPT)[:-1]) + " or " + list(KEPT)[-1]),
        "id": strawberry.field(description="kind|endpoints…|since: the record's identity."),
    }
    for spec in RESULT_FIELDS:
        annotations[_python_name(spec)] = _type(spec) | None
        namespace[_python_name(spec)] = strawberry.field(description=_result_description(spec))
    annotations |= {
        "recorded_by": str | None,
        "recorded_at": dt.datetime | None,
        "ended_by": str | None,
        "ended_at": dt.datetime | None,
        "end_note": str | None,
    }
    namespace["__annotations__"] = annotations
    namespace["from_record"] = classmethod(_from_record)
    return strawberry.type(
        type("IntervalRecord", (), namespace), description="One interval record of a child's file, as written or ended."
    )


def _from_record(cls: type, record: Record) -> Any:
    every = record.identity | record.values
    values: dict[str, Any] = {}
    for spec in RESULT_FIELDS:
        value = every.get(spec.name)
        values[_python_name(spec)] = strawberry.ID(str(value)) if spec.refs and value is not None else value
    return cls(
        kind=record.kind,
        id=strawberry.ID(record.id),
        since=record.since,
        until=record.until,
        recorded_by=record.recorded_by,
        recorded_at=record.recorded_at,
        ended_by=record.ended_by,
        ended_at=record.ended_at,
        end_note=record.end_note,
        **values,
    )


IntervalRecord: Final[Any] = _result_type()


# --- inputs and mutations, per kept kind ----------------------------------------------------


def _input_type(kind: Kind) -> type:
    """`<Kind>Input`: the kind's fields, required ones first (as Python needs them)."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for spec in sorted(kind.fields, key=lambda spec: not spec.required):
        name = _python_name(spec)
        annotations[name] = _type(spec) if spec.required else _type(spec) | None
        if spec.required:
            if spec.doc:
                namespace[name] = strawberry.field(description=spec.doc)
        else:
            namespace[name] = strawberry.field(default=None, description=spec.doc or None)
    annotations["client_mutation_id"] = str | None
    namespace["client_mutation_id"] = _key()
    namespace["__annotations__"] = annotations
    cls = type(f"{kind.name.capitalize()}Input", (), namespace)
    return strawberry.input(cls, description=_mutations(kind).summary)


def _bundle(kind: Kind, values: Any) -> dict[str, Any]:
    """An input's values as the kind's bundle fields (references as plain ids)."""
    fields: dict[str, Any] = {}
    for spec in kind.fields:
        value = getattr(values, _python_name(spec))
        fields[spec.name] = str(value) if spec.refs and value is not None else value
    return fields


async def _record(info: Info, kind: str, fields: dict[str, Any], client_mutation_id: str | None) -> Any:
    record = await mutate(
        care.record_interval(
            info.context.graph,
            actor(info),
            kind,
            fields,
            today=info.context.today,
            key=idempotency_key(info, client_mutation_id),
        )
    )
    return IntervalRecord.from_record(record)


async def _end(
    info: Info,
    kind: str,
    identity: dict[str, str],
    since: dt.date,
    until: dt.date | None,
    note: str | None,
    client_mutation_id: str | None,
) -> Any:
    record = await mutate(
        care.end_interval(
            info.context.graph,
            actor(info),
            kind,
            identity,
            since,
            until or info.context.today,
            note=note,
            key=idempotency_key(info, client_mutation_id),
        )
    )
    return IntervalRecord.from_record(record)


Resolver = Callable[..., Coroutine[Any, Any, Any]]


def _signed(resolver: Resolver, parameters: list[inspect.Parameter]) -> Resolver:
    """`resolver` with the signature strawberry reads its arguments from."""
    head = [_P("self", _P.POSITIONAL_OR_KEYWORD), _P("info", _P.KEYWORD_ONLY, annotation=Info)]
    resolver.__signature__ = inspect.Signature(head + parameters, return_annotation=IntervalRecord)  # type: ignore[attr-defined]
    return resolver


def _record_mutation(kind: Kind) -> Any:
    input_type = _input_type(kind)

    async def record(self: Any, *, info: Info, input: Any) -> Any:
        return await _record(info, kind.name, _bundle(kind, input), input.client_mutation_id)

    record.__name__ = _snake(_mutations(kind).record)
    resolver = _signed(record, [_P("input", _P.KEYWORD_ONLY, annotation=input_type)])
    return strawberry.mutation(resolver=resolver, description=_mutations(kind).record_doc)


def _end_mutation(kind: Kind) -> Any:
    identity = [next(spec for spec in kind.fields if spec.name == name) for name in kind.identity]

    async def end(self: Any, *, info: Info, **arguments: Any) -> Any:
        ids = {spec.name: str(arguments[_python_name(spec)]) for spec in identity}
        return await _end(
            info,
            kind.name,
            ids,
            arguments["since"],
            arguments.get("until"),
            arguments.get("note"),
            arguments.get("client_mutation_id"),
        )

    end.__name__ = _snake(_mutations(kind).end)
    parameters = [_P(_python_name(spec), _P.KEYWORD_ONLY, annotation=_type(spec)) for spec in identity]
    parameters += [
        _P("since", _P.KEYWORD_ONLY, annotation=dt.date),
        _P("until", _P.KEYWORD_ONLY, annotation=dt.date | None, default=None),
        _P("note", _P.KEYWORD_ONLY, annotation=str | None, default=None),
        _P("client_mutation_id", _P.KEYWORD_ONLY, annotation=str | None, default=None),
    ]
    return strawberry.mutation(resolver=_signed(end, parameters), description=f"{_mutations(kind).end_doc} {UNTIL}")


async def _sign_care_agreement(
    self: Any,
    info: Info,
    caregiver_id: strawberry.ID,
    child_id: strawberry.ID,
    since: dt.date,
    signed_on: dt.date | None = None,
    client_mutation_id: str | None = None,
) -> IntervalRecord:
    record = await mutate(
        care.sign_care_agreement(
            info.context.graph,
            actor(info),
            caregiver=str(caregiver_id),
            child=str(child_id),
            since=since,
            signed_on=signed_on or info.context.today,
            today=info.context.today,
            key=idempotency_key(info, client_mutation_id),
        )
    )
    return IntervalRecord.from_record(record)


def _mutations_type() -> type:
    namespace: dict[str, Any] = {}
    for kind in KEPT.values():
        namespace[_snake(_mutations(kind).record)] = _record_mutation(kind)
        namespace[_snake(_mutations(kind).end)] = _end_mutation(kind)
    namespace["sign_care_agreement"] = strawberry.mutation(
        resolver=_sign_care_agreement,
        description="Record that the written agreement of a care arrangement was signed.",
    )
    return strawberry.type(type("CareMutations", (), namespace))


CareMutations: Final[Any] = _mutations_type()
