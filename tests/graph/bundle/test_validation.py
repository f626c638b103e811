"""Bundle validation, one rule at a time: each test has a bad line and asserts the rejection's
line, field and a piece of its reason. Per-line rules need no database; cross-line rules run
against the real one (`clean_graph`), with bundles built in memory."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from graph.bundle import idnumber
from graph.bundle.records import KINDS
from graph.bundle.validation import (
    Rejection,
    ValidationReport,
    ValidRecord,
    numbered,
    parse_line,
    records,
    validate_bundle,
)
from graph.driver import Graph
from tests import factories
from tests.conftest import sample_path

TODAY = date(2026, 6, 30)
VILLAGE = "360732100201"


def id_number(born: str, gender: str, region: str = "360732", sequence: int = 1) -> str:
    """A valid resident ID for a birth date (YYYY-MM-DD) and gender."""
    first17 = f"{region}{born.replace('-', '')}{sequence * 2 % 100:02d}{1 if gender == 'M' else 2}"
    return first17 + idnumber.check_character(first17)


# One valid record of every kind; tests change one field at a time.
VALID: dict[str, dict[str, Any]] = {
    "region": {"kind": "region", "code": VILLAGE, "name": "一村", "level": "village", "parent": "360732100000"},
    "household": {"kind": "household", "id": "H1", "region": VILLAGE, "address": "1组1号", "lowIncome": ["dibao"]},
    "person": {
        "kind": "person",
        "id": "P1",
        "name": "张一",
        "gender": "M",
        "birthDate": "1980-05-17",
        "idNumber": id_number("1980-05-17", "M"),
        "household": "H1",
        "phone": "13800000000",
    },
    "institution": {
        "kind": "institution",
        "id": "I1",
        "name": "中心小学",
        "type": "school",
        "region": "360732100000",
        "services": ["education", "boarding"],
        "capacity": 3,
    },
    "parent": {"kind": "parent", "parent": "P1", "child": "C1", "type": "biological"},
    "guardian": {"kind": "guardian", "guardian": "P1", "child": "C1", "since": "2015-01-01", "basis": "parent"},
    "care": {"kind": "care", "caregiver": "G1", "child": "C1", "since": "2025-01-01", "entrustedBy": "P1"},
    "away": {"kind": "away", "person": "P1", "since": "2025-01-01", "destination": "广东东莞"},
    "condition": {"kind": "condition", "person": "P1", "type": "imprisoned", "since": "2025-01-01"},
    "enrollment": {"kind": "enrollment", "child": "C1", "institution": "I1", "since": "2025-09-01", "grade": "3"},
    "placement": {"kind": "placement", "child": "C1", "institution": "I1", "since": "2026-01-01"},
    "pairing": {"kind": "pairing", "volunteer": "G1", "child": "C1", "since": "2025-01-01"},
    "staff": {"kind": "staff", "person": "G1", "role": "children_director", "region": VILLAGE, "since": "2023-01-01"},
    "registration": {"kind": "registration", "child": "C1", "category": "left_behind", "since": "2025-01-01"},
    "contact": {"kind": "contact", "from": "P1", "child": "C1", "on": "2026-06-01", "channel": "video"},
    "visit": {"kind": "visit", "visitor": "G1", "child": "C1", "on": "2026-06-02", "type": "home_visit"},
    "report": {
        "kind": "report",
        "id": "R1",
        "child": "C1",
        "reporterRole": "teacher",
        "at": "2026-06-03T10:30:00+08:00",
        "category": "neglect",
        "urgency": "high",
        "description": "多日无人接送",
    },
    "case": {
        "kind": "case",
        "id": "K1",
        "child": "C1",
        "openedOn": "2026-06-04",
        "stage": "assessment",
        "report": "R1",
    },
    "referral": {
        "kind": "referral",
        "id": "F1",
        "case": "K1",
        "institution": "I1",
        "service": "education",
        "on": "2026-06-05",
        "dueOn": "2026-07-05",
        "status": "pending",
    },
}


def record(of: str, **changes: Any) -> dict[str, Any]:
    """A valid record of kind `of` with `changes`; a change to `...` removes the field."""
    data = VALID[of] | changes
    return {name: value for name, value in data.items() if value is not ...}


def text(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def rejected(data: dict[str, Any] | str, line: int = 7) -> Rejection:
    outcome = parse_line(line, data if isinstance(data, str) else text(data), today=TODAY)
    assert isinstance(outcome, Rejection), outcome
    assert outcome.line == line
    return outcome


def accepted(data: dict[str, Any]) -> ValidRecord:
    outcome = parse_line(3, text(data), today=TODAY)
    assert isinstance(outcome, ValidRecord), outcome
    return outcome


def assert_rejected(data: dict[str, Any] | str, field: str | None, reason: str) -> None:
    outcome = rejected(data)
    assert (outcome.field, reason in outcome.reason) == (field, True), outcome


# Per line --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VALID))
def test_the_valid_record_of_every_kind_is_accepted_with_every_field_present(kind: str) -> None:
    outcome = accepted(VALID[kind])
    assert outcome.kind == kind
    assert set(outcome.data) == {spec.name for spec in KINDS[kind].fields}


def test_values_come_back_typed_and_absent_optional_fields_as_none() -> None:
    person = accepted(record("person", deceasedOn="2024-04-06", phone=None)).data
    assert person["birthDate"] == date(1980, 5, 17)
    assert person["deceasedOn"] == date(2024, 4, 6)
    assert person["phone"] is None
    report = accepted(VALID["report"]).data
    assert report["at"] == datetime(2026, 6, 3, 10, 30, tzinfo=timezone(timedelta(hours=8)))
    assert report["reporter"] is None
    enrollment = accepted(record("enrollment", boarding=True)).data
    assert enrollment["boarding"] is True
    assert enrollment["until"] is None
    institution = accepted(VALID["institution"]).data
    assert (institution["services"], institution["capacity"]) == (["education", "boarding"], 3)


def test_bad_json_is_rejected_with_no_field() -> None:
    assert_rejected('{"kind": "person", "id": "P1",', None, "bad JSON")


def test_a_line_that_is_not_an_object_is_rejected() -> None:
    assert_rejected("[1, 2]", None, "not a JSON object")


def test_an_unknown_kind_is_rejected() -> None:
    assert_rejected(record("person", kind="persn"), "kind", "'persn' is not a known kind")
    assert_rejected({"id": "P1"}, "kind", "kind: missing")


def test_a_missing_required_field_is_rejected() -> None:
    assert_rejected(record("person", birthDate=...), "birthDate", "birthDate: missing")
    # null is absent: fine for an optional field, missing for a required one
    assert_rejected(record("care", child=None), "child", "child: missing")
    accepted(record("person", household=None))


def test_an_unknown_field_is_rejected() -> None:
    assert_rejected(record("person", birthdate="1980-05-17"), "birthdate", "unknown field")


@pytest.mark.parametrize(
    ("kind", "field", "value", "reason"),
    [
        ("person", "name", 5, "must be a string, not a number"),
        ("person", "id", "  ", "must not be empty"),
        ("enrollment", "boarding", "yes", "must be true or false"),
        ("institution", "capacity", "3", "must be a whole number"),
        ("institution", "capacity", 2.5, "must be a whole number"),
        ("institution", "capacity", -1, "is negative"),
        ("household", "lowIncome", "dibao", "must be a list"),
        ("enrollment", "grade", 3, "must be a string"),
    ],
)
def test_a_value_of_the_wrong_type_is_rejected(kind: str, field: str, value: Any, reason: str) -> None:
    assert_rejected(record(kind, **{field: value}), field, reason)


@pytest.mark.parametrize("value", ["2026-13-01", "2026/01/01", "20260101", "2026-1-1", "2026-02-30"])
def test_a_malformed_date_is_rejected(value: str) -> None:
    assert_rejected(record("guardian", since=value), "since", "is not a date (YYYY-MM-DD)")


@pytest.mark.parametrize("value", ["2026-06-03T10:30:00", "2026-06-03", "2026-06-03 10:30:00+08:00"])
def test_a_datetime_without_offset_or_malformed_is_rejected(value: str) -> None:
    assert_rejected(record("report", at=value), "at", "is not a datetime with an offset")


def test_a_datetime_in_utc_is_accepted() -> None:
    assert accepted(record("report", at="2026-06-03T02:30:00Z")).data["at"] == datetime(2026, 6, 3, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("person", "birthDate", "2026-07-01"),
        ("person", "deceasedOn", "2026-07-01"),
        ("contact", "on", "2026-07-01"),
        ("visit", "on", "2026-07-01"),
        ("referral", "on", "2026-07-01"),
        ("report", "at", "2026-07-01T08:00:00+08:00"),
    ],
)
def test_a_date_in_the_future_is_rejected(kind: str, field: str, value: str) -> None:
    data = record(kind, **{field: value})
    if field == "birthDate":
        data["idNumber"] = id_number(value, "M")
    assert_rejected(data, field, f"{value} is in the future")


def test_today_is_not_the_future_and_other_dates_may_lie_ahead() -> None:
    accepted(record("contact", on=TODAY.isoformat()))
    accepted(record("placement", since="2027-01-01"))
    accepted(record("case", openedOn="2027-01-01"))
    accepted(record("referral", dueOn="2027-01-01"))


@pytest.mark.parametrize("kind", sorted(kind for kind in VALID if KINDS[kind].interval))
def test_until_before_since_is_rejected(kind: str) -> None:
    assert_rejected(record(kind, since="2025-03-02", until="2025-03-01"), "until", "is before since 2025-03-02")
    accepted(record(kind, since="2025-03-02", until="2025-03-02"))


def test_deceased_before_birth_is_rejected() -> None:
    assert_rejected(record("person", deceasedOn="1979-01-01"), "deceasedOn", "is before birthDate 1980-05-17")


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("region", "code", "36073210020"),
        ("region", "code", "36073210020a"),
        ("region", "parent", "3607321000000"),
        ("household", "region", "360732-100201"),
        ("institution", "region", 360732100000),
        ("staff", "region", "3607"),
        ("away", "destinationRegion", "东莞"),
    ],
)
def test_a_region_code_that_is_not_12_digits_is_rejected(kind: str, field: str, value: Any) -> None:
    reason = "must be a string" if isinstance(value, int) else "is not a 12-digit region code"
    assert_rejected(record(kind, **{field: value}), field, reason)


def test_a_province_has_no_parent_and_every_other_level_has_one() -> None:
    province = {"kind": "region", "code": "360000000000", "name": "江西省", "level": "province"}
    accepted(province)
    assert_rejected(province | {"parent": "110000000000"}, "parent", "a province has no parent")
    assert_rejected(record("region", parent=None), "parent", "a village needs its parent's code")


def test_a_code_with_digits_below_its_level_is_rejected() -> None:
    assert_rejected(record("region", code="360732100201", level="township"), "code", "is not a township code")


ENUMERATED = sorted(
    (kind, spec.name, spec.type) for kind, of in KINDS.items() for spec in of.fields if spec.type in ("enum", "enums")
)


@pytest.mark.parametrize(("kind", "field", "type_"), ENUMERATED)
def test_an_enumerated_field_with_a_value_not_listed_is_rejected(kind: str, field: str, type_: str) -> None:
    value: Any = [*VALID[kind][field], "rich"] if type_ == "enums" else "rich"
    assert_rejected(record(kind, **{field: value}), field, "'rich' is not one of")


def test_enumerations_are_case_sensitive() -> None:
    assert_rejected(record("person", gender="m"), "gender", "'m' is not one of F, M")


def test_an_id_number_with_a_bad_checksum_is_rejected() -> None:
    good = id_number("1980-05-17", "M")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert_rejected(
        record("person", idNumber=bad), "idNumber", f"fails its checksum (the check character should be {good[17]})"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [("36073219800517001", "has 17 characters"), ("36073219800517001A", "17 digits and a final digit or X")],
)
def test_a_malformed_id_number_is_rejected(value: str, reason: str) -> None:
    assert_rejected(record("person", idNumber=value), "idNumber", reason)


def test_an_id_number_that_disagrees_with_birth_date_or_gender_is_rejected() -> None:
    assert_rejected(record("person", birthDate="1980-05-18"), "idNumber", "gives birth date 1980-05-17, not 1980-05-18")
    assert_rejected(record("person", gender="F"), "idNumber", "is a man's number but gender is F")


def test_an_id_number_ending_in_lower_case_x_is_accepted_as_upper_case() -> None:
    # GB 11643's own worked example: a woman born 1949-12-31, check character X.
    data = record("person", gender="F", birthDate="1949-12-31", idNumber="11010519491231002x")
    assert accepted(data).data["idNumber"] == "11010519491231002X"


def test_the_region_digits_of_an_id_number_need_not_match_anything() -> None:
    accepted(record("person", idNumber=id_number("1980-05-17", "M", region="440101")))


@pytest.mark.parametrize(
    ("kind", "field", "what"),
    [("parent", "parent", "parent"), ("guardian", "guardian", "guardian"), ("care", "caregiver", "caregiver")],
)
def test_a_person_who_is_their_own_parent_guardian_or_caregiver_is_rejected(kind: str, field: str, what: str) -> None:
    assert_rejected(record(kind, **{field: "C1"}), field, f"C1 cannot be their own {what}")


def test_staff_need_a_region_or_an_institution() -> None:
    assert_rejected(record("staff", region=...), "region", "need a region or an institution")
    accepted(record("staff", region=..., institution="I1"))


def test_blank_lines_and_comments_are_skipped_but_counted() -> None:
    lines = ["\ufeff# a comment", "", '{"kind": "x"}', "   ", "  # line 4: fixed", '{"kind": "y"}\r\n']
    assert list(numbered(lines)) == [(3, '{"kind": "x"}'), (6, '{"kind": "y"}')]


# Across lines, against the database ------------------------------------------------------------

REGIONS = [
    {"kind": "region", "code": "360000000000", "name": "江西省", "level": "province"},
    {"kind": "region", "code": "360700000000", "name": "赣州市", "level": "city", "parent": "360000000000"},
    {"kind": "region", "code": "360732000000", "name": "兴国县", "level": "county", "parent": "360700000000"},
    {"kind": "region", "code": "360732100000", "name": "一镇", "level": "township", "parent": "360732000000"},
    VALID["region"],
]


def person(id: str, born: str, gender: str = "F", **changes: Any) -> dict[str, Any]:
    number = id_number(born, gender, sequence=int("".join(c for c in id if c.isdigit()) or 0))
    return record("person", id=id, birthDate=born, gender=gender, idNumber=number, **changes)


def family() -> list[dict[str, Any]]:
    """Regions, a household, a father, a mother, a child and a grandmother."""
    return [
        *REGIONS,
        VALID["household"],
        person("P1", "1980-05-17", "M"),
        person("M1", "1982-02-01"),
        person("C1", "2015-03-01"),
        person("G1", "1955-08-08"),
    ]


async def validate(graph: Graph, tmp_path: Path, items: Sequence[dict[str, Any] | str]) -> ValidationReport:
    lines = [item if isinstance(item, str) else text(item) for item in items]
    return await validate_bundle(lines, graph, today=TODAY, workdir=tmp_path)


def only(report: ValidationReport) -> Rejection:
    assert len(report.rejections) == 1, report.rejections
    return report.rejections[0]


def assert_only(report: ValidationReport, line: int, field: str | None, reason: str) -> None:
    rejection = only(report)
    assert (rejection.line, rejection.field, reason in rejection.reason) == (line, field, True), rejection


async def test_the_sample_bundle_validates_with_no_rejections(clean_graph: Graph, tmp_path: Path) -> None:
    with sample_path().open(encoding="utf-8") as lines:
        report = await validate_bundle(lines, clean_graph, today=TODAY, workdir=tmp_path)
    assert report.rejections == []
    records = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines() if line[:1] == "{"]
    assert report.lines == report.valid == len(records)
    assert report.counts == Counter(record["kind"] for record in records)
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 (the scratch index is gone)


async def test_every_kind_is_valid_when_what_it_refers_to_comes_later(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [VALID[kind] for kind in reversed(list(VALID)) if kind not in ("region", "person", "household")]
    bundle += [person("G1", "1955-08-08"), VALID["household"], *family()[-4:-1], *reversed(REGIONS)]
    report = await validate(clean_graph, tmp_path, bundle)
    assert report.rejections == []
    assert report.counts == {kind: 1 for kind in VALID} | {"region": 5, "person": 4}


async def test_a_reference_to_nothing_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    report = await validate(clean_graph, tmp_path, [*family(), record("contact", **{"from": "P9"})])
    assert_only(report, 11, "from", "from: P9 exists nowhere: no person")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (record("person", id="X1", idNumber=None, household="H9"), "household"),
        (record("household", id="H2", region="360732100209"), "region"),
        (record("enrollment", institution="I9"), "institution"),
        (record("staff", region="360732100209"), "region"),
        (record("case", id="K2", report="R9"), "report"),
        (record("referral", id="F2", case="K9"), "case"),
        (record("guardian", guardian="X9"), "guardian"),
    ],
)
async def test_every_kind_of_reference_to_nothing_is_rejected(
    clean_graph: Graph, tmp_path: Path, data: dict[str, Any], field: str
) -> None:
    others = [VALID["institution"], VALID["report"], VALID["case"]]
    report = await validate(clean_graph, tmp_path, [*family(), *others, data])
    assert_only(report, 14, field, "exists nowhere")


async def test_a_reference_to_a_record_only_in_the_database_is_accepted(clean_graph: Graph, tmp_path: Path) -> None:
    await factories.household(clean_graph, "H8", VILLAGE)
    await factories.person(clean_graph, "D1", date(1950, 1, 1), household="H8")
    await factories.institution(clean_graph, "DI", "minor_protection_center", "360732000000", services=["legal_aid"])
    bundle = [
        record("person", id="X1", idNumber=None, household="H8"),
        record("visit", visitor="D1", child="X1"),
        record("guardian", guardian="DI", child="X1", basis="state"),
        record("region", code="360732100202", parent="360732100000"),  # its parent is in the database
    ]
    report = await validate(clean_graph, tmp_path, bundle)
    assert report.rejections == []


async def test_a_line_referring_to_a_rejected_line_is_rejected_too(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), VALID["care"]]
    bundle[8] = person("C1", "2035-03-01")  # line 9: born in the future
    report = await validate(clean_graph, tmp_path, bundle)
    assert [(r.line, r.field) for r in report.rejections] == [(9, "birthDate"), (11, "child")]
    assert report.rejections[1].reason == "child: C1 is rejected on line 9"
    assert report.rejections[1].text == text(VALID["care"])
    assert report.rejected_lines() == frozenset({9, 11})
    assert (report.lines, report.valid) == (11, 9)


async def test_a_rejected_line_is_not_replaced_by_the_database_record_it_updates(
    clean_graph: Graph, tmp_path: Path
) -> None:
    await factories.person(clean_graph, "C1", date(2015, 3, 1))
    bundle = [person("C1", "2015-03-01", name=""), VALID["registration"]]
    report = await validate(clean_graph, tmp_path, bundle)
    assert [(r.line, r.field) for r in report.rejections] == [(1, "name"), (2, "child")]


async def test_rejection_cascades_from_a_region_down_to_the_events(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), VALID["contact"]]
    bundle[3] = REGIONS[3] | {"parent": "360732000009"}  # the township's parent exists nowhere
    report = await validate(clean_graph, tmp_path, bundle)
    reasons = {r.line: r.reason for r in report.rejections}
    assert reasons[4] == "parent: 360732000009 exists nowhere: no region with that key in the bundle or the database"
    assert reasons[5] == "parent: 360732100000 is rejected on line 4"
    assert reasons[6] == "region: 360732100201 is rejected on line 5"
    assert reasons[7] == "household: H1 is rejected on line 6"
    assert reasons[11].startswith("from: P1 is rejected on line 7")
    assert report.valid == 3


async def test_a_second_definition_of_the_same_key_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    report = await validate(clean_graph, tmp_path, [*family(), VALID["household"] | {"address": "2组"}])
    assert_only(report, 11, "id", "id: H1 is already defined on line 6")


async def test_two_persons_with_one_id_number_are_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    twin = person("P1", "1980-05-17", "M") | {"id": "P2"}
    report = await validate(clean_graph, tmp_path, [*family(), twin])
    assert_only(report, 11, "idNumber", f"idNumber: {twin['idNumber']} is already used by P1 on line 7")


async def test_an_id_number_held_by_another_person_in_the_database_is_rejected(
    clean_graph: Graph, tmp_path: Path
) -> None:
    number = id_number("1980-05-17", "M", sequence=1)
    await factories.person(clean_graph, "D1", date(1980, 5, 17), gender="M", id_number=number)
    report = await validate(clean_graph, tmp_path, family())
    assert_only(report, 7, "idNumber", f"idNumber: {number} is already used by D1 in the database")
    # The same person again is an update, not a duplicate.
    await clean_graph.write("MATCH (p:Person {id: 'D1'}) SET p.id = 'P1'")
    assert (await validate(clean_graph, tmp_path, family())).rejections == []


async def test_a_region_whose_parent_is_not_the_next_level_up_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    village = record("region", parent="360732000000")
    report = await validate(clean_graph, tmp_path, [*REGIONS[:4], village])
    assert_only(report, 5, "parent", "parent: 360732000000 is a county; the parent of a village must be a township")


async def test_a_region_whose_parent_in_the_database_is_not_the_next_level_up_is_rejected(
    clean_graph: Graph, tmp_path: Path
) -> None:
    await factories.region_tree(clean_graph, "360732000000")
    report = await validate(clean_graph, tmp_path, [record("region", parent="360732000000")])
    assert_only(report, 1, "parent", "is a county; the parent of a village must be a township")


async def test_a_region_whose_code_does_not_start_with_its_parents_is_rejected(
    clean_graph: Graph, tmp_path: Path
) -> None:
    report = await validate(clean_graph, tmp_path, [*REGIONS[:4], record("region", code="360733100201")])
    assert_only(report, 5, "parent", "360733100201 does not start with 360732100")


async def test_a_household_outside_a_village_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    report = await validate(clean_graph, tmp_path, [*REGIONS, record("household", region="360732100000")])
    assert_only(report, 6, "region", "region: 360732100000 is a township, not a village")


async def test_a_parent_cycle_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), record("parent", parent="P1", child="C1"), record("parent", parent="C1", child="P1")]
    report = await validate(clean_graph, tmp_path, bundle)
    assert_only(report, 12, "parent", "C1 descends from P1: this would make a parent cycle")


async def test_a_parent_cycle_through_the_database_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    await factories.person(clean_graph, "A1", date(1950, 1, 1))
    await factories.person(clean_graph, "A2", date(1975, 1, 1))
    await factories.parent(clean_graph, "A1", "A2")
    report = await validate(clean_graph, tmp_path, [record("parent", parent="A2", child="A1")])
    assert_only(report, 1, "parent", "A2 descends from A1: this would make a parent cycle")


async def test_a_parent_less_than_12_years_older_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), person("Y1", "2003-03-02"), record("parent", parent="Y1", child="C1")]
    report = await validate(clean_graph, tmp_path, bundle)
    assert_only(
        report, 12, "parent", "parent: Y1 (born 2003-03-02) is not at least 12 years older than C1 (born 2015-03-01)"
    )


async def test_a_parent_exactly_12_years_older_is_accepted(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), person("Y1", "2003-03-01"), record("parent", parent="Y1", child="C1")]
    assert (await validate(clean_graph, tmp_path, bundle)).rejections == []


async def test_a_parents_birth_date_may_come_from_the_database(clean_graph: Graph, tmp_path: Path) -> None:
    await factories.person(clean_graph, "D1", date(2010, 1, 1))
    report = await validate(clean_graph, tmp_path, [*family(), record("parent", parent="D1", child="C1")])
    assert_only(report, 11, "parent", "D1 (born 2010-01-01) is not at least 12 years older")


async def test_a_referral_to_an_institution_without_its_service_is_rejected(clean_graph: Graph, tmp_path: Path) -> None:
    bundle = [*family(), VALID["institution"], VALID["report"], VALID["case"], record("referral", service="legal_aid")]
    report = await validate(clean_graph, tmp_path, bundle)
    assert_only(
        report, 14, "service", "service: institution I1 does not offer legal_aid (it offers education, boarding)"
    )


async def test_a_referral_to_a_database_institution_is_checked_against_its_services(
    clean_graph: Graph, tmp_path: Path
) -> None:
    await factories.institution(clean_graph, "DI", "hospital", "360732000000", services=["medical"])
    bundle = [*family(), VALID["report"], VALID["case"]]
    good = record("referral", institution="DI", service="medical")
    bad = record("referral", id="F2", institution="DI", service="education")
    report = await validate(clean_graph, tmp_path, [*bundle, good, bad])
    assert_only(report, 14, "service", "institution DI does not offer education (it offers medical)")


async def test_every_bad_line_is_reported_in_line_order_and_the_report_counts_lines(
    clean_graph: Graph, tmp_path: Path
) -> None:
    lines = ["# header", text(VALID["region"] | {"level": "town"}), "", "not json", *map(text, REGIONS[:4])]
    report = await validate(clean_graph, tmp_path, lines)
    assert [(r.line, r.field) for r in report.rejections] == [(2, "level"), (4, None)]
    assert report.rejections[1].text == "not json"
    assert (report.lines, report.valid, report.counts) == (6, 4, {"region": 4})


async def test_the_text_of_a_line_rejected_across_lines_is_the_original(clean_graph: Graph, tmp_path: Path) -> None:
    # JSON allows a newline between tokens; a caller may hand such a line over as one string.
    line = '{"kind": "visit", "visitor": "Nobody",\n "child": "C1", "on": "2026-06-02", "type": "home_visit"}'
    report = await validate(clean_graph, tmp_path, [*family(), line])
    assert only(report).text == line


def test_records_yields_the_valid_records_not_skipped() -> None:
    lines = [text(VALID["away"]), "# note", "bad", text(VALID["condition"]), text(VALID["pairing"])]
    assert [(r.line, r.kind) for r in records(lines, today=TODAY, skip=frozenset({5}))] == [
        (1, "away"),
        (4, "condition"),
    ]
