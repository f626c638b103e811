"""`me`: who the token says the caller is, so a client (and a newcomer) can check it before
writing: a write that names the caller (a visit's visitor) needs the subject to be a person."""

from __future__ import annotations

import strawberry

from api.context import Info
from graph import access
from schema.persons import Person
from schema.regions import Region


@strawberry.type(description="The caller, as their token names them.")
class Me:
    sub: str = strawberry.field(description="The token's subject: the caller's person id, or a system's id.")
    role: str
    region: str | None = strawberry.field(description="The 12-digit code at the root of the caller's scope.")
    institution_id: strawberry.ID | None = strawberry.field(description="institution_staff: their institution.")
    operations: list[str] = strawberry.field(
        description="The root fields and facets (docs/access.md) the caller's role may use, by name, so a "
        "client offers only what the caller can do; the server still refuses everything else."
    )

    @strawberry.field(description="The root region of the caller's scope; null when the role reads no regions.")
    async def scope(self, info: Info) -> Region | None:
        if self.region is None:
            return None
        record = await info.context.loaders.region.load(self.region)
        return None if record is None else Region.from_record(record)

    @strawberry.field(
        description="The caller's own person record when the subject is a person id in the caller's scope; "
        "null otherwise (then writes that name the caller, such as a visit's visitor, are refused)."
    )
    async def person(self, info: Info) -> Person | None:
        record = await info.context.loaders.person.load(self.sub)
        return None if record is None else Person.from_record(record)


@strawberry.type
class MeQueries:
    @strawberry.field(description="Who you are: your subject, role, scope and, if you are one, your person.")
    def me(self, info: Info) -> Me:
        caller = info.context.caller
        institution = None if caller.institution is None else strawberry.ID(caller.institution)
        operations = list(access.granted(caller.role))
        return Me(
            sub=caller.sub,
            role=caller.role.value,
            region=caller.region,
            institution_id=institution,
            operations=operations,
        )
