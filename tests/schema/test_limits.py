"""Request limits checked before anything runs: page sizes everywhere, cost from variables,
tokens in variables, and malformed input refused as BAD_USER_INPUT naming the field."""

from __future__ import annotations

from collections import deque

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    parse,
)

from api.settings import Limits
from schema.cost import Within, check, field_maximum, page_arguments
from schema.schema import build_schema
from tests.conftest import GraphQLClient

LIMITS = Limits()
SCHEMA: GraphQLSchema = build_schema(LIMITS)._schema


def _literal(type_: GraphQLInputType) -> str:
    """A literal of the type for a required argument (the check ignores its meaning)."""
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(type_, GraphQLList):
        return f"[{_literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return str(next(iter(type_.values)))
    if isinstance(type_, GraphQLInputObjectType):
        required = [
            f"{name}: {_literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None
        ]
        return "{" + ", ".join(required) + "}"
    return {"Int": "1", "Float": "1.0", "Boolean": "false"}.get(type_.name, '"x"')


def _call(name: str, field: GraphQLField, extra: str = "") -> str:
    required = [
        f"{arg}: {_literal(argument.type)}"
        for arg, argument in field.args.items()
        if isinstance(argument.type, GraphQLNonNull) and argument.default_value is None
    ]
    arguments = ", ".join([*required, extra] if extra else required)
    return f"{name}({arguments})" if arguments else name


def _leaf(type_: GraphQLOutputType) -> str:
    named = get_named_type(type_)
    return "" if isinstance(named, GraphQLScalarType | GraphQLEnumType) else " { __typename }"


def paged_fields() -> list[tuple[str, str, str, int]]:
    """(Type.field, argument, document with `ARG` for the page size, maximum) for every page
    argument in the schema, each reached from a root field by the shortest path."""
    found: list[tuple[str, str, str, int]] = []
    roots = [
        (SCHEMA.query_type, "query"),
        (SCHEMA.mutation_type, "mutation"),
        (SCHEMA.subscription_type, "subscription"),
    ]
    for root, keyword in roots:
        if root is None:
            continue
        queue: deque[tuple[GraphQLObjectType, list[str]]] = deque([(root, [])])
        reached = {root.name}
        while queue:
            parent, path = queue.popleft()
            for name, field in parent.fields.items():
                for argument in page_arguments(field):
                    inner = _call(name, field, f"{argument}: ARG") + _leaf(field.type)
                    document = inner
                    for step in reversed(path):
                        document = f"{step} {{ {document} }}"
                    found.append(
                        (f"{parent.name}.{name}", argument, f"{keyword} {{ {document} }}", field_maximum(field, LIMITS))
                    )
                target = get_named_type(field.type)
                if isinstance(target, GraphQLObjectType) and target.name not in reached:
                    reached.add(target.name)
                    queue.append((target, [*path, _call(name, field)]))
    return found


PAGED = paged_fields()


def test_the_schema_has_the_page_arguments_we_know_of() -> None:
    names = {name for name, *_ in PAGED}
    # A guard that the walk reaches nested fields too, not only root ones.
    assert {"Query.children", "Query.discover", "Person.recentContacts", "Region.households"} <= names
    assert len(PAGED) >= 15


@pytest.mark.parametrize(("coordinate", "argument", "document", "maximum"), PAGED, ids=[p[0] for p in PAGED])
def test_every_page_argument_refuses_sizes_out_of_range_as_literal_or_variable(
    coordinate: str, argument: str, document: str, maximum: int
) -> None:
    for size in (-100000, -1, 0, maximum + 1, 2**31 - 1):
        literal = document.replace("ARG", str(size))
        errors = check(SCHEMA, parse(literal), literal, None, {}, LIMITS)
        assert [(e.extensions or {}).get("field") for e in errors] == [argument], (coordinate, size)
        assert errors[0].extensions == {"code": "BAD_USER_INPUT", "field": argument}
        # The same size through a variable is refused alike: no way around the check.
        keyword, rest = document.split(" ", 1)
        variable = f"{keyword} ($n: Int) " + rest.replace("ARG", "$n")
        errors = check(SCHEMA, parse(variable), variable, None, {"n": size}, LIMITS)
        assert [(e.extensions or {}).get("code") for e in errors] == ["BAD_USER_INPUT"], (coordinate, size)
    within = document.replace("ARG", "1")
    assert check(SCHEMA, parse(within), within, None, {}, LIMITS) == []


CHILDREN = (
    'query ($n: Int) { children(region: "360732000000", first: $n) '
    "{ edges { node { recentVisits(first: 20) { on } } } } }"
)
#: Small enough that 400 children with 20 visits each are over it, 5 are not.
COSTLY = Limits(max_cost=5000)


def test_the_cost_of_a_page_given_in_a_variable_is_counted_at_its_value() -> None:
    literal = CHILDREN.replace("($n: Int) ", "").replace("$n", "400")
    refused = check(SCHEMA, parse(literal), literal, None, {}, COSTLY)
    assert [e.extensions for e in refused] == [{"code": "LIMIT_EXCEEDED"}]
    from_variable = check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": 400}, COSTLY)
    assert [e.message for e in from_variable] == [e.message for e in refused]
    assert check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": 5}, COSTLY) == []


def test_page_sizes_remembered_within_the_limits_let_no_other_size_through() -> None:
    within: Within = {}
    assert check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": 5}, COSTLY, within=within) == []
    assert within == {None: (frozenset({"n"}), {(("n", 5),)})}
    costly = check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": 400}, COSTLY, within=within)
    assert [e.extensions for e in costly] == [{"code": "LIMIT_EXCEEDED"}]
    for size in (0, -1, None):
        refused = check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": size}, COSTLY, within=within)
        assert refused == [] if size is None else refused, size  # null: the default page, within
    assert check(SCHEMA, parse(CHILDREN), CHILDREN, None, {"n": 5}, COSTLY, within=within) == []
    assert within[None][1] == {(("n", 5),), (("n", None),)}
    # The variables' tokens are counted on every request, remembered or not.
    query = 'query ($r: [String!]) { discover(region: "360732000000", rules: $r) { totalCount } }'
    assert check(SCHEMA, parse(query), query, None, {"r": ["NO_CAREGIVER"]}, LIMITS, within=within) == []
    many = {"r": ["NO_CAREGIVER"] * LIMITS.max_tokens}
    assert [e.extensions for e in check(SCHEMA, parse(query), query, None, many, LIMITS, within=within)] == [
        {"code": "LIMIT_EXCEEDED"}
    ]


def test_variables_count_against_the_token_limit() -> None:
    query = 'query ($r: [String!]) { discover(region: "360732000000", rules: $r) { totalCount } }'
    assert check(SCHEMA, parse(query), query, None, {"r": ["NO_CAREGIVER"] * 100}, LIMITS) == []
    errors = check(SCHEMA, parse(query), query, None, {"r": ["NO_CAREGIVER"] * LIMITS.max_tokens}, LIMITS)
    assert [e.extensions for e in errors] == [{"code": "LIMIT_EXCEEDED"}]
    assert "variables" in errors[0].message


async def test_a_negative_page_size_runs_nothing(gql: GraphQLClient) -> None:
    body = await gql.execute(
        '{ children(region: "360732000000", first: 2) { edges { node { recentContacts(first: -100000) { on } } } } }'
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}


MALFORMED = [
    # (document, variables, the field the error must name)
    ('{ discover(region: "360732000000", asOf: "0001-01-01") { totalCount } }', {}, "asOf"),
    ('{ discover(region: "360732000000", asOf: "9999-12-31") { totalCount } }', {}, "asOf"),
    ('query ($d: Date) { discover(region: "360732000000", asOf: $d) { totalCount } }', {"d": "0001-01-01"}, "d"),
    ('query ($d: Date) { children(region: "360732000000", asOf: $d) { totalCount } }', {"d": "2024-02-30"}, "d"),
    ('{ children(region: "360732000000", asOf: "20240101") { totalCount } }', {}, "asOf"),
    ('{ auditEvents(since: "2024-01-01T00:00:00") { id } }', {}, "since"),
    ('{ discover(region: "360732000000", first: 99999999999) { totalCount } }', {}, "first"),
    ('{ discover(region: "360732000000", after: "not-a-cursor") { totalCount } }', {}, "after"),
    ('{ discover(region: "360732000000", after: "WyJ4Il0") { totalCount } }', {}, "after"),
    ('{ discover(region: "360732000000", minLevel: "RED") { totalCount } }', {}, "minLevel"),
    ('query ($l: RiskLevel!) { discover(region: "360732000000", minLevel: $l) { totalCount } }', {"l": "PURPLE"}, "l"),
    ('{ discover(region: "４３０５２４００００００") { totalCount } }', {}, "region"),
    ('{ region(code: "４３０５２４００００００") { code } }', {}, "region"),
]


@pytest.mark.parametrize(("document", "variables", "field"), MALFORMED)
async def test_malformed_input_is_bad_user_input_naming_the_field(
    gql: GraphQLClient, document: str, variables: dict[str, object], field: str
) -> None:
    body = await gql.execute(document, variables)
    errors = body["errors"]
    assert isinstance(errors, list) and errors, body
    assert {(e["extensions"]["code"], e["extensions"].get("field")) for e in errors} == {("BAD_USER_INPUT", field)}
