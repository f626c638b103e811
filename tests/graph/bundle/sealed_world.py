"""Two villages of one township and a village of another, as a bundle an admin imports, for the
tests of what an integrator of one village may import and export.

V1 is the integrator's village. F1 (the father of C1, living in V2) and everything else of V2
and W1 lie outside it; `SECRETS` are values of those records that no message and no export
given to V1's integrator may hold.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson

from graph.bundle.generator import resident_id
from graph.bundle.importer import import_bundle
from graph.callers import Caller, Role
from graph.driver import Graph

TODAY = date(2026, 6, 15)
PROVINCE, CITY, COUNTY = "430000000000", "430500000000", "430524000000"
T1, T2 = "430524100000", "430524101000"
V1, V2, W1 = "430524100201", "430524100202", "430524101201"
#: A village code under T1 that no record holds.
NOWHERE_VILLAGE = "430524100299"

C1_ID = resident_id("430524", date(2015, 3, 1), 2)
G1_ID = resident_id("430524", date(1955, 5, 5), 4)
F1_ID = resident_id("430524", date(1985, 1, 1), 11)
C2_ID = resident_id("430524", date(2012, 4, 14), 13)
F1_PHONE = "13900002222"
C1_PHONE = "13912345678"

#: Values of records outside V1: none may reach V1's integrator.
SECRETS = (
    "王秘父", "王秘二", "吴外村", "二村秘密地址9号", "1985-01-01", "2012-04-14", "2014-04-04", F1_ID, C2_ID,
    F1_PHONE, "广东东莞", "after_school_care", "neglect_record", "二村小学", "R2 reason",
)  # fmt: skip

INTEGRATOR = Caller(sub="integrator-v1", role=Role.INTEGRATOR, region=V1)
ADMIN = Caller(sub="admin-1", role=Role.ADMIN)

WORLD: tuple[dict[str, object], ...] = (
    {"kind": "region", "code": PROVINCE, "name": "湖南省", "level": "province", "parent": None},
    {"kind": "region", "code": CITY, "name": "邵阳市", "level": "city", "parent": PROVINCE},
    {"kind": "region", "code": COUNTY, "name": "新邵县", "level": "county", "parent": CITY},
    {"kind": "region", "code": T1, "name": "一镇", "level": "township", "parent": COUNTY},
    {"kind": "region", "code": T2, "name": "二镇", "level": "township", "parent": COUNTY},
    {"kind": "region", "code": V1, "name": "一村", "level": "village", "parent": T1},
    {"kind": "region", "code": V2, "name": "二村", "level": "village", "parent": T1},
    {"kind": "region", "code": W1, "name": "外村", "level": "village", "parent": T2},
    {"kind": "household", "id": "H1", "region": V1, "address": "一组1号", "lowIncome": []},
    {"kind": "household", "id": "H2", "region": V2, "address": "二村秘密地址9号", "lowIncome": ["dibao"]},
    {"kind": "household", "id": "HW", "region": W1, "lowIncome": []},
    {"kind": "institution", "id": "I1", "name": "一村村委会", "type": "village_committee", "region": V1,
     "services": ["family_guidance"]},
    {"kind": "institution", "id": "I2", "name": "二村小学", "type": "school", "region": V2,
     "services": ["education", "after_school_care"]},
    {"kind": "person", "id": "C1", "name": "李小一", "gender": "F", "birthDate": "2015-03-01", "idNumber": C1_ID,
     "household": "H1", "phone": C1_PHONE},
    {"kind": "person", "id": "G1", "name": "李奶奶", "gender": "F", "birthDate": "1955-05-05", "idNumber": G1_ID,
     "household": "H1"},
    {"kind": "person", "id": "D1", "name": "周主任", "gender": "M", "birthDate": "1980-08-08", "household": "H1"},
    {"kind": "person", "id": "F1", "name": "王秘父", "gender": "M", "birthDate": "1985-01-01", "idNumber": F1_ID,
     "household": "H2", "phone": F1_PHONE},
    {"kind": "person", "id": "C2", "name": "王秘二", "gender": "M", "birthDate": "2012-04-14", "idNumber": C2_ID,
     "household": "H2"},
    {"kind": "person", "id": "CW", "name": "吴外村", "gender": "F", "birthDate": "2014-04-04", "household": "HW"},
    {"kind": "parent", "parent": "F1", "child": "C1", "type": "biological"},
    {"kind": "parent", "parent": "F1", "child": "C2", "type": "biological"},
    {"kind": "guardian", "guardian": "G1", "child": "C1", "since": "2020-01-01", "basis": "relative"},
    {"kind": "guardian", "guardian": "F1", "child": "C1", "since": "2015-03-01", "basis": "parent"},
    {"kind": "care", "caregiver": "G1", "child": "C1", "since": "2024-02-01", "entrustedBy": "F1"},
    {"kind": "away", "person": "F1", "since": "2024-02-01", "destination": "广东东莞"},
    {"kind": "condition", "person": "C2", "type": "neglect_record", "since": "2025-01-01"},
    {"kind": "enrollment", "child": "C2", "institution": "I2", "since": "2021-09-01", "grade": "5"},
    {"kind": "pairing", "volunteer": "D1", "child": "C1", "since": "2025-01-01"},
    {"kind": "staff", "person": "D1", "role": "children_director", "region": V1, "since": "2020-01-01"},
    {"kind": "registration", "child": "C1", "category": "left_behind", "since": "2024-03-01"},
    {"kind": "registration", "child": "C2", "category": "left_behind", "since": "2024-03-01"},
    {"kind": "contact", "from": "F1", "child": "C1", "on": "2026-06-01", "channel": "video"},
    {"kind": "contact", "from": "F1", "child": "C2", "on": "2026-06-01", "channel": "video"},
    {"kind": "visit", "visitor": "D1", "child": "C1", "on": "2026-05-20", "type": "home_visit"},
    {"kind": "report", "id": "RP1", "child": "C1", "reporterRole": "teacher", "at": "2026-04-30T09:00:00+08:00",
     "category": "neglect", "urgency": "high", "description": "一村的报告"},
    {"kind": "report", "id": "RP2", "child": "C2", "reporterRole": "neighbor", "at": "2026-01-09T09:00:00+08:00",
     "category": "abuse", "urgency": "immediate", "description": "二村的秘密报告"},
    {"kind": "case", "id": "K1", "child": "C1", "openedOn": "2026-05-01", "stage": "assessment", "report": "RP1"},
    {"kind": "case", "id": "KC", "child": "C1", "openedOn": "2025-01-01", "stage": "closed"},
    {"kind": "case", "id": "K2", "child": "C2", "openedOn": "2026-01-10", "stage": "closed", "report": "RP2"},
    {"kind": "referral", "id": "R1", "case": "K1", "institution": "I1", "service": "family_guidance",
     "on": "2026-05-02", "dueOn": "2026-05-09", "status": "pending"},
    {"kind": "referral", "id": "R2", "case": "K2", "institution": "I2", "service": "education",
     "on": "2026-01-11", "dueOn": "2026-01-18", "status": "completed", "reason": "R2 reason"},
)  # fmt: skip


def line(record: dict[str, object]) -> str:
    return orjson.dumps(record).decode()


def world_lines() -> list[str]:
    return [line(record) for record in WORLD]


async def load_world(graph: Graph, workdir: Path) -> None:
    result = await import_bundle(graph, world_lines(), today=TODAY, workdir=workdir, caller=ADMIN)
    assert result.ok, result.rejected
