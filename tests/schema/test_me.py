"""`me` through the API for each kind of caller, and the token command's warning about a
subject that is no person."""

from __future__ import annotations

import jwt
from click.testing import CliRunner

from api.cli import DEFAULT_SUB, main
from graph import access
from graph.callers import Role
from graph.driver import Graph
from tests.conftest import GraphQLClient
from tests.schema.casework import COUNTY, DIRECTOR, V1, build, data

ME = "{ me { sub role region institutionId scope { code level } person { id name } } }"


async def test_me_names_the_caller_and_their_person_when_in_scope(clean_graph: Graph, gql: GraphQLClient) -> None:
    await build(clean_graph)
    director = data(await gql.execute(ME, {}, **DIRECTOR))["me"]
    assert director == {
        "sub": "D1",
        "role": "children_director",
        "region": V1,
        "institutionId": None,
        "scope": {"code": V1, "level": "village"},
        "person": {"id": "D1", "name": "儿童主任"},
    }
    # A subject that is no person (the token's default) has none; the rest is still answered.
    nobody = data(await gql.execute(ME, {}, role="coordinator", region=COUNTY, sub=DEFAULT_SUB))["me"]
    assert nobody["person"] is None and nobody["scope"] == {"code": COUNTY, "level": "county"}
    # A person outside the caller's scope reads as absent, here as everywhere.
    outside = data(await gql.execute(ME, {}, role="children_director", region="360732101201", sub="D1"))["me"]
    assert outside["person"] is None and outside["sub"] == "D1"
    # Institution staff have an institution and no region; an auditor reads no persons.
    staff = data(await gql.execute(ME, {}, role="institution_staff", institution="SCH", sub="T1"))["me"]
    assert staff["institutionId"] == "SCH" and staff["region"] is None and staff["scope"] is None
    auditor = data(await gql.execute(ME, {}, role="auditor", region=COUNTY, sub="D1"))["me"]
    assert auditor["person"] is None and auditor["role"] == "auditor"


async def test_me_lists_what_the_role_may_use_from_the_access_table(clean_graph: Graph, gql: GraphQLClient) -> None:
    query = "{ me { operations } }"
    director = data(await gql.execute(query, {}, **DIRECTOR))["me"]["operations"]
    staff = data(await gql.execute(query, {}, role="institution_staff", institution="SCH", sub="T1"))["me"]
    for role, operations in (("children_director", director), ("institution_staff", staff["operations"])):
        assert operations == sorted(name for name in access.RULES if access.allowed(Role(role), name))
    # What a console shows follows: a director has a worklist and no referral inbox, staff the reverse.
    assert "worklist" in director and "referralInbox" not in director and "recordVisit" in director
    assert "referralInbox" in staff["operations"] and "worklist" not in staff["operations"]


def test_the_token_command_warns_when_the_subject_is_the_default(test_environment: dict[str, str]) -> None:
    runner = CliRunner(env=test_environment)
    help_text = runner.invoke(main, ["token", "--help"]).output
    assert "Must be the caller's person id" in " ".join(help_text.split())

    default = runner.invoke(main, ["token", "--role", "coordinator", "--region", COUNTY])
    assert default.exit_code == 0 and "warning: no --sub" in default.stderr
    assert jwt.decode(default.stdout.strip(), options={"verify_signature": False})["sub"] == DEFAULT_SUB

    named = runner.invoke(main, ["token", "--role", "coordinator", "--region", COUNTY, "--sub", "K1"])
    assert named.exit_code == 0 and named.stderr == ""
    assert jwt.decode(named.stdout.strip(), options={"verify_signature": False})["sub"] == "K1"
