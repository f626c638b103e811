"""Keeping the file in the village in GraphQL (see `graph.village_file`): persons, households,
parent links and moves, each answered with the record as the caller now reads it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import strawberry

from api.context import Info
from graph import village_file
from graph.errors import InvalidInput
from schema.households import Household
from schema.persons import Person
from schema.writing import actor, idempotency_key

#: Bundle field names the validator may name -> this API's input names.
RENAMED = {"parent": "parentId", "child": "childId", "household": "householdId"}


async def _write(call: Awaitable[str]) -> str:
    try:
        return await call
    except InvalidInput as error:
        if error.field in RENAMED:
            raise InvalidInput(RENAMED[error.field], error.reason) from error
        raise


async def _person(info: Info, call: Awaitable[str]) -> Person:
    found = await info.context.loaders.person.load(await _write(call))
    assert found is not None, "a person just written in scope reads back"
    return Person.from_record(found)


async def _household(info: Info, call: Awaitable[str]) -> Household:
    found = await info.context.loaders.household.load(await _write(call))
    assert found is not None, "a household just written in scope reads back"
    return Household.from_record(found)


@strawberry.input(description="A household; field rules as the bundle's `household` line.")
class HouseholdInput:
    region: str = strawberry.field(description="Its village (12 digits), in your scope.")
    address: str | None = None
    low_income: list[str] = strawberry.field(default_factory=list, description="dibao, tekun, dibao_edge, ...")


@strawberry.input(description="A person's own details; field rules as the bundle's `person` line.")
class PersonDetails:
    name: str
    gender: str = strawberry.field(description="F or M")
    birth_date: dt.date
    phone: str | None = None
    deceased_on: dt.date | None = None


def _details(details: PersonDetails) -> dict[str, Any]:
    return {
        "name": details.name,
        "gender": details.gender,
        "birthDate": details.birth_date,
        "phone": details.phone,
        "deceasedOn": details.deceased_on,
    }


@strawberry.type
class VillageFileMutations:
    @strawberry.mutation(description="Create a household in a village of your scope; its id is the server's.")
    async def create_household(
        self, info: Info, input: HouseholdInput, client_mutation_id: str | None = None
    ) -> Household:
        call = village_file.create_household(
            info.context.graph, actor(info), region=input.region, address=input.address,
            low_income=input.low_income, today=info.context.today, key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _household(info, call)

    @strawberry.mutation(
        description="Correct a household's details (its village too, within your scope: its members move with it); "
        "the previous values are kept as a file correction."
    )
    async def correct_household(
        self, info: Info, id: strawberry.ID, input: HouseholdInput, note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Household:  # fmt: skip
        call = village_file.correct_household(
            info.context.graph, actor(info), str(id), region=input.region, address=input.address,
            low_income=input.low_income, note=note, today=info.context.today,
            key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _household(info, call)

    @strawberry.mutation(description="Create a person in a household of your scope; their id is the server's.")
    async def create_person(
        self, info: Info, household_id: strawberry.ID, input: PersonDetails, client_mutation_id: str | None = None
    ) -> Person:
        call = village_file.create_person(
            info.context.graph, actor(info), household=str(household_id), fields=_details(input),
            today=info.context.today, key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _person(info, call)

    @strawberry.mutation(
        description="Correct a person's own details (absent optional ones are removed); the previous values are "
        "kept as a file correction."
    )
    async def correct_person(
        self, info: Info, id: strawberry.ID, input: PersonDetails, note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Person:  # fmt: skip
        call = village_file.correct_person(
            info.context.graph, actor(info), str(id), fields=_details(input), note=note, today=info.context.today,
            key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _person(info, call)

    @strawberry.mutation(description="Move a person to another household; both must be in your scope.")
    async def move_person(
        self, info: Info, person_id: strawberry.ID, household_id: strawberry.ID, note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Person:  # fmt: skip
        call = village_file.move_person(
            info.context.graph, actor(info), str(person_id), household=str(household_id), note=note,
            key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _person(info, call)

    @strawberry.mutation(
        description="Record a parent of a child (biological, adoptive or step), or correct the link's type; "
        "answers the child."
    )
    async def link_parent(
        self, info: Info, parent_id: strawberry.ID, child_id: strawberry.ID, type: str,
        client_mutation_id: str | None = None,
    ) -> Person:  # fmt: skip
        call = village_file.link_parent(
            info.context.graph, actor(info), parent=str(parent_id), child=str(child_id), type=type,
            today=info.context.today, key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _person(info, call)

    @strawberry.mutation(description="Remove a parent link recorded in error (kept as a file correction).")
    async def end_parent_link(
        self, info: Info, parent_id: strawberry.ID, child_id: strawberry.ID, note: str | None = None,
        client_mutation_id: str | None = None,
    ) -> Person:  # fmt: skip
        call = village_file.end_parent_link(
            info.context.graph, actor(info), parent=str(parent_id), child=str(child_id), note=note,
            key=idempotency_key(info, client_mutation_id),
        )  # fmt: skip
        return await _person(info, call)
