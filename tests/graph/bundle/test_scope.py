"""What an integrator of one village may import, against the real database: the matrix of
every line kind x (in scope / out of scope / absent reference / move across regions), then
the lifecycle of re-imported cases and referrals and the ID-number oracle.

For every reference field the out-of-scope and the absent variant must be refused with the
same code and the same reason (but for the id the caller wrote), and no reason may hold a
value of a record outside the village (`SECRETS`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graph.bundle.records import ENTITY_KINDS, KINDS, LINKED_PERSON
from graph.bundle.scope import FORBIDDEN
from graph.bundle.validation import ID_NUMBER_REFUSED, Rejection, ValidationReport, validate_bundle
from graph.callers import Caller, Role
from graph.driver import Graph
from tests.conftest import wipe
from tests.graph.bundle.sealed_world import (
    ADMIN,
    C1_ID,
    C2_ID,
    COUNTY,
    F1_ID,
    INTEGRATOR,
    NOWHERE_VILLAGE,
    SECRETS,
    T1,
    T2,
    TODAY,
    V1,
    V2,
    W1,
    line,
    load_world,
)

#: A record of each kind outside V1, and a key no record holds.
OUTSIDE = {"person": "F1", "household": "H2", "institution": "I2", "region": V2, "case": "K2", "report": "RP2"}
ABSENT = {
    "person": "PX", "household": "HX", "institution": "IX", "region": NOWHERE_VILLAGE, "case": "KX", "report": "RPX",
}  # fmt: skip

#: Per kind, a line V1's integrator may import (new records and links, all inside V1).
IN_SCOPE: dict[str, dict[str, Any]] = {
    "household": {"id": "HN", "region": V1, "lowIncome": []},
    "institution": {"id": "IN", "name": "一村卫生室", "type": "hospital", "region": V1, "services": ["medical"]},
    "person": {"id": "PN", "name": "新人", "gender": "M", "birthDate": "2000-01-01", "household": "H1"},
    "parent": {"parent": "G1", "child": "C1", "type": "step"},
    "guardian": {"guardian": "G1", "child": "C1", "since": "2026-01-01", "basis": "relative"},
    "care": {"caregiver": "G1", "child": "C1", "since": "2026-01-01", "entrustedBy": "D1"},
    "away": {"person": "G1", "since": "2026-01-01", "destination": "长沙"},
    "condition": {"person": "G1", "type": "serious_illness", "since": "2026-01-01"},
    "enrollment": {"child": "C1", "institution": "I1", "since": "2026-01-01"},
    "placement": {"child": "C1", "institution": "I1", "since": "2026-01-01"},
    "pairing": {"volunteer": "D1", "child": "C1", "since": "2026-01-01"},
    "staff": {"person": "D1", "role": "children_director", "region": V1, "institution": "I1", "since": "2026-01-01"},
    "registration": {"child": "C1", "category": "in_difficulty", "since": "2026-01-01"},
    "contact": {"from": "G1", "child": "C1", "on": "2026-06-02", "channel": "phone"},
    "visit": {"visitor": "D1", "child": "C1", "on": "2026-06-02", "type": "home_visit"},
    "report": {
        "id": "RPN", "child": "C1", "reporter": "D1", "reporterRole": "village_committee",
        "at": "2026-06-01T10:00:00+08:00", "category": "neglect", "urgency": "normal", "description": "新报告",
    },
    "case": {"id": "KN", "child": "C1", "openedOn": "2026-06-01", "stage": "reported", "worker": "D1", "report": "RP1"},
    "referral": {
        "id": "RN", "case": "K1", "institution": "I1", "service": "family_guidance", "on": "2026-06-01",
        "dueOn": "2026-06-08", "status": "pending",
    },
    LINKED_PERSON: {"id": "F1", "name": "随便"},
}  # fmt: skip

#: Lines that would move a record across V1's boundary, or rewrite one outside: (kind, line, field).
MOVES: list[tuple[str, dict[str, Any], str]] = [
    ("household", {"id": "H2", "region": V1, "lowIncome": []}, "id"),
    ("household", {"id": "H1", "region": V2, "lowIncome": []}, "region"),
    ("institution", {"id": "I2", "name": "x", "type": "school", "region": V1, "services": ["education"]}, "id"),
    ("institution", {"id": "I1", "name": "x", "type": "school", "region": V2, "services": ["education"]}, "region"),
    ("person", {"id": "F1", "name": "x", "gender": "M", "birthDate": "1985-01-01", "household": "H1"}, "id"),
    ("person", {"id": "C1", "name": "x", "gender": "F", "birthDate": "2015-03-01", "household": "H2"}, "household"),
    ("person", {"id": "C1", "name": "x", "gender": "F", "birthDate": "2015-03-01"}, "household"),
    ("report", {**IN_SCOPE["report"], "id": "RP2"}, "id"),
    ("report", {**IN_SCOPE["report"], "id": "RP1", "child": "C2"}, "child"),
    ("case", {"id": "K2", "child": "C1", "openedOn": "2026-01-10", "stage": "closed"}, "id"),
    ("case", {"id": "K1", "child": "C2", "openedOn": "2026-05-01", "stage": "assessment"}, "child"),
    ("referral", {**IN_SCOPE["referral"], "id": "R2"}, "id"),
    ("referral", {**IN_SCOPE["referral"], "id": "R1", "institution": "I2", "service": "education"}, "institution"),
    ("referral", {**IN_SCOPE["referral"], "id": "R1", "case": "K2"}, "case"),
    # Regions at or above V1, beside it, or new beside it: none of them V1's to write.
    ("region", {"code": T1, "name": "改名镇", "level": "township", "parent": COUNTY}, "code"),
    ("region", {"code": COUNTY, "name": "改名县", "level": "county", "parent": "430500000000"}, "code"),
    ("region", {"code": V1, "name": "改名村", "level": "village", "parent": T1}, "code"),
    ("region", {"code": V2, "name": "二村", "level": "village", "parent": T1}, "code"),
    ("region", {"code": NOWHERE_VILLAGE, "name": "新村", "level": "village", "parent": T1}, "code"),
]


@dataclass(frozen=True, slots=True)
class Variant:
    kind: str
    field: str
    target: str


def variants() -> list[Variant]:
    """Every reference field of every kind with a line in scope."""
    found = []
    for kind, data in IN_SCOPE.items():
        for spec in KINDS[kind].fields:
            if spec.refs and spec.name in data:
                found.append(Variant(kind, spec.name, spec.refs[0]))
    return found


@pytest.fixture(scope="module")
async def world(graph: Graph, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Graph]:
    await wipe(graph)
    await load_world(graph, tmp_path_factory.mktemp("world"))
    yield graph
    await wipe(graph)


async def validate(graph: Graph, tmp_path: Path, records: list[dict[str, Any]], caller: Caller) -> ValidationReport:
    return await validate_bundle([line(record) for record in records], graph, today=TODAY, workdir=tmp_path,
                                 caller=caller)  # fmt: skip


async def only_rejection(graph: Graph, tmp_path: Path, kind: str, data: dict[str, Any]) -> Rejection:
    report = await validate(graph, tmp_path, [{"kind": kind, **data}], INTEGRATOR)
    assert len(report.rejections) == 1, (kind, data, report.rejections)
    rejection = report.rejections[0]
    leaked = [secret for secret in SECRETS if secret in rejection.reason]
    assert not leaked, (rejection.reason, leaked)
    return rejection


def test_the_matrix_covers_every_kind() -> None:
    assert set(IN_SCOPE) | {"region"} == set(KINDS)
    assert {kind for kind, _, _ in MOVES} == ENTITY_KINDS
    assert len(variants()) >= 30


@pytest.mark.parametrize("kind", sorted(IN_SCOPE))
async def test_a_line_inside_the_village_is_accepted(world: Graph, tmp_path: Path, kind: str) -> None:
    report = await validate(world, tmp_path, [{"kind": kind, **IN_SCOPE[kind]}], INTEGRATOR)
    assert report.ok, report.rejections
    assert report.unchanged == (frozenset({1}) if kind == LINKED_PERSON else frozenset())


@pytest.mark.parametrize("variant", variants(), ids=lambda v: f"{v.kind}.{v.field}")
async def test_a_reference_outside_reads_exactly_as_one_to_nothing(
    world: Graph, tmp_path: Path, variant: Variant
) -> None:
    base = IN_SCOPE[variant.kind]
    outside, absent = OUTSIDE[variant.target], ABSENT[variant.target]
    elsewhere = await only_rejection(world, tmp_path, variant.kind, {**base, variant.field: outside})
    nowhere = await only_rejection(world, tmp_path, variant.kind, {**base, variant.field: absent})

    assert elsewhere.code == nowhere.code == FORBIDDEN
    assert elsewhere.field == nowhere.field == variant.field
    assert elsewhere.reason.replace(outside, "<key>") == nowhere.reason.replace(absent, "<key>")


@pytest.mark.parametrize(("kind", "data", "field"), MOVES, ids=[f"{kind}.{field}" for kind, _, field in MOVES])
async def test_no_line_moves_a_record_across_the_boundary(
    world: Graph, tmp_path: Path, kind: str, data: dict[str, Any], field: str
) -> None:
    rejection = await only_rejection(world, tmp_path, kind, data)
    assert (rejection.code, rejection.field) == (FORBIDDEN, field), rejection


async def test_a_township_cannot_rename_the_township_whose_code_its_own_starts_like(
    world: Graph, tmp_path: Path
) -> None:
    # 430524100000 stripped of its zeros is 4305241, a prefix of T2's 430524101: the old check
    # took T1 for an ancestor of T2 and let T2's integrator rename it.
    township = Caller(sub="integrator-t2", role=Role.INTEGRATOR, region=T2)
    renamed = {"kind": "region", "code": T1, "name": "改名镇", "level": "township", "parent": COUNTY}
    created = {"kind": "region", "code": "430524101202", "name": "新村", "level": "village", "parent": T2}
    report = await validate(world, tmp_path, [renamed, created], township)
    assert [(r.line, r.code, r.field) for r in report.rejections] == [(1, FORBIDDEN, "code")]
    unchanged_w1 = {"kind": "region", "code": W1, "name": "外村", "level": "village", "parent": T2}
    assert (await validate(world, tmp_path, [unchanged_w1], township)).ok


async def test_a_parent_outside_gives_no_birth_date_and_a_school_outside_no_services(
    world: Graph, tmp_path: Path
) -> None:
    # On their own these lines fail the age rule and the service rule; the reasons those rules
    # give quote the other village's birth dates and services. An admin still reads them.
    too_young = {"parent": "C2", "child": "C1", "type": "step"}
    unoffered = {**IN_SCOPE["referral"], "institution": "I2"}
    for kind, record in (("parent", too_young), ("referral", unoffered)):
        assert (await only_rejection(world, tmp_path, kind, record)).code == FORBIDDEN
    admin = await validate(world, tmp_path, [{"kind": "parent", "parent": "C2", "child": "C1", "type": "step"}], ADMIN)
    assert "2012-04-14" in admin.rejections[0].reason


async def test_an_id_number_held_anywhere_reads_the_same_and_names_no_one(world: Graph, tmp_path: Path) -> None:
    person = {"id": "PN", "name": "新人", "gender": "M", "birthDate": "1985-01-01", "household": "H1"}
    held_outside = await only_rejection(world, tmp_path, "person", {**person, "idNumber": F1_ID})
    child = {**person, "gender": "F", "birthDate": "2015-03-01"}
    held_inside = await only_rejection(world, tmp_path, "person", {**child, "idNumber": C1_ID})
    assert held_outside.reason == held_inside.reason == ID_NUMBER_REFUSED
    assert "F1" not in held_outside.reason and F1_ID not in held_outside.reason
    boy = {**person, "birthDate": "2012-04-14"}
    assert C2_ID not in (await only_rejection(world, tmp_path, "person", {**boy, "idNumber": C2_ID})).reason
    # The number's holder lives in V2: the attempt is filed there for V2's auditor.
    report = await validate(world, tmp_path, [{"kind": "person", **person, "idNumber": F1_ID}], INTEGRATOR)
    assert "F1" in report.touched[V2]


async def test_a_reimported_case_or_referral_moves_only_as_the_mutations_allow(world: Graph, tmp_path: Path) -> None:
    reopened = {"kind": "case", "id": "KC", "child": "C1", "openedOn": "2025-01-01", "stage": "assessment"}
    backwards = {"kind": "case", "id": "K1", "child": "C1", "openedOn": "2026-05-01", "stage": "reported"}
    redated = {"kind": "case", "id": "K1", "child": "C1", "openedOn": "2026-04-01", "stage": "assessment"}
    forward = {"kind": "case", "id": "K1", "child": "C1", "openedOn": "2026-05-01", "stage": "intervention",
               "report": "RP1"}  # fmt: skip
    reopened_referral = {**IN_SCOPE["referral"], "id": "R2", "case": "K2", "institution": "I2",
                         "service": "education", "status": "pending"}  # fmt: skip
    for caller in (INTEGRATOR, ADMIN):
        refused = [
            [(r.code, r.field) for r in (await validate(world, tmp_path, [record], caller)).rejections]
            for record in (reopened, backwards, redated, forward)
        ]
        assert refused == [[("CONFLICT", "stage")], [("CONFLICT", "stage")], [("CONFLICT", "openedOn")], []]
    referral = await validate(world, tmp_path, [{"kind": "referral", **reopened_referral}], ADMIN)
    assert [(r.code, r.field) for r in referral.rejections] == [("CONFLICT", "status")]
