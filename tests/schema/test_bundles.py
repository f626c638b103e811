"""importBundle, exportBundle and importRuns through the API, with the roles that may use them."""

from __future__ import annotations

import orjson

from api.settings import Settings
from graph.driver import Graph
from tests.conftest import SAMPLE_COUNTY, GraphQLClient
from tests.data.make_county import inside_lines

IMPORT = """mutation($ndjson: String!, $mode: ImportMode) {
  importBundle(ndjson: $ndjson, mode: $mode) { ok written rejected { line field reason } }
}"""
EXPORT = "query($region: String!) { exportBundle(region: $region) }"
COUNTY = SAMPLE_COUNTY
INTEGRATOR = {"role": "integrator", "region": COUNTY}


async def node_count(graph: Graph) -> int:
    return int((await graph.read("MATCH (n) WHERE NOT n:ImportRun AND NOT n:AuditEvent RETURN count(n) AS n"))[0]["n"])


async def test_an_integrator_imports_the_sample_and_exports_it_without_id_numbers(
    clean_graph: Graph, gql: GraphQLClient
) -> None:
    # The county's own part of the sample: the integrator's scope is the county.
    sample = "\n".join(inside_lines())
    # The county and the regions above it are not the integrator's to create: an admin does.
    regions = [line for line in sample.splitlines() if '"kind": "region"' in line]
    above = [line for line in regions if f'"code": "{COUNTY[:6]}' not in line]
    above += [line for line in sample.splitlines() if f'"code": "{COUNTY}"' in line]
    assert len(above) == 3
    setup = await gql.execute(IMPORT, {"ndjson": "\n".join(above)}, role="admin")
    assert setup["data"]["importBundle"]["ok"]
    body = await gql.execute(IMPORT, {"ndjson": sample}, **INTEGRATOR)
    assert "errors" not in body, body["errors"]
    report = body["data"]["importBundle"]
    # Those three lines come back unchanged (the integrator's export holds them) and are not written.
    assert report == {"ok": True, "written": len(sample.splitlines()) - 3, "rejected": []}

    exported = (await gql.execute(EXPORT, {"region": COUNTY}, **INTEGRATOR))["data"]["exportBundle"]
    records = [orjson.loads(line) for line in exported.splitlines()]
    persons = [record for record in records if record["kind"] == "person"]
    assert len(persons) == sum(1 for line in sample.splitlines() if '"kind": "person"' in line)
    assert all("idNumber" not in person and "phone" not in person for person in persons)

    full = (await gql.execute(EXPORT, {"region": COUNTY}, role="admin"))["data"]["exportBundle"]
    assert any("idNumber" in orjson.loads(line) for line in full.splitlines())

    runs = await gql.execute("{ importRuns { status complete written } }", **INTEGRATOR)
    assert runs["data"] == {"importRuns": [{"status": "complete", "complete": True, "written": report["written"]}]}


async def test_one_bad_line_rejects_the_bundle_naming_line_and_field_and_writes_nothing(
    clean_graph: Graph, gql: GraphQLClient
) -> None:
    lines = [
        '{"kind": "region", "code": "360000000000", "name": "江西省", "level": "province", "parent": null}',
        '{"kind": "region", "code": "360700000000", "name": "赣州市", "level": "city", "parent": "360000000000"}',
        '{"kind": "region", "code": "36073", "name": "坏", "level": "county", "parent": "360700000000"}',
    ]
    body = await gql.execute(IMPORT, {"ndjson": "\n".join(lines)}, role="admin")
    report = body["data"]["importBundle"]
    assert report["ok"] is False and report["written"] == 0
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [(3, "code")]
    assert await node_count(clean_graph) == 0


async def test_bundles_are_refused_to_other_roles_out_of_scope_and_over_the_size_limit(
    clean_graph: Graph, gql: GraphQLClient, settings: Settings
) -> None:
    region = '{"kind": "region", "code": "430000000000", "name": "湖南省", "level": "province", "parent": null}'
    refused = await gql.execute(IMPORT, {"ndjson": region}, role="coordinator", region=COUNTY)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    household = '{"kind": "household", "id": "H1", "region": "430524100201", "lowIncome": []}'
    outside = await gql.execute(IMPORT, {"ndjson": household}, **INTEGRATOR)
    assert outside["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "line 1" in outside["errors"][0]["message"]
    big = "\n".join([region] * (settings.limits.max_bundle_bytes // len(region) + 1))
    too_big = await gql.execute(IMPORT, {"ndjson": big}, role="admin")
    assert too_big["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "shouhu import" in too_big["errors"][0]["message"]
    other_county = await gql.execute(EXPORT, {"region": "430524000000"}, **INTEGRATOR)
    assert other_county["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await node_count(clean_graph) == 0
