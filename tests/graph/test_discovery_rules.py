"""Every boundary docs/discovery.md and docs/domain.md state, one child per side of each."""

from __future__ import annotations

import datetime as dt

from graph.discovery import Thresholds, discover, risk_profile
from graph.driver import Graph
from tests import factories as f
from tests.graph.discovery_helpers import HOUSEHOLD, KEEP, VISITOR, D, birthday, day, findings, left_behind_child, world

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


async def two_parent_child(graph: Graph, cid: str, *, born: dt.date = dt.date(2022, 3, 3)) -> tuple[str, str]:
    """Child `cid` with two recorded parents at home (`cid-F`, `cid-M`): nothing derived yet."""
    await f.person(graph, cid, born, household=HOUSEHOLD)
    for suffix in ("F", "M"):
        await f.person(graph, f"{cid}-{suffix}", dt.date(1990, 1, 1), household=HOUSEHOLD)
        await f.parent(graph, f"{cid}-{suffix}", cid)
    return f"{cid}-F", f"{cid}-M"


async def test_left_behind_needs_a_recorded_parent_all_absent_and_one_away_and_age_under_16(
    clean_graph: Graph,
) -> None:
    g = clean_graph
    await world(g)
    await left_behind_child(g, "one-parent-away", registered=False)
    await f.person(g, "no-parent", dt.date(2022, 1, 1), household=HOUSEHOLD)
    away, _home = await two_parent_child(g, "other-at-home")
    await f.away(g, away, KEEP)
    away, jailed = await two_parent_child(g, "other-jailed")
    await f.away(g, away, KEEP)
    await f.condition(g, jailed, "imprisoned", KEEP)
    away, jailed = await two_parent_child(g, "other-jailed-until-D")
    await f.away(g, away, KEEP)
    await f.condition(g, jailed, "imprisoned", KEEP, until=D)
    away, freed = await two_parent_child(g, "other-freed-yesterday")
    await f.away(g, away, KEEP)
    await f.condition(g, freed, "imprisoned", KEEP, until=day(-1))
    first, second = await two_parent_child(g, "both-jailed")
    await f.condition(g, first, "imprisoned", KEEP)
    await f.condition(g, second, "detained", KEEP)
    await left_behind_child(g, "away-until-D", registered=False, away_until=D)
    await left_behind_child(g, "back-yesterday", registered=False, away_until=day(-1))
    await f.person(g, "away-from-tomorrow", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "away-from-tomorrow-F", dt.date(1990, 1, 1), household=HOUSEHOLD)
    await f.parent(g, "away-from-tomorrow-F", "away-from-tomorrow")
    await f.away(g, "away-from-tomorrow-F", day(1))
    # A dead parent is not away, even with an open away episode.
    await f.person(g, "away-but-dead", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "away-but-dead-F", dt.date(1990, 1, 1), household=HOUSEHOLD, deceased_on=D)
    await f.parent(g, "away-but-dead-F", "away-but-dead")
    await f.away(g, "away-but-dead-F", KEEP)
    await left_behind_child(g, "fifteen", born=birthday(16, 1), registered=False)
    await left_behind_child(g, "sixteen", born=birthday(16), registered=False)

    fired = await findings(g, rules=["UNREGISTERED_LEFT_BEHIND"])
    assert {cid for cid, rules in fired.items() if rules} == {
        "one-parent-away",
        "other-jailed",
        "other-jailed-until-D",
        "away-until-D",
        "fifteen",
    }
    assert len(fired) == 13
    profile = await risk_profile(g, "other-jailed", scope_prefix="", as_of=D, thresholds=Thresholds())
    assert profile is not None
    kinds = {(e.kind, e.id or e.person_id) for e in profile.findings[0].evidence}
    assert kinds == {
        ("parent", "other-jailed-F"),
        ("parent", "other-jailed-M"),
        ("away", "other-jailed-F"),
        ("condition", "other-jailed-M"),
    }


async def test_de_facto_unsupported_needs_two_parents_all_lacking_capacity_and_not_an_orphan(
    clean_graph: Graph,
) -> None:
    g = clean_graph
    await world(g)
    first, second = await two_parent_child(g, "jailed-and-ill")
    await f.condition(g, first, "imprisoned", KEEP)
    await f.condition(g, second, "serious_illness", KEEP, until=D)
    await f.person(g, "dead-and-missing", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "dead-and-missing-F", dt.date(1990, 1, 1), household=HOUSEHOLD, deceased_on=D)
    await f.parent(g, "dead-and-missing-F", "dead-and-missing")
    await f.person(g, "dead-and-missing-M", dt.date(1990, 1, 1), household=HOUSEHOLD)
    await f.parent(g, "dead-and-missing-M", "dead-and-missing")
    await f.condition(g, "dead-and-missing-M", "missing", KEEP)
    await f.person(g, "orphan", dt.date(2022, 1, 1), household=HOUSEHOLD)
    for suffix in ("F", "M"):
        await f.person(g, f"orphan-{suffix}", dt.date(1990, 1, 1), household=HOUSEHOLD, deceased_on=KEEP)
        await f.parent(g, f"orphan-{suffix}", "orphan")
    await f.person(g, "one-parent-jailed", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "one-parent-jailed-F", dt.date(1990, 1, 1), household=HOUSEHOLD)
    await f.parent(g, "one-parent-jailed-F", "one-parent-jailed")
    await f.condition(g, "one-parent-jailed-F", "imprisoned", KEEP)
    first, _ = await two_parent_child(g, "other-capable")
    await f.condition(g, first, "imprisoned", KEEP)
    first, second = await two_parent_child(g, "illness-ended")
    await f.condition(g, first, "imprisoned", KEEP)
    await f.condition(g, second, "serious_illness", KEEP, until=day(-1))
    first, second = await two_parent_child(g, "registered")
    await f.condition(g, first, "imprisoned", KEEP)
    await f.condition(g, second, "compulsory_rehab", KEEP)
    await f.registration(g, "registered", "de_facto_unsupported", KEEP, until=D)
    first, second = await two_parent_child(g, "registration-lapsed")
    await f.condition(g, first, "imprisoned", KEEP)
    await f.condition(g, second, "severe_disability", KEEP)
    await f.registration(g, "registration-lapsed", "de_facto_unsupported", KEEP, until=day(-1))
    # Records dated after D do not exist: a death tomorrow leaves a capable parent today.
    await f.person(g, "dies-tomorrow", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "dies-tomorrow-F", dt.date(1990, 1, 1), household=HOUSEHOLD, deceased_on=day(1))
    await f.parent(g, "dies-tomorrow-F", "dies-tomorrow")
    await f.person(g, "dies-tomorrow-M", dt.date(1990, 1, 1), household=HOUSEHOLD)
    await f.parent(g, "dies-tomorrow-M", "dies-tomorrow")
    await f.condition(g, "dies-tomorrow-M", "imprisoned", KEEP)

    fired = await findings(g, rules=["UNREGISTERED_DE_FACTO_UNSUPPORTED"])
    assert {cid for cid, rules in fired.items() if rules} == {
        "jailed-and-ill",
        "dead-and-missing",
        "registration-lapsed",
    }
    assert fired["jailed-and-ill"] == {"UNREGISTERED_DE_FACTO_UNSUPPORTED": "red"}
    assert len(fired) == 9
    assert (await findings(g, rules=["UNREGISTERED_DE_FACTO_UNSUPPORTED"], as_of=day(1)))["dies-tomorrow"] == {
        "UNREGISTERED_DE_FACTO_UNSUPPORTED": "red"
    }


async def test_caregiver_rules_at_every_edge_of_care_age_condition_agreement_and_placement(
    clean_graph: Graph,
) -> None:
    g = clean_graph
    await world(g)
    await f.institution(g, "I-center", "minor_protection_center", "360732000000")
    await left_behind_child(g, "cared")
    await left_behind_child(g, "care-until-D", care_until=D)
    await left_behind_child(g, "care-ended", care_until=day(-1))
    await left_behind_child(g, "no-care", caregiver_born=None)
    await left_behind_child(g, "placed", caregiver_born=None)
    await f.placement(g, "placed", "I-center", KEEP, until=D)
    await left_behind_child(g, "placement-ended", caregiver_born=None)
    await f.placement(g, "placement-ended", "I-center", KEEP, until=day(-1))
    await left_behind_child(g, "carer-dead")
    await f.person(g, "x-dead", dt.date(1950, 1, 1), household=HOUSEHOLD, deceased_on=D)
    await f.care(g, "x-dead", "carer-dead", KEEP, agreement_signed_on=KEEP)
    await g.write("MATCH (:Person {id: 'carer-dead-G'})-[k:CARES_FOR]->() DELETE k")
    await left_behind_child(g, "carer-17", caregiver_born=birthday(18, 1))
    await left_behind_child(g, "carer-18", caregiver_born=birthday(18))
    await left_behind_child(g, "carer-abusive")
    await f.condition(g, "carer-abusive-G", "abuse_record", D)
    await left_behind_child(g, "carer-was-abusive")
    await f.condition(g, "carer-was-abusive-G", "neglect_record", KEEP, until=day(-1))
    await left_behind_child(g, "carer-70", caregiver_born=birthday(70))
    await left_behind_child(g, "carer-69", caregiver_born=birthday(70, 1))
    await left_behind_child(g, "carer-ill")
    await f.condition(g, "carer-ill-G", "serious_illness", KEEP)
    await left_behind_child(g, "old-and-young", caregiver_born=birthday(75))
    await f.person(g, "x-young", dt.date(1985, 1, 1), household=HOUSEHOLD)
    await f.care(g, "x-young", "old-and-young", KEEP, agreement_signed_on=KEEP)
    await left_behind_child(g, "care-from-tomorrow", caregiver_born=None)
    await f.care(g, "cared-G", "care-from-tomorrow", day(1), agreement_signed_on=KEEP)
    await left_behind_child(g, "unsigned", signed=None)
    await left_behind_child(g, "signed-on-D", signed=D)
    await left_behind_child(g, "signed-tomorrow", signed=day(1))
    # Not left-behind (no recorded parent): the caregiver rules that do not ask for it still apply.
    await f.person(g, "at-home", dt.date(2022, 1, 1), household=HOUSEHOLD)
    await f.person(g, "at-home-G", birthday(17), household=HOUSEHOLD)
    await f.care(g, "at-home-G", "at-home", KEEP)

    rules = ["NO_CAREGIVER", "CAREGIVER_UNFIT", "CAREGIVER_INCAPABLE", "NO_WRITTEN_AGREEMENT"]
    assert await findings(g, rules=rules) == {
        "cared": {},
        "care-until-D": {},
        "care-ended": {"NO_CAREGIVER": "red"},
        "care-from-tomorrow": {"NO_CAREGIVER": "red"},
        "no-care": {"NO_CAREGIVER": "red"},
        "placed": {},
        "placement-ended": {"NO_CAREGIVER": "red"},
        "carer-dead": {"NO_CAREGIVER": "red", "CAREGIVER_INCAPABLE": "yellow"},
        "carer-17": {"CAREGIVER_UNFIT": "red"},
        "carer-18": {},
        "carer-abusive": {"CAREGIVER_UNFIT": "red"},
        "carer-was-abusive": {},
        "carer-70": {"CAREGIVER_INCAPABLE": "yellow"},
        "carer-69": {},
        "carer-ill": {"CAREGIVER_INCAPABLE": "yellow"},
        "old-and-young": {},
        "unsigned": {"NO_WRITTEN_AGREEMENT": "blue"},
        "signed-on-D": {},
        "signed-tomorrow": {"NO_WRITTEN_AGREEMENT": "blue"},
        "at-home": {"CAREGIVER_UNFIT": "red", "NO_WRITTEN_AGREEMENT": "blue"},
        # Caregivers under 18 are children themselves.
        "carer-17-G": {},
        "at-home-G": {},
    }


async def test_contact_lapse_counts_parents_and_current_guardians_with_7_and_30_day_edges(
    clean_graph: Graph,
) -> None:
    g = clean_graph
    await world(g)
    await f.institution(g, "I-civil", "minor_protection_center", "360732000000")
    for gap in (7, 8, 30, 31):
        await left_behind_child(g, f"gap-{gap}", contact=day(-gap))
    await left_behind_child(g, "never", contact=None)
    await left_behind_child(g, "only-after-D", contact=day(1))
    await left_behind_child(g, "from-guardian", contact=None)
    await f.person(g, "gran", dt.date(1960, 1, 1), household=HOUSEHOLD)
    await f.guardian(g, "gran", "from-guardian", KEEP, until=D, basis="relative")
    await f.contact(g, "gran", "from-guardian", day(-2))
    await left_behind_child(g, "from-past-guardian", contact=None)
    await f.guardian(g, "gran", "from-past-guardian", KEEP, until=day(-1), basis="relative")
    await f.contact(g, "gran", "from-past-guardian", day(-2))
    await left_behind_child(g, "from-caregiver", contact=None)
    await f.contact(g, "from-caregiver-G", "from-caregiver", day(-1))
    # An institution may be a guardian; it never contacts, and it breaks nothing.
    await left_behind_child(g, "state-guardian", contact=day(-9))
    await f.guardian(g, "I-civil", "state-guardian", KEEP, basis="state")

    fired = await findings(g, rules=["CONTACT_LAPSE"])
    assert fired == {
        "gap-7": {},
        "gap-8": {"CONTACT_LAPSE": "blue"},
        "gap-30": {"CONTACT_LAPSE": "blue"},
        "gap-31": {"CONTACT_LAPSE": "yellow"},
        "never": {"CONTACT_LAPSE": "yellow"},
        "only-after-D": {"CONTACT_LAPSE": "yellow"},
        "from-guardian": {},
        "from-past-guardian": {"CONTACT_LAPSE": "yellow"},
        "from-caregiver": {"CONTACT_LAPSE": "yellow"},
        "state-guardian": {"CONTACT_LAPSE": "blue"},
    }
    profile = await risk_profile(g, "gap-8", scope_prefix="", as_of=D, thresholds=Thresholds())
    assert profile is not None
    (evidence,) = profile.findings[0].evidence
    assert (evidence.kind, evidence.person_id, evidence.on, evidence.days) == ("contact", "gap-8-F", day(-8), 8)


async def test_visit_overdue_counts_home_visits_only_with_31_and_92_day_edges(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    for gap in (31, 32, 92, 93):
        await left_behind_child(g, f"gap-{gap}", visit=day(-gap))
    await left_behind_child(g, "never", visit=None)
    await left_behind_child(g, "only-after-D", visit=day(1))
    await left_behind_child(g, "school-visit", visit=None)
    await f.visit(g, VISITOR, "school-visit", day(-1), type="school_visit")
    await f.visit(g, VISITOR, "school-visit", day(-2), type="phone_check")
    # Not left-behind, but registered in a watched category.
    for category, until in (("in_difficulty", D), ("orphan", None), ("in_difficulty", day(-1)), ("disability", None)):
        cid = f"{category}-{until}"
        await f.person(g, cid, dt.date(2022, 1, 1), household=HOUSEHOLD)
        await f.registration(g, cid, category, KEEP, until=until)

    assert await findings(g, rules=["VISIT_OVERDUE"]) == {
        "gap-31": {},
        "gap-32": {"VISIT_OVERDUE": "blue"},
        "gap-92": {"VISIT_OVERDUE": "blue"},
        "gap-93": {"VISIT_OVERDUE": "yellow"},
        "never": {"VISIT_OVERDUE": "yellow"},
        "only-after-D": {"VISIT_OVERDUE": "yellow"},
        "school-visit": {"VISIT_OVERDUE": "yellow"},
        f"in_difficulty-{D}": {"VISIT_OVERDUE": "yellow"},
        "orphan-None": {"VISIT_OVERDUE": "yellow"},
        f"in_difficulty-{day(-1)}": {},
        "disability-None": {},
    }


async def test_report_unhandled_day_edges_cases_time_zone_and_highest_level(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)

    def at(offset: int, hour: int = 10, zone: dt.tzinfo = SHANGHAI) -> dt.datetime:
        return dt.datetime.combine(day(offset), dt.time(hour, 30), tzinfo=zone)

    async def reported(cid: str, *reports: tuple[dt.datetime, str]) -> None:
        await f.person(g, cid, dt.date(2022, 1, 1), household=HOUSEHOLD)
        for n, (when, urgency) in enumerate(reports):
            await f.report(g, f"R-{cid}-{n}", cid, when, urgency=urgency)

    await reported("immediate-1", (at(-1), "immediate"))
    await reported("immediate-2", (at(-2), "immediate"))
    await reported("high-3", (at(-3), "high"))
    await reported("high-4", (at(-4), "high"))
    await reported("normal-7", (at(-7), "normal"))
    await reported("normal-8", (at(-8), "normal"))
    await reported("case-same-day", (at(-10), "normal"))
    await f.case(g, "K-same", "case-same-day", day(-10), report="R-case-same-day-0")
    await reported("case-before", (at(-10), "normal"))
    await f.case(g, "K-before", "case-before", day(-11))
    await reported("case-after-D", (at(-10), "high"))
    await f.case(g, "K-after", "case-after-D", day(1))
    await reported("report-after-D", (at(1), "immediate"))
    # 23:30 UTC two days ago is yesterday in Shanghai: one day, not more.
    await reported("utc-late", (at(-2, 23, dt.UTC), "immediate"))
    # 00:30 at +09:00 yesterday is two days ago in Shanghai: more than one day.
    await reported("tokyo-early", (at(-1, 0, dt.timezone(dt.timedelta(hours=9))), "immediate"))
    await reported("mixed", (at(-8), "normal"), (at(-4), "high"), (at(-1), "high"))

    fired = await findings(g, rules=["REPORT_UNHANDLED"])
    assert fired == {
        "immediate-1": {},
        "immediate-2": {"REPORT_UNHANDLED": "red"},
        "high-3": {},
        "high-4": {"REPORT_UNHANDLED": "red"},
        "normal-7": {},
        "normal-8": {"REPORT_UNHANDLED": "yellow"},
        "case-same-day": {},
        "case-before": {"REPORT_UNHANDLED": "yellow"},
        "case-after-D": {"REPORT_UNHANDLED": "red"},
        "report-after-D": {},
        "utc-late": {},
        "tokyo-early": {"REPORT_UNHANDLED": "red"},
        "mixed": {"REPORT_UNHANDLED": "red"},
    }
    profile = await risk_profile(g, "mixed", scope_prefix="", as_of=D, thresholds=Thresholds())
    assert profile is not None
    assert [(e.id, e.urgency, e.on) for e in profile.findings[0].evidence] == [
        ("R-mixed-0", "normal", day(-8)),
        ("R-mixed-1", "high", day(-4)),
    ]
    # Read in the reports' own +00:00 zone instead, utc-late is two days old.
    utc = await findings(g, rules=["REPORT_UNHANDLED"], thresholds=Thresholds(timezone="UTC"))
    assert utc["utc-late"] == {"REPORT_UNHANDLED": "red"}


async def test_referral_overdue_by_due_date_and_status_then(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await f.institution(g, "I-ws", "minor_protection_workstation", "360732100000", services=["family_guidance"])

    async def referred(cid: str, due: dt.date, status: str) -> str:
        await f.person(g, cid, dt.date(2022, 1, 1), household=HOUSEHOLD)
        await f.case(g, f"K-{cid}", cid, day(-30))
        await f.referral(g, f"F-{cid}", f"K-{cid}", "I-ws", "family_guidance", day(-20), due, status=status)
        return f"F-{cid}"

    await referred("due-D", D, "pending")
    await referred("due-yesterday", day(-1), "pending")
    await referred("accepted", day(-1), "accepted")
    await referred("completed", day(-1), "completed")
    await referred("declined", day(-1), "declined")
    later = await referred("completed-after-D", day(-1), "completed")
    await f.status_change(g, later, "pending", dt.datetime(2026, 5, 26, 9, tzinfo=SHANGHAI))
    await f.status_change(g, later, "completed", dt.datetime(2026, 6, 17, 9, tzinfo=SHANGHAI))
    done = await referred("completed-before-D", day(-1), "completed")
    await f.status_change(g, done, "accepted", dt.datetime(2026, 5, 27, 9, tzinfo=SHANGHAI))
    await f.status_change(g, done, "completed", dt.datetime(2026, 6, 14, 9, tzinfo=SHANGHAI))

    fired = await findings(g, rules=["REFERRAL_OVERDUE"])
    assert fired == {
        "due-D": {},
        "due-yesterday": {"REFERRAL_OVERDUE": "yellow"},
        "accepted": {"REFERRAL_OVERDUE": "yellow"},
        "completed": {},
        "declined": {},
        "completed-after-D": {"REFERRAL_OVERDUE": "yellow"},
        "completed-before-D": {},
    }
    # Once the completion has happened, the same referral is no longer overdue.
    assert (await findings(g, rules=["REFERRAL_OVERDUE"], as_of=day(3)))["completed-after-D"] == {}
    profile = await risk_profile(g, "completed-after-D", scope_prefix="", as_of=D, thresholds=Thresholds())
    assert profile is not None
    (evidence,) = profile.findings[0].evidence
    assert (evidence.kind, evidence.id, evidence.status, evidence.due_on, evidence.case_id) == (
        "referral",
        "F-completed-after-D",
        "pending",
        day(-1),
        "K-completed-after-D",
    )


async def test_school_age_overload_pairing_and_low_income_edges(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await f.household(g, "H-poor", "360732100201", low_income=["dibao"])
    await f.institution(g, "I-school", "school", "360732100000")
    await f.institution(g, "I-kinder", "kindergarten", "360732100000")

    async def child(cid: str, born: dt.date, household: str = HOUSEHOLD) -> None:
        await f.person(g, cid, born, household=household)

    await child("turns-6-on-D", birthday(6))
    await child("turns-6-tomorrow", birthday(6, 1))
    await child("turns-16-tomorrow", birthday(16, 1))
    await child("turns-16-on-D", birthday(16))
    await child("kindergarten-8", birthday(8, 30))
    await f.enrollment(g, "kindergarten-8", "I-kinder", KEEP)
    await child("school-until-D", birthday(8, 30))
    await f.enrollment(g, "school-until-D", "I-school", KEEP, until=D)
    await child("school-ended", birthday(8, 30))
    await f.enrollment(g, "school-ended", "I-school", KEEP, until=day(-1))
    fired = await findings(g, rules=["OUT_OF_SCHOOL"])
    assert {cid for cid, rules in fired.items() if rules} == {
        "turns-6-on-D",
        "turns-16-tomorrow",
        "kindergarten-8",
        "school-ended",
    }
    await g.write("MATCH (n) WHERE n:Person OR n:Registration DETACH DELETE n")

    # Overload counts distinct living children under 18 with care holding at D, wherever they live.
    await f.person(g, "busy", dt.date(1960, 1, 1), household=HOUSEHOLD)
    await f.person(g, "relaxed", dt.date(1960, 1, 1), household=HOUSEHOLD)
    for n in range(3):
        await child(f"busy-{n}", dt.date(2020, 1, 1 + n))
        await f.care(g, "busy", f"busy-{n}", KEEP, agreement_signed_on=KEEP)
    await f.person(g, "busy-elsewhere", dt.date(2020, 2, 1))  # no household, still counted
    await f.care(g, "busy", "busy-elsewhere", KEEP, until=D, agreement_signed_on=KEEP)
    for n, (born, dies, until) in enumerate(
        [
            (dt.date(2020, 1, 1), None, None),
            (dt.date(2020, 1, 1), day(-1), None),  # dead at D
            (birthday(18), None, None),  # 18 at D
            (dt.date(2020, 1, 1), None, day(-1)),  # care ended
            (day(1), None, None),  # not yet born
        ]
    ):
        await f.person(g, f"relaxed-{n}", born, household=HOUSEHOLD, deceased_on=dies)
        await f.care(g, "relaxed", f"relaxed-{n}", KEEP, until=until, agreement_signed_on=KEEP)
    await f.person(g, "relaxed-5", dt.date(2020, 1, 1), household=HOUSEHOLD)
    await f.care(g, "relaxed", "relaxed-5", KEEP, agreement_signed_on=KEEP)
    await f.person(g, "relaxed-6", dt.date(2020, 1, 1), household=HOUSEHOLD)
    await f.care(g, "relaxed", "relaxed-6", KEEP, agreement_signed_on=KEEP)
    fired = await findings(g, rules=["CAREGIVER_OVERLOAD"])
    assert {cid for cid, rules in fired.items() if rules} == {f"busy-{n}" for n in range(3)}
    profile = await risk_profile(
        g, "busy-0", scope_prefix="", as_of=D, thresholds=Thresholds(), rules=["CAREGIVER_OVERLOAD"]
    )
    assert profile is not None
    assert [(e.kind, e.id, e.count) for e in profile.findings[0].evidence] == [("caregiver", "busy", 4)]
    # The day after, the care of busy-elsewhere has ended: three children are not an overload.
    assert (await findings(g, rules=["CAREGIVER_OVERLOAD"], as_of=day(1)))["busy-0"] == {}
    await g.write("MATCH (n:Person) DETACH DELETE n")

    await f.person(g, VISITOR, dt.date(1985, 5, 5), household=HOUSEHOLD)
    await left_behind_child(g, "paired-until-D", paired=False)
    await f.pairing(g, VISITOR, "paired-until-D", KEEP, until=D)
    await left_behind_child(g, "pairing-ended", paired=False)
    await f.pairing(g, VISITOR, "pairing-ended", KEEP, until=day(-1))
    for category in ("orphan", "de_facto_unsupported", "in_difficulty"):
        await child(f"registered-{category}", dt.date(2022, 1, 1))
        await f.registration(g, f"registered-{category}", category, KEEP)
    await left_behind_child(g, "poor-left-behind", household="H-poor")
    await child("poor-at-home", dt.date(2022, 1, 1), household="H-poor")
    assert await findings(g, rules=["UNPAIRED", "LOW_INCOME_HOUSEHOLD"]) == {
        "paired-until-D": {},
        "pairing-ended": {"UNPAIRED": "blue"},
        "registered-orphan": {"UNPAIRED": "blue"},
        "registered-de_facto_unsupported": {"UNPAIRED": "blue"},
        "registered-in_difficulty": {},
        "poor-left-behind": {"LOW_INCOME_HOUSEHOLD": "blue"},
        "poor-at-home": {},
    }


async def test_a_finding_reports_the_higher_level_once_and_the_child_takes_the_highest(clean_graph: Graph) -> None:
    g = clean_graph
    await world(g)
    await left_behind_child(g, "many", contact=None, visit=day(-40), registered=False, signed=None)
    result = await discover(g, region_prefix="3607", scope_prefix="", as_of=D, thresholds=Thresholds())
    (child,) = result.children
    assert [(x.rule, x.level.value) for x in child.findings] == [
        ("CONTACT_LAPSE", "yellow"),
        ("UNREGISTERED_LEFT_BEHIND", "yellow"),
        ("VISIT_OVERDUE", "blue"),
        ("NO_WRITTEN_AGREEMENT", "blue"),
    ]
    assert child.level.value == "yellow"
