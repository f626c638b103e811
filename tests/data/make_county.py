"""The project's own sample county (黄平县, Guizhou) and its expected discovery result.

Every child below is written next to the findings it must have as of `AS_OF`, and the reason,
read off the fourteen rules in docs/discovery.md and the definitions in docs/domain.md; the
expected file is these declarations and nothing else (never the project's own discovery).
Most children start from one template, a left-behind child whose every need is met (green),
and change one thing, so each boundary is met from both sides by two children that differ in
that one thing. AS_OF is a 28 February of a year with no 29 February, so persons born on
29 February are a year younger than those born the day before.

    .venv/bin/python -m tests.data.make_county        # rewrite county.ndjson and county.expected.json

A test checks that the committed files are what this script writes.

Readings where the rules leave a choice (the project's documented ones):
- a report's date is its calendar date in Asia/Shanghai;
- two dead parents make an orphan (孤儿), not a de facto unsupported child: 民发〔2019〕62号
  counts death only for one parent ("一方死亡或失踪，另一方…").
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "county.ndjson"
EXPECTED = HERE / "county.expected.json"

AS_OF = dt.date(2026, 2, 28)
COUNTY = "522622000000"
TOWNSHIPS = ("522622100000", "522622101000")
VILLAGES = ("522622100201", "522622100202", "522622101201", "522622101202")
OTHER_COUNTY_VILLAGE = "522623100201"

Record = dict[str, Any]
Findings = dict[str, str]


def days(n: int) -> dt.date:
    """The date n days after AS_OF (n < 0: before it)."""
    return AS_OF + dt.timedelta(days=n)


def at(n: int, time: str = "09:30:00+08:00") -> str:
    """A datetime on the date n days after AS_OF, in Shanghai time unless told."""
    return f"{days(n).isoformat()}T{time}"


# --- the people around a child ---------------------------------------------------------------


@dataclass(frozen=True)
class Parent:
    """A recorded parent: away for work (an episode), at home, dead, or holding conditions."""

    away: tuple[dt.date, dt.date | None] | None = (days(-400), None)
    deceased: dt.date | None = None
    conditions: tuple[tuple[str, dt.date, dt.date | None], ...] = ()


AWAY = Parent()
HOME = Parent(away=None)
DEAD = Parent(away=None, deceased=days(-500))


#: When the template's care, its agreement and the conditions below begin.
LONG_BEFORE = days(-300)


def holding(condition: str, since: dt.date = LONG_BEFORE, until: dt.date | None = None) -> Parent:
    return Parent(away=None, conditions=((condition, since, until),))


@dataclass(frozen=True)
class Carer:
    """An entrusted caregiver (`care`); `person` names a shared one made beforehand."""

    born: dt.date = dt.date(1963, 4, 2)
    since: dt.date = LONG_BEFORE
    until: dt.date | None = None
    signed: dt.date | None = LONG_BEFORE
    deceased: dt.date | None = None
    conditions: tuple[tuple[str, dt.date, dt.date | None], ...] = ()
    person: str | None = None
    lives_with_child: bool = True
    #: The caregiver's own findings, when the caregiver is a child of the county too.
    own_findings: Findings | None = None


@dataclass(frozen=True)
class Interval:
    since: dt.date
    until: dt.date | None = None


@dataclass(frozen=True)
class Report:
    urgency: str
    made: str
    handled_by_case_on: dt.date | None = None


@dataclass(frozen=True)
class Referral:
    status: str
    due: dt.date


@dataclass(frozen=True)
class Case:
    opened: dt.date
    referrals: tuple[Referral, ...] = ()


DEFAULT_SCHOOL = Interval(dt.date(2025, 9, 1))
SINCE_LONG_AGO = Interval(days(-200))

#: id, name, type, region, services, capacity (open referrals it takes).
INSTITUTIONS: tuple[tuple[str, str, str, str, tuple[str, ...], int | None], ...] = (
    ("school", "新州镇中心小学", "school", TOWNSHIPS[0], ("education", "boarding"), None),
    ("kindergarten", "新州镇幼儿园", "kindergarten", TOWNSHIPS[0], ("education",), None),
    ("centre", "黄平县未成年人救助保护中心", "minor_protection_center", COUNTY,
     ("emergency_shelter", "temporary_guardianship", "long_term_guardianship"), 20),
    ("welfare", "黄平县儿童福利院", "child_welfare_institution", COUNTY,
     ("long_term_guardianship", "boarding", "rehabilitation"), 30),
    ("station", "旧州镇社工站", "social_work_station", TOWNSHIPS[1], ("psychological_support", "family_guidance"), 20),
)  # fmt: skip

SURNAMES = "杨吴龙潘王张李刘陈石罗邰"
GIVEN = "芳明华丽军强平秀英伟敏静磊洋艳勇杰娟涛超霞刚桂兰"


class County:
    """Collects the bundle's records and the expected result, and checks they agree."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        #: The records of children who live outside the county (or nowhere): an export of the
        #: county leaves them out, so a round trip compares the others.
        self.outside: list[Record] = []
        self._outside = False
        self.expected: dict[str, Findings] = {}
        self.reasons: dict[str, str] = {}
        self._people: dict[str, Record] = {}
        self._households: dict[str, str] = {}
        self._serials: dict[tuple[dt.date, str], int] = {}
        self._names = 0
        self._ids = 0
        self._children = 0

    # -- records ---------------------------------------------------------------------------

    def add(self, kind: str, **fields: Any) -> Record:
        record: Record = {"kind": kind}
        for name, value in fields.items():
            if value is None:
                continue
            record[name] = value.isoformat() if isinstance(value, dt.date) else value
        self.records.append(record)
        if self._outside:
            self.outside.append(record)
        return record

    def _name(self) -> str:
        """A name no one else has (look-alikes are made on purpose, below)."""
        self._names += 1
        n = self._names
        surname, rest = divmod(n, len(SURNAMES))
        return SURNAMES[rest] + GIVEN[surname % len(GIVEN)] + GIVEN[surname // len(GIVEN) % len(GIVEN)]

    def _id_number(self, born: dt.date, gender: str) -> str:
        """A resident id that satisfies GB 11643 (ISO 7064 MOD 11-2), written out here
        rather than taken from the project, so the sample checks its checker."""
        serial = self._serials.get((born, gender), 0)
        self._serials[(born, gender)] = serial + 1
        sequence = 2 * serial + (1 if gender == "M" else 2)
        body = f"522622{born:%Y%m%d}{sequence:03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        total = sum(int(digit) * weight for digit, weight in zip(body, weights, strict=True))
        return body + "10X98765432"[total % 11]

    def person(
        self,
        pid: str,
        born: dt.date,
        gender: str,
        household: str | None,
        *,
        deceased: dt.date | None = None,
        phone: bool = False,
        name: str | None = None,
    ) -> str:
        # Every third person has no resident id: the field is optional.
        self._ids += 1
        id_number = self._id_number(born, gender) if self._ids % 3 else None
        record = self.add(
            "person",
            id=pid,
            name=name or self._name(),
            gender=gender,
            birthDate=born,
            idNumber=id_number,
            household=household,
            phone=f"139{self._ids:08d}" if phone else None,
            deceasedOn=deceased,
        )
        self._people[pid] = record
        return pid

    def household(self, hid: str, village: str, low_income: Sequence[str] = ()) -> str:
        self.add(
            "household", id=hid, region=village, address=f"{len(self._households) + 1}组", lowIncome=list(low_income)
        )
        self._households[hid] = village
        return hid

    # -- the county's fixed parts ----------------------------------------------------------

    def regions(self) -> None:
        self.add("region", code="520000000000", name="贵州省", level="province", parent=None)
        self.add("region", code="522600000000", name="黔东南苗族侗族自治州", level="city", parent="520000000000")
        self.add("region", code=COUNTY, name="黄平县", level="county", parent="522600000000")
        self.add("region", code=TOWNSHIPS[0], name="新州镇", level="township", parent=COUNTY)
        self.add("region", code=TOWNSHIPS[1], name="旧州镇", level="township", parent=COUNTY)
        for code, name, township in zip(VILLAGES, ("东门村", "西门村", "寨碧村", "望城村"), (0, 0, 1, 1), strict=True):
            self.add("region", code=code, name=name, level="village", parent=TOWNSHIPS[township])
        # A neighbouring county: its children are outside this county's result.
        self._outside = True
        self.add("region", code="522623000000", name="施秉县", level="county", parent="522600000000")
        self.add("region", code="522623100000", name="城关镇", level="township", parent="522623000000")
        self.add("region", code=OTHER_COUNTY_VILLAGE, name="白塘村", level="village", parent="522623100000")
        self._outside = False

    def institutions(self) -> None:
        for iid, name, kind, region, services, capacity in INSTITUTIONS:
            self.add(
                "institution", id=iid, name=name, type=kind, region=region, services=list(services), capacity=capacity
            )
        # The staff and volunteers live in the county too: an integrator of the county may
        # import only people whose household is in it.
        self.person("director", dt.date(1981, 7, 9), "F", self.household("director.home", VILLAGES[0]), phone=True)
        self.add("staff", person="director", role="children_director", region=VILLAGES[0], since=dt.date(2020, 1, 1))
        self.person("worker", dt.date(1990, 11, 3), "M", self.household("worker.home", VILLAGES[2]), phone=True)
        self.add("staff", person="worker", role="case_worker", institution="station", since=dt.date(2022, 5, 1))
        for n in range(3):
            volunteer = f"volunteer-{n}"
            self.person(
                volunteer,
                dt.date(1975 + n, 3, 3),
                "M" if n % 2 else "F",
                self.household(f"{volunteer}.home", VILLAGES[n]),
            )

    # -- a child and everything about it ---------------------------------------------------

    def child(
        self,
        cid: str,
        why: str,
        expect: Findings | None,
        *,
        born: dt.date = dt.date(2016, 5, 10),
        deceased: dt.date | None = None,
        parents: Sequence[Parent] = (AWAY, AWAY),
        carers: Sequence[Carer] = (Carer(),),
        registrations: Sequence[tuple[str, Interval]] = (("left_behind", SINCE_LONG_AGO),),
        contacts: Sequence[int] = (-3,),
        contact_from_carer: Sequence[int] = (),
        visits: Sequence[int] = (-10,),
        phone_checks: Sequence[int] = (),
        pairing: Interval | None = SINCE_LONG_AGO,
        school: Interval | str | None = "auto",
        kindergarten: Interval | None = None,
        placement: Interval | None = None,
        guardians: Sequence[tuple[str, str, Interval]] = (),
        low_income: Sequence[str] = (),
        village: str | None = None,
        reports: Sequence[Report] = (),
        cases: Sequence[Case] = (),
    ) -> str:
        """A child of the left-behind template unless told otherwise; `expect` None: the
        person is not a child of the county at AS_OF, so must not be in the result."""
        self._children += 1
        home = village or VILLAGES[self._children % len(VILLAGES)]
        self._outside = not home.startswith(COUNTY[:6])
        household = self.household(f"{cid}.home", home, low_income) if home != "none" else None
        self.person(cid, born, "F" if self._children % 2 else "M", household, deceased=deceased)
        father_born = dt.date(born.year - 30, 3, 15)
        parent_ids: list[str] = []
        for n, spec in enumerate(parents):
            pid = self.person(
                f"{cid}.{('father', 'mother')[n]}",
                father_born + dt.timedelta(days=400 * n),
                "MF"[n],
                household,
                deceased=spec.deceased,
                phone=True,
            )
            parent_ids.append(pid)
            self.add("parent", parent=pid, child=cid, type="biological")
            guardian_until = spec.deceased if spec.deceased and spec.deceased >= born else None
            self.add("guardian", guardian=pid, child=cid, since=born, until=guardian_until, basis="parent")
            if spec.away is not None:
                self.add(
                    "away",
                    person=pid,
                    since=spec.away[0],
                    until=spec.away[1],
                    destination="浙江杭州",
                    destinationRegion=None,
                )
            for condition, since, until in spec.conditions:
                self.add("condition", person=pid, type=condition, since=since, until=until)
        for guardian, basis, interval in guardians:
            self.add("guardian", guardian=guardian, child=cid, since=interval.since, until=interval.until, basis=basis)
        carer_ids: list[str] = []
        for n, carer in enumerate(carers):
            kid = carer.person
            if kid is None:
                kid = f"{cid}.carer{n + 1}"
                lives = household if carer.lives_with_child else self.household(f"{kid}.home", home)
                self.person(kid, carer.born, "F", lives, deceased=carer.deceased)
                if carer.own_findings is not None:
                    self.expected[kid] = dict(carer.own_findings)
                for condition, since, until in carer.conditions:
                    self.add("condition", person=kid, type=condition, since=since, until=until)
            carer_ids.append(kid)
            entrusting = [pid for pid, spec in zip(parent_ids, parents, strict=True) if not spec.deceased]
            self.add(
                "care",
                caregiver=kid,
                child=cid,
                since=carer.since,
                until=carer.until,
                agreementSignedOn=carer.signed,
                entrustedBy=entrusting[0] if entrusting else None,
            )
        for category, interval in registrations:
            self.add("registration", child=cid, category=category, since=interval.since, until=interval.until)
        for n, on in enumerate(contacts):
            # Only the living call: a contact from a parent dead by then would be a data error.
            living = [
                pid
                for pid, spec in zip(parent_ids, parents, strict=True)
                if not spec.deceased or spec.deceased > days(on)
            ]
            self.add("contact", **{"from": living[n % len(living)]}, child=cid, on=days(on), channel="video")
        for on in contact_from_carer:
            self.add("contact", **{"from": carer_ids[0]}, child=cid, on=days(on), channel="phone")
        for on in visits:
            self.add("visit", visitor="director", child=cid, on=days(on), type="home_visit", notes="家访")
        for on in phone_checks:
            self.add("visit", visitor="director", child=cid, on=days(on), type="phone_check")
        if pairing is not None:
            self.add(
                "pairing",
                volunteer=f"volunteer-{self._children % 3}",
                child=cid,
                since=pairing.since,
                until=pairing.until,
            )
        if school == "auto":
            school = DEFAULT_SCHOOL if 6 <= age(born, AS_OF) <= 15 else None
        if isinstance(school, Interval):
            self.add(
                "enrollment",
                child=cid,
                institution="school",
                since=school.since,
                until=school.until,
                grade=str(max(1, age(born, AS_OF) - 5)),
                boarding=False,
            )
        if kindergarten is not None:
            self.add("enrollment", child=cid, institution="kindergarten", since=kindergarten.since)
        if placement is not None:
            self.add("placement", child=cid, institution="welfare", since=placement.since, until=placement.until)
        for n, report in enumerate(reports):
            rid = f"{cid}.report{n + 1}"
            self.add(
                "report",
                id=rid,
                child=cid,
                reporter=None,
                reporterRole="teacher",
                at=report.made,
                category="neglect",
                urgency=report.urgency,
                description="孩子长期无人照看",
            )
            if report.handled_by_case_on is not None:
                self.add(
                    "case",
                    id=f"{rid}.case",
                    child=cid,
                    openedOn=report.handled_by_case_on,
                    stage="assessment",
                    worker="worker",
                    report=rid,
                )
        for n, case in enumerate(cases):
            kid = f"{cid}.case{n + 1}"
            self.add("case", id=kid, child=cid, openedOn=case.opened, stage="intervention", worker="worker")
            for m, referral in enumerate(case.referrals):
                self.add(
                    "referral",
                    id=f"{kid}.referral{m + 1}",
                    case=kid,
                    institution="station",
                    service="psychological_support",
                    on=case.opened,
                    dueOn=referral.due,
                    status=referral.status,
                    reason="心理疏导",
                )
        if expect is not None:
            self.expected[cid] = dict(expect)
        self.reasons[cid] = why
        self._outside = False
        return cid

    def home_child(self, cid: str, why: str, expect: Findings | None, **options: Any) -> str:
        """A child whose parents live at home: not left-behind, needing no care from others."""
        defaults: dict[str, Any] = {
            "parents": (HOME, HOME),
            "carers": (),
            "registrations": (),
            "contacts": (),
            "visits": (),
            "pairing": None,
        }
        return self.child(cid, why, expect, **(defaults | options))

    def carer(self, pid: str, born: dt.date = dt.date(1962, 8, 8)) -> Carer:
        """A caregiver shared by several children, in a household of her own."""
        self.person(pid, born, "F", self.household(f"{pid}.home", VILLAGES[2]))
        return Carer(person=pid)

    # -- checks ----------------------------------------------------------------------------

    def result(self) -> dict[str, dict[str, Any]]:
        """The expected file: each declared child's findings and the highest of their levels."""
        self._check_declarations()
        rank = {"green": 0, "blue": 1, "yellow": 2, "red": 3}
        return {
            cid: {
                "level": max(findings.values(), key=rank.__getitem__, default="green"),
                "findings": findings,
            }
            for cid, findings in sorted(self.expected.items())
        }

    def _check_declarations(self) -> None:
        """Every person who is a child of the county at AS_OF is declared, and no one else: a
        forgotten child would silently be 'expected absent'."""
        children = {
            pid
            for pid, person in self._people.items()
            if dt.date.fromisoformat(person["birthDate"]) <= AS_OF
            and age(dt.date.fromisoformat(person["birthDate"]), AS_OF) < 18
            and ("deceasedOn" not in person or dt.date.fromisoformat(person["deceasedOn"]) > AS_OF)
            and self._households.get(person.get("household", ""), "").startswith(COUNTY[:6])
        }
        assert children == set(self.expected), (sorted(children ^ set(self.expected)), "declare these children")
        for findings in self.expected.values():
            assert set(findings.values()) <= {"red", "yellow", "blue"}, findings


def age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def build() -> County:
    county = County()
    county.regions()
    county.institutions()
    child, home_child = county.child, county.home_child
    R, Y, B = "red", "yellow", "blue"
    no_school: dict[str, Any] = {"school": None}

    # The template, and children who are simply fine.
    child("lb-green", "left-behind, every need met", {})
    home_child("home-green", "parents at home, at school", {})

    # Who is a child at D: born on or before D, alive at D, under 18, with a household in the county.
    child("turns-18-on-d", "born 2008-02-28: 18 on D, an adult", None, born=dt.date(2008, 2, 28), carers=())
    child(
        "leap-17",
        "born 2008-02-29: still 17 on 28 Feb; both parents imprisoned, unregistered",
        {"UNREGISTERED_DE_FACTO_UNSUPPORTED": R},
        born=dt.date(2008, 2, 29),
        parents=(holding("imprisoned"), holding("serious_illness")),
        registrations=(),
        carers=(),
        contacts=(),
        visits=(),
        pairing=None,
    )
    home_child("born-on-d", "born on D: age 0, a child", {}, born=AS_OF)
    home_child("born-after-d", "born the day after D: not yet a child", None, born=days(1))
    child("died-before-d", "died before D", None, deceased=days(-5), carers=())
    home_child("dies-after-d", "dies after D: alive at D", {}, deceased=days(2))
    child(
        "no-household",
        "no household: in no region, though nothing is arranged for it",
        None,
        village="none",
        carers=(),
        registrations=(),
        contacts=(),
        visits=(),
        pairing=None,
    )
    child("other-county", "lives in the neighbouring county", None, village=OTHER_COUNTY_VILLAGE, carers=())

    # Left-behind at D: under 16, >= 1 recorded parent, every parent away or lacking capacity,
    # >= 1 away. Each is unregistered, so UNREGISTERED_LEFT_BEHIND shows the verdict.
    lb: dict[str, Any] = {"registrations": ()}
    ulb = {"UNREGISTERED_LEFT_BEHIND": Y}
    child("lb-one-parent", "one recorded parent, away", ulb, parents=(AWAY,), **lb)
    child("lb-dead-and-away", "one parent dead, the other away", ulb, parents=(DEAD, AWAY), **lb)
    child("lb-imprisoned-and-away", "one imprisoned, the other away", ulb, parents=(holding("imprisoned"), AWAY), **lb)
    child("not-lb-one-home", "one away, one at home", {}, parents=(AWAY, HOME), **lb)
    child(
        "not-lb-no-parent",
        "no recorded parent, the county centre is guardian: never left-behind",
        {},
        parents=(),
        guardians=(("centre", "state", Interval(days(-700))),),
        contacts=(),
        **lb,
    )
    child(
        "lb-away-ends-on-d",
        "father's episode ends on D, mother away",
        ulb,
        parents=(Parent(away=(days(-400), AS_OF)), AWAY),
        **lb,
    )
    child(
        "not-lb-away-ended",
        "father came home D-1, mother away",
        {},
        parents=(Parent(away=(days(-400), days(-1))), AWAY),
        **lb,
    )
    child(
        "not-lb-away-starts-after-d",
        "father leaves the day after D",
        {},
        parents=(Parent(away=(days(1), None)), AWAY),
        **lb,
    )
    child(
        "not-lb-dead-while-away",
        "only parent died while away: dead is not away",
        {},
        parents=(Parent(deceased=days(-20)),),
        contacts=(),
        **lb,
    )
    child(
        "not-lb-prison-ended",
        "father released D-1 and home, mother away",
        {},
        parents=(holding("imprisoned", until=days(-1)), AWAY),
        **lb,
    )
    child(
        "not-lb-dies-after-d",
        "father dies after D (at home until then), mother away",
        {},
        parents=(Parent(away=None, deceased=days(3)), AWAY),
        **lb,
    )
    child("lb-15", "born 2010-03-01: 15, left-behind", ulb, born=dt.date(2010, 3, 1), **lb)
    child(
        "not-lb-16",
        "born 2010-02-28: 16 on D, too old to be left-behind (and for school)",
        {},
        born=dt.date(2010, 2, 28),
        **lb,
    )
    child(
        "lb-registration-ended",
        "left_behind registration ended D-1",
        ulb,
        registrations=(("left_behind", Interval(days(-200), days(-1))),),
    )
    child(
        "lb-registration-after-d",
        "registered the day after D",
        ulb,
        registrations=(("left_behind", Interval(days(1))),),
    )
    child("lb-registered-on-d", "registered on D", {}, registrations=(("left_behind", Interval(AS_OF)),))

    # NO_CAREGIVER.
    nc = {"NO_CAREGIVER": R}
    child("no-care", "left-behind, no care at all", nc, carers=())
    child("care-ended", "care ended D-1", nc, carers=(Carer(until=days(-1)),))
    child("care-ends-on-d", "care ends on D", {}, carers=(Carer(until=AS_OF),))
    child("care-starts-after-d", "care begins the day after D", nc, carers=(Carer(since=days(1), signed=days(1)),))
    child(
        "carer-dead",
        "the only caregiver died D-10; the care record still holds",
        {"NO_CAREGIVER": R, "CAREGIVER_INCAPABLE": Y},
        carers=(Carer(deceased=days(-10)),),
    )
    child("carer-dies-after-d", "the caregiver dies after D", {}, carers=(Carer(deceased=days(5)),))
    child("placed", "no care, placed in the welfare home", {}, carers=(), placement=Interval(days(-30)))
    child("placement-ended", "no care, placement ended D-1", nc, carers=(), placement=Interval(days(-90), days(-1)))

    # CAREGIVER_UNFIT: a disqualifying condition at D, or a caregiver under 18.
    unfit = {"CAREGIVER_UNFIT": R}
    child(
        "carer-abuse",
        "caregiver has an abuse record",
        unfit,
        carers=(Carer(conditions=(("abuse_record", days(-100), None),)),),
    )
    child(
        "carer-substance-ended",
        "caregiver's substance abuse record ended D-1",
        {},
        carers=(Carer(conditions=(("substance_abuse", days(-400), days(-1)),)),),
    )
    child(
        "carer-neglect-from-d",
        "caregiver's neglect record begins on D",
        unfit,
        carers=(Carer(conditions=(("neglect_record", AS_OF, None),)),),
    )
    child(
        "carer-neglect-after-d",
        "caregiver's neglect record begins the day after D",
        {},
        carers=(Carer(conditions=(("neglect_record", days(1), None),)),),
    )
    child(
        "carer-17",
        "caregiver born 2008-02-29: 17 on D, and so a child of the county herself (green: no parent recorded)",
        unfit,
        carers=(Carer(born=dt.date(2008, 2, 29), lives_with_child=False, own_findings={}),),
    )
    child(
        "carer-18",
        "caregiver born 2008-02-28: 18 on D",
        {},
        carers=(Carer(born=dt.date(2008, 2, 28), lives_with_child=False),),
    )
    home_child(
        "home-carer-abuse",
        "not left-behind, yet its caregiver has an abuse record",
        unfit,
        carers=(Carer(conditions=(("abuse_record", days(-100), None),)),),
    )

    # De facto unsupported (two recorded parents, each lacking capacity, not both dead).
    dfu = {"UNREGISTERED_DE_FACTO_UNSUPPORTED": R}
    alone: dict[str, Any] = {"registrations": (), "carers": (), "contacts": (), "visits": (), "pairing": None}
    child(
        "dfu-unregistered",
        "both parents lack capacity (imprisoned, seriously ill), unregistered",
        dfu,
        parents=(holding("imprisoned"), holding("serious_illness")),
        **alone,
    )
    child(
        "dfu-registered",
        "father dead, mother missing; registered, visited and paired",
        {},
        parents=(DEAD, holding("missing")),
        registrations=(("de_facto_unsupported", SINCE_LONG_AGO),),
        carers=(),
        contacts=(),
    )
    child(
        "dfu-registration-ended",
        "de facto unsupported, registration ended D-1",
        dfu,
        parents=(holding("compulsory_rehab"), holding("detained")),
        registrations=(("de_facto_unsupported", Interval(days(-300), days(-1))),),
        carers=(),
        contacts=(),
        visits=(),
        pairing=None,
    )
    child(
        "dfu-unpaired",
        "registered de facto unsupported, visited, not paired",
        {"UNPAIRED": B},
        parents=(DEAD, holding("severe_disability")),
        registrations=(("de_facto_unsupported", SINCE_LONG_AGO),),
        carers=(),
        contacts=(),
        pairing=None,
    )
    child(
        "not-dfu-missing-ended",
        "father dead, mother's missing ended D-1 (she is home)",
        {},
        parents=(DEAD, holding("missing", until=days(-1))),
        **alone,
    )
    child(
        "not-dfu-one-parent",
        "one recorded parent, imprisoned: neither de facto unsupported nor left-behind",
        {},
        parents=(holding("imprisoned"),),
        **alone,
    )
    child(
        "orphan",
        "both parents dead, the centre is guardian; orphan registration, never visited",
        {"VISIT_OVERDUE": Y},
        parents=(DEAD, DEAD),
        guardians=(("centre", "state", Interval(days(-400))),),
        registrations=(("orphan", SINCE_LONG_AGO),),
        carers=(),
        contacts=(),
        visits=(),
        placement=Interval(days(-400)),
    )
    child(
        "orphan-unpaired",
        "orphan registration, visited, not paired",
        {"UNPAIRED": B},
        parents=(DEAD, DEAD),
        registrations=(("orphan", SINCE_LONG_AGO),),
        carers=(),
        contacts=(),
        pairing=None,
        placement=Interval(days(-400)),
    )

    # CAREGIVER_INCAPABLE: every current caregiver lacks capacity or is 70 or older.
    incapable = {"CAREGIVER_INCAPABLE": Y}
    child("carer-70", "caregiver born 1956-02-28: 70 on D", incapable, carers=(Carer(born=dt.date(1956, 2, 28)),))
    child("carer-69", "caregiver born 1956-02-29: 69 on D", {}, carers=(Carer(born=dt.date(1956, 2, 29)),))
    child(
        "carers-old-and-disabled",
        "one caregiver 75, the other severely disabled",
        incapable,
        carers=(Carer(born=dt.date(1950, 6, 1)), Carer(conditions=(("severe_disability", days(-800), None),))),
    )
    child(
        "carers-old-and-able",
        "one caregiver 75, the other 50",
        {},
        carers=(Carer(born=dt.date(1950, 6, 1)), Carer(born=dt.date(1975, 6, 1))),
    )
    home_child(
        "home-carer-80", "not left-behind, cared for by someone of 80", {}, carers=(Carer(born=dt.date(1945, 6, 1)),)
    )

    # CONTACT_LAPSE: from a parent or a current guardian; blue over 7 days, yellow over 30 or never.
    child("contact-7", "last contact 7 days before D", {}, contacts=(-7, -40))
    child("contact-8", "last contact 8 days before D", {"CONTACT_LAPSE": B}, contacts=(-8,))
    child("contact-30", "30 days", {"CONTACT_LAPSE": B}, contacts=(-30, -60))
    child("contact-31", "31 days", {"CONTACT_LAPSE": Y}, contacts=(-31,))
    child("contact-never", "no contact ever", {"CONTACT_LAPSE": Y}, contacts=())
    child(
        "contact-after-d",
        "a contact after D does not count; the one before is 9 days old",
        {"CONTACT_LAPSE": B},
        contacts=(2, -9),
    )
    child(
        "contact-from-carer",
        "the caregiver calls daily; the parents last called 40 days ago",
        {"CONTACT_LAPSE": Y},
        contacts=(-40,),
        contact_from_carer=(-1,),
    )
    child(
        "contact-from-uncle",
        "an uncle is a current guardian and called 2 days ago; parents 50",
        {},
        contacts=(-50,),
        guardians=(("contact-from-uncle.carer1", "relative", Interval(days(-365))),),
        contact_from_carer=(-2,),
    )

    # VISIT_OVERDUE: home visits only; blue over 31 days, yellow over 92 or never.
    child("visit-31", "home visit 31 days before D", {}, visits=(-31,))
    child("visit-32", "32 days", {"VISIT_OVERDUE": B}, visits=(-32, -200))
    child("visit-92", "92 days", {"VISIT_OVERDUE": B}, visits=(-92,))
    child("visit-93", "93 days", {"VISIT_OVERDUE": Y}, visits=(-93,))
    child(
        "visit-phone-only", "only phone checks, never a home visit", {"VISIT_OVERDUE": Y}, visits=(), phone_checks=(-2,)
    )
    child(
        "visit-after-d",
        "a home visit after D does not count; the one before is 40 days old",
        {"VISIT_OVERDUE": B},
        visits=(3, -40),
    )
    home_child(
        "in-difficulty",
        "not left-behind, registered in difficulty, never visited: no pairing needed",
        {"VISIT_OVERDUE": Y},
        registrations=(("in_difficulty", SINCE_LONG_AGO),),
    )
    home_child(
        "disability-only",
        "registered for disability only, never visited",
        {},
        registrations=(("disability", SINCE_LONG_AGO),),
    )

    # OUT_OF_SCHOOL: 6 to 15 at D with no school enrollment holding at D.
    oos = {"OUT_OF_SCHOOL": Y}
    home_child("age-6-no-school", "born 2020-02-28: 6 on D, not enrolled", oos, born=dt.date(2020, 2, 28), **no_school)
    home_child("age-5-no-school", "born 2020-02-29: 5 on D, not enrolled", {}, born=dt.date(2020, 2, 29))
    home_child("age-15-no-school", "born 2010-03-01: 15, not enrolled", oos, born=dt.date(2010, 3, 1), **no_school)
    home_child("age-16-no-school", "born 2010-02-28: 16 on D, not enrolled", {}, born=dt.date(2010, 2, 28))
    home_child(
        "kindergarten-only",
        "10, in a kindergarten but no school",
        oos,
        school=None,
        kindergarten=Interval(dt.date(2025, 9, 1)),
    )
    home_child("school-ended", "school enrollment ended D-1", oos, school=Interval(dt.date(2021, 9, 1), days(-1)))
    home_child("school-ends-on-d", "school enrollment ends on D", {}, school=Interval(dt.date(2021, 9, 1), AS_OF))
    home_child("school-after-d", "enrolled from the day after D", oos, school=Interval(days(1)))

    # REPORT_UNHANDLED: no case for the child opened on or after the report's date, and more
    # than 1 (immediate), 3 (high) or 7 (normal) days since it.
    home_child("report-immediate-1", "immediate, 1 day old", {}, reports=(Report("immediate", at(-1)),))
    home_child(
        "report-immediate-2", "immediate, 2 days old", {"REPORT_UNHANDLED": R}, reports=(Report("immediate", at(-2)),)
    )
    home_child("report-high-3", "high, 3 days old", {}, reports=(Report("high", at(-3)),))
    home_child("report-high-4", "high, 4 days old", {"REPORT_UNHANDLED": R}, reports=(Report("high", at(-4)),))
    home_child("report-normal-7", "normal, 7 days old", {}, reports=(Report("normal", at(-7)),))
    home_child("report-normal-8", "normal, 8 days old", {"REPORT_UNHANDLED": Y}, reports=(Report("normal", at(-8)),))
    home_child(
        "report-normal-and-high",
        "a normal and a high report, both late: the higher level",
        {"REPORT_UNHANDLED": R},
        reports=(Report("normal", at(-9)), Report("high", at(-5))),
    )
    home_child(
        "report-handled",
        "high, 10 days old, a case opened the same day",
        {},
        reports=(Report("high", at(-10), handled_by_case_on=days(-10)),),
    )
    home_child(
        "report-case-before",
        "high, 10 days old; the child's only case was opened before it",
        {"REPORT_UNHANDLED": R},
        reports=(Report("high", at(-10)),),
        cases=(Case(days(-12)),),
    )
    home_child(
        "report-case-after-d",
        "high, 10 days old; the case is opened after D",
        {"REPORT_UNHANDLED": R},
        reports=(Report("high", at(-10), handled_by_case_on=days(1)),),
    )
    home_child("report-after-d", "an immediate report made after D", {}, reports=(Report("immediate", at(1)),))
    home_child(
        "report-utc-late-evening",
        "immediate at 20:00 UTC two days before D: 04:00 the next day in Shanghai, 1 day old",
        {},
        reports=(Report("immediate", at(-2, "20:00:00+00:00")),),
    )
    home_child(
        "report-utc-afternoon",
        "immediate at 15:59 UTC two days before D: 23:59 in Shanghai, 2 days old",
        {"REPORT_UNHANDLED": R},
        reports=(Report("immediate", at(-2, "15:59:00+00:00")),),
    )
    home_child(
        "report-other-child-case",
        "high, 10 days old; the case opened D-5 is case-no-report's",
        {"REPORT_UNHANDLED": R},
        reports=(Report("high", at(-10)),),
    )
    home_child(
        "case-no-report",
        "a case of its own, opened D-5, with nothing overdue",
        {},
        cases=(Case(days(-5), (Referral("pending", days(10)),)),),
    )

    # REFERRAL_OVERDUE: pending or accepted, due before D.
    ro = {"REFERRAL_OVERDUE": Y}
    home_child("referral-due-d-1", "pending, due D-1", ro, cases=(Case(days(-20), (Referral("pending", days(-1)),)),))
    home_child("referral-due-d", "pending, due on D", {}, cases=(Case(days(-20), (Referral("pending", AS_OF),)),))
    home_child(
        "referral-accepted-late", "accepted, due D-5", ro, cases=(Case(days(-20), (Referral("accepted", days(-5)),)),)
    )
    home_child(
        "referrals-closed",
        "completed, declined and withdrawn referrals, all past due",
        {},
        cases=(Case(days(-30), tuple(Referral(s, days(-10)) for s in ("completed", "declined", "withdrawn"))),),
    )

    # NO_WRITTEN_AGREEMENT: a current care without agreement, or with one signed after D.
    nwa = {"NO_WRITTEN_AGREEMENT": B}
    child("agreement-missing", "current care, no agreement", nwa, carers=(Carer(signed=None),))
    child("agreement-on-d", "signed on D", {}, carers=(Carer(signed=AS_OF),))
    child("agreement-after-d", "signed the day after D", nwa, carers=(Carer(signed=days(1)),))
    child(
        "agreement-old-care",
        "an ended care without agreement, the current one signed",
        {},
        carers=(Carer(since=days(-900), until=days(-301), signed=None), Carer()),
    )

    # CAREGIVER_OVERLOAD: a current caregiver of 4 or more living children under 18 at D,
    # wherever those children live.
    heavy = county.carer("carer-of-4")
    overload = {"CAREGIVER_OVERLOAD": B}
    for n in range(3):
        home_child(f"overload-{n}", "one of four children in one caregiver's care", overload, carers=(heavy,))
    child(
        "overload-elsewhere",
        "the fourth: no household, still a child in that care",
        None,
        village="none",
        carers=(heavy,),
    )
    for name, why, last in (
        ("adult", "the fourth turns 18 on D", {"born": dt.date(2008, 2, 28)}),
        ("ended", "the fourth's care ended D-1", {}),
        ("dead", "the fourth died before D", {"deceased": days(-10)}),
    ):
        shared = county.carer(f"carer-of-3-{name}")
        for n in range(3):
            home_child(f"three-{name}-{n}", f"one of three counted: {why}", {}, carers=(shared,))
        fourth = Carer(person=shared.person, until=days(-1)) if name == "ended" else shared
        expect: Findings | None = {} if name == "ended" else None
        home_child(f"three-{name}-fourth", why, expect, carers=(fourth,), **last)

    # UNPAIRED: left-behind (or registered de facto unsupported or orphan) with no pairing at D.
    child("unpaired", "left-behind, never paired", {"UNPAIRED": B}, pairing=None)
    child("pairing-ended", "pairing ended D-1", {"UNPAIRED": B}, pairing=Interval(days(-300), days(-1)))
    child("paired-from-d", "paired from D", {}, pairing=Interval(AS_OF))
    child("paired-after-d", "paired from the day after D", {"UNPAIRED": B}, pairing=Interval(days(1)))

    # LOW_INCOME_HOUSEHOLD: left-behind in a household with a low-income status.
    child("low-income", "left-behind in a dibao household", {"LOW_INCOME_HOUSEHOLD": B}, low_income=("dibao",))
    home_child("low-income-home", "a tekun household, parents at home", {}, low_income=("tekun", "dibao_edge"))

    # A look-alike for the duplicate search: lb-green's father recorded again, in another village.
    father = next(r for r in county.records if r.get("id") == "lb-green.father")
    elsewhere = county.household("look-alike.home", VILLAGES[3])
    county.person("look-alike", dt.date.fromisoformat(father["birthDate"]), "M", elsewhere, name=father["name"])

    # Everything at once: the level is the highest finding.
    child(
        "everything",
        "left-behind in a poor household, alone, out of school, reported and referred, with no one in touch",
        {
            "NO_CAREGIVER": R,
            "REPORT_UNHANDLED": R,
            "CONTACT_LAPSE": Y,
            "VISIT_OVERDUE": Y,
            "OUT_OF_SCHOOL": Y,
            "UNREGISTERED_LEFT_BEHIND": Y,
            "REFERRAL_OVERDUE": Y,
            "UNPAIRED": B,
            "LOW_INCOME_HOUSEHOLD": B,
        },
        carers=(),
        registrations=(),
        contacts=(-45,),
        visits=(-120,),
        pairing=None,
        school=None,
        low_income=("poverty_monitoring",),
        reports=(Report("normal", at(-15)), Report("high", at(-6))),
        cases=(Case(days(-30), (Referral("pending", days(-2)), Referral("completed", days(-20)))),),
    )
    return county


def lines(records: Sequence[Record]) -> list[str]:
    """Bundle lines, shuffled with a fixed seed so that references point both ways."""
    shuffled = [json.dumps(record, ensure_ascii=False) for record in records]
    random.Random(20260228).shuffle(shuffled)  # noqa: S311 - a fixed order, not a secret
    return shuffled


def inside_lines() -> list[str]:
    """The bundle without the records of children living outside the county or nowhere:
    everything an export of the county gives back."""
    county = build()
    outside = {id(record) for record in county.outside}
    return lines([record for record in county.records if id(record) not in outside])


def render(county: County) -> tuple[str, str]:
    """The bundle and the expected file."""
    header = [
        "# 黄平县 sample county: made by tests/data/make_county.py; expected discovery as of 2026-02-28 is in",
        "# county.expected.json. Records are shuffled on purpose: references point forward and backward.",
    ]
    expected = json.dumps(county.result(), ensure_ascii=False, indent=1, sort_keys=True)
    return "\n".join(header + lines(county.records)) + "\n", expected + "\n"


def main() -> None:
    county = build()
    bundle, expected = render(county)
    BUNDLE.write_text(bundle, encoding="utf-8")
    EXPECTED.write_text(expected, encoding="utf-8")
    print(f"{BUNDLE.name}: {len(county.records)} records; {EXPECTED.name}: {len(county.expected)} children")


if __name__ == "__main__":
    main()
