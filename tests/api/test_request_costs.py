"""What a request pays around its resolvers, paid once where the answer cannot differ:
a document's parse and validation once per text, a token's signature once per token; what
depends on the request (variables, the caller, the clock) is still checked every time."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
import pytest
from graphql import parse

from api.auth import AuthenticationError, TokenVerifier
from api.settings import Limits, Settings
from schema.cost import Documents
from schema.schema import build_schema
from tests.conftest import GraphQLClient, make_token

PAGED = 'query($n: Int) { children(region: "430524000000", first: $n) { totalCount } }'


async def test_one_document_serves_every_request_while_its_variables_are_checked_each_time(
    gql: GraphQLClient,
) -> None:
    within = await gql.execute(PAGED, {"n": 5}, role="coordinator", region="430524000000")
    assert "errors" not in within, within
    again = await gql.execute(PAGED, {"n": 50}, role="coordinator", region="430524000000")
    assert "errors" not in again, again
    # The same text, now a page over the maximum: refused before it runs, as on a first sight.
    beyond = await gql.execute(PAGED, {"n": 10**6}, role="coordinator", region="430524000000")
    assert beyond["data"] is None
    assert [e["extensions"] for e in beyond["errors"]] == [{"code": "BAD_USER_INPUT", "field": "first"}]


async def test_an_invalid_document_is_refused_every_time_it_is_sent(gql: GraphQLClient) -> None:
    query = "{ me { sub noSuchField } }"
    first = await gql.execute(query, role="admin")
    second = await gql.execute(query, role="coordinator", region="430524000000")
    assert first == second
    assert first["data"] is None
    assert first["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_subscription_over_http_is_refused_though_its_document_is_known(gql: GraphQLClient) -> None:
    subscription = 'subscription { alertRaised(region: "430524000000") { id } }'
    for _ in range(2):
        body = await gql.execute(subscription, role="coordinator", region="430524000000")
        assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "query"}


def test_documents_are_parsed_and_validated_once_per_text_and_kept_bounded() -> None:
    limits = Limits(max_depth=3)
    schema = build_schema(limits)._schema
    documents = Documents(limits, budget=21)
    rules: tuple[type, ...] = ()
    shallow, deep = "{ me { sub } }", "{ me { person { household { members { id } } } } }"
    prepared = documents.prepare(schema, shallow, parse(shallow), rules)
    assert prepared.errors == () and prepared.tokens == 6
    assert documents.get(shallow, rules) is prepared
    # The depth limit is one of the rules a cached result was checked against.
    refused = documents.prepare(schema, deep, parse(deep), rules)
    assert "exceeds maximum operation depth" in refused.errors[0].message
    assert refused.tokens == 15 and documents.tokens == 21
    documents.prepare(schema, "{ __typename }", parse("{ __typename }"), rules)
    assert len(documents) == 2 and documents.tokens == 18
    # The least recently used text went first; another rule set is another entry.
    assert documents.get(shallow, rules) is None
    assert documents.get(deep, rules) is refused
    assert documents.get(deep, (object,)) is None  # type: ignore[arg-type]


def test_a_verified_token_is_remembered_until_it_expires(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    verifier = TokenVerifier(settings)
    token = make_token(settings, "coordinator", region="430524000000", ttl=2)
    verified = verifier.verify_token(f"Bearer {token}")
    decode = verifier._decode
    decoded: list[str] = []

    def counting(raw: str) -> dict[str, Any]:
        decoded.append(raw)
        return decode(raw)

    monkeypatch.setattr(verifier, "_decode", counting)
    assert verifier.verify_token(f"Bearer {token}") is verified
    assert decoded == []
    # From its expiry second on the token is refused again, as PyJWT refuses it.
    time.sleep(max(0.0, verified.expires_at - time.time()) + 0.05)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify_token(f"Bearer {token}")
    assert decoded == [token]


def test_a_refused_token_is_not_remembered_and_the_cache_is_bounded(settings: Settings) -> None:
    verifier = TokenVerifier(settings, cache_size=2)
    expired = make_token(settings, "admin", ttl=1)
    time.sleep(1.1)
    for _ in range(2):
        with pytest.raises(AuthenticationError, match="expired"):
            verifier.verify_token(f"Bearer {expired}")
    tokens = [make_token(settings, "admin", sub=f"s{i}") for i in range(3)]
    callers = [verifier.verify(f"Bearer {token}") for token in tokens]
    assert [caller.sub for caller in callers] == ["s0", "s1", "s2"]
    assert list(verifier._verified) == tokens[1:]


async def test_responses_are_compact_utf8_json(client: httpx.AsyncClient, settings: Settings) -> None:
    token = make_token(settings, "coordinator", region="430524000000", sub="守护")
    response = await client.post(
        "/graphql", json={"query": "{ me { sub role } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.headers["content-type"] == "application/json"
    assert response.content == '{"data":{"me":{"sub":"守护","role":"coordinator"}}}'.encode()
    assert orjson.loads(response.content) == {"data": {"me": {"sub": "守护", "role": "coordinator"}}}
