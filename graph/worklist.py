"""The worklist (工作清单): what each child in the caller's scope needs from them now, and why.

Built on discovery, never inside it: the fourteen rules judge the children of the scope as of
D (`graph.discovery.discover`), and each finding becomes a step with what to do (`action`, in
Chinese in `action_text`), why (`reason`, from the evidence), since when it has been true, what
clears it, and the due date of its live alert (owner and escalation with it). Planned visits
follow 一年两排、季季巡、月月访 (docs/worklist.md), read from the colour of the child at D:

- 月月访, monthly visits: a red or yellow child gets a home visit every calendar month;
- 季季巡, quarterly patrols: a blue child gets one every calendar quarter;
- 一年两排, twice-yearly screening rounds: every child (green included) gets one in each half
  of the year (January to June, July to December).

A child with no home visit in the current period has a planned visit due on the period's last
day; a green child's screening visit enters the worklist only in the last `SCREENING_NOTICE`
days of the half-year (before that it is in coverage, not yet work). Items are ordered by
level, then due date, then child id.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, LiteralString

from graph import alerts
from graph.cases import CaseRecord
from graph.dates import native_date
from graph.discovery import RULES, ChildRisk, Evidence, Finding, Level, Thresholds, discover
from graph.driver import Graph
from graph.errors import InvalidInput
from graph.risk import AlertPolicy

#: Days before the end of a half-year when an unvisited green child's screening is work.
SCREENING_NOTICE: Final = 30


class Cadence(enum.StrEnum):
    MONTHLY = "monthly"  # 月月访
    QUARTERLY = "quarterly"  # 季季巡
    HALF_YEARLY = "half_yearly"  # 一年两排

    @classmethod
    def of(cls, level: Level) -> Cadence:
        if level in (Level.RED, Level.YELLOW):
            return cls.MONTHLY
        return cls.QUARTERLY if level is Level.BLUE else cls.HALF_YEARLY

    def period(self, day: dt.date) -> tuple[dt.date, dt.date]:
        """The first and last day of the period of this cadence that contains `day`."""
        months = {Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3, Cadence.HALF_YEARLY: 6}[self]
        first_month = (day.month - 1) // months * months + 1
        start = dt.date(day.year, first_month, 1)
        end_month = first_month + months
        end = (dt.date(day.year + 1, 1, 1) if end_month > 12 else dt.date(day.year, end_month, 1)) - dt.timedelta(1)
        return start, end


CADENCE_TEXT: Final = {
    Cadence.MONTHLY: "月月访：红色、黄色儿童每月入户走访一次",
    Cadence.QUARTERLY: "季季巡：蓝色儿童每季度入户走访一次",
    Cadence.HALF_YEARLY: "一年两排：每名儿童每半年入户排查一次",
}

PERIOD_WORD: Final = {Cadence.MONTHLY: "月", Cadence.QUARTERLY: "季度", Cadence.HALF_YEARLY: "半年"}


@dataclass(frozen=True, slots=True)
class Action:
    code: str
    text: str
    clears: str


#: What to do about each rule's finding, and what clears it.
ACTIONS: Final = {
    "NO_CAREGIVER": Action(
        "ARRANGE_CARE",
        "立即落实照护：督促监护人委托照护人，或安排临时监护、紧急安置",
        "记录一名在世的被委托照护人，或将儿童安置到机构",
    ),
    "CAREGIVER_UNFIT": Action(
        "REPLACE_CAREGIVER",
        "立即更换不适格的被委托照护人，必要时报告并安置",
        "结束该照护记录并落实合格照护人，或照护人的不良记录失效",
    ),
    "UNREGISTERED_DE_FACTO_UNSUPPORTED": Action(
        "REGISTER_CHILD",
        "申报事实无人抚养儿童认定",
        "登记为事实无人抚养儿童",
    ),
    "REPORT_UNHANDLED": Action(
        "RESPOND_TO_REPORT",
        "核实报告并立案处置",
        "为该儿童开立个案（立案日期不早于报告日期）",
    ),
    "CAREGIVER_INCAPABLE": Action(
        "REVIEW_CAREGIVER",
        "评估照护能力，协调另行委托有能力的照护人",
        "增加一名未满70岁且有照护能力的照护人",
    ),
    "CONTACT_LAPSE": Action(
        "CONTACT_PARENTS",
        "联系外出父母，督促与孩子保持联系（每周至少一次）",
        "记录父母或监护人与孩子的一次联系",
    ),
    "VISIT_OVERDUE": Action("VISIT", "入户走访", "记录一次入户走访（home_visit）"),
    "OUT_OF_SCHOOL": Action("ARRANGE_SCHOOLING", "核实就学情况，劝返复学", "记录在读学校的入学信息"),
    "UNREGISTERED_LEFT_BEHIND": Action("REGISTER_CHILD", "登记为农村留守儿童", "登记为农村留守儿童"),
    "REFERRAL_OVERDUE": Action("FOLLOW_UP_REFERRAL", "跟进逾期的转介", "转介机构办结、拒绝，或撤回转介"),
    "NO_WRITTEN_AGREEMENT": Action(
        "SIGN_CARE_AGREEMENT",
        "指导父母与照护人签订书面委托照护协议",
        "记录协议签订日期",
    ),
    "CAREGIVER_OVERLOAD": Action(
        "REVIEW_CARE_LOAD",
        "评估照护人负担，协调分担照护",
        "照护人同时照护的儿童少于4名",
    ),
    "UNPAIRED": Action("PAIR_VOLUNTEER", "安排结对帮扶", "记录一项结对帮扶"),
    "LOW_INCOME_HOUSEHOLD": Action(
        "CHECK_ASSISTANCE",
        "核查低保、特困等社会救助是否落实到儿童",
        "家庭不再是低收入户，或儿童不再是留守儿童",
    ),
}
#: An open case past its stage's deadline (`graph.followup`): not a discovery rule, so it never
#: changes the child's colour, but it is work for the people of the child's scope.
LATE_CASE: Final = Action("FOLLOW_UP_CASE", "督促推进逾期个案", "个案推进到下一阶段或结案")
CASE_STAGE_TEXT: Final = {
    "reported": "发现报告",
    "emergency_response": "应急处置",
    "assessment": "评估帮扶",
    "intervention": "监护干预",
}

PLANNED_VISIT: Final = Action("VISIT", "按计划入户走访", "本周期内记录一次入户走访（home_visit）")

CONDITIONS: Final = {
    "missing": "失联",
    "imprisoned": "服刑在押",
    "compulsory_rehab": "强制隔离戒毒",
    "detained": "被限制人身自由",
    "severe_disability": "重残",
    "serious_illness": "重病",
    "abuse_record": "性侵害、虐待、遗弃等记录",
    "substance_abuse": "吸毒、酗酒、赌博记录",
    "neglect_record": "怠于履行照护职责记录",
}
LOW_INCOME: Final = {"dibao": "低保", "tekun": "特困", "dibao_edge": "低保边缘", "poverty_monitoring": "防返贫监测"}
URGENCY: Final = {"immediate": "紧急", "high": "较急", "normal": "一般"}
CATEGORIES: Final = {
    "left_behind": "农村留守儿童",
    "de_facto_unsupported": "事实无人抚养儿童",
    "orphan": "孤儿",
    "in_difficulty": "困境儿童",
    "disability": "残疾儿童",
}

#: The name of each person evidence names (linked persons show as far as id and name).
NAMES: LiteralString = """
UNWIND $ids AS id
MATCH (p:Person {id: id})
RETURN p.id AS id, p.name AS name
"""

#: The date of each child's latest home visit on or before D.
LAST_VISITS: LiteralString = """
UNWIND $ids AS id
MATCH (c:Person {id: id})
OPTIONAL CALL (c) {
  MATCH (c)<-[v:VISITED]-()
  WHERE v.type = 'home_visit' AND v.on <= $asOf
  RETURN max(v.on) AS last
}
RETURN c.id AS id, last
"""


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do for a child: for a finding (`rule` set) or a planned visit (`rule` None)."""

    action: str
    action_text: str
    level: Level
    reason: str
    clears: str
    since: dt.date | None
    due_on: dt.date
    rule: str | None = None
    cadence: Cadence | None = None
    alert: alerts.Alert | None = None


@dataclass(frozen=True, slots=True)
class WorkItem:
    child_id: str
    name: str | None
    region_code: str | None
    level: Level
    steps: tuple[Step, ...]
    findings: tuple[Finding, ...]
    last_visit: dt.date | None

    @property
    def first(self) -> Step:
        return self.steps[0]

    @property
    def due_on(self) -> dt.date:
        return min(s.due_on for s in self.steps)

    @property
    def since(self) -> dt.date | None:
        known = [s.since for s in self.steps if s.since is not None]
        return min(known) if known else None

    @property
    def reasons(self) -> list[str]:
        return [s.reason for s in self.steps]

    @property
    def rank(self) -> int:
        """The most urgent step's level: the child's colour, or red for a late case."""
        return max(s.level.rank for s in self.steps)

    def key(self) -> tuple[int, dt.date, str]:
        return (-self.rank, self.due_on, self.child_id)


@dataclass(frozen=True, slots=True)
class Worklist:
    items: tuple[WorkItem, ...]
    total_count: int
    has_next_page: bool
    as_of: dt.date


def cursor_value(item: WorkItem) -> str:
    return f"{item.rank}|{item.due_on.isoformat()}"


def decode_position(value: str | None, child_id: str) -> tuple[int, dt.date, str]:
    try:
        rank, due = (value or "").split("|")
        return (-int(rank), dt.date.fromisoformat(due), child_id)
    except ValueError as error:
        raise InvalidInput("after", "not a cursor of this list") from error


@dataclass(slots=True)
class _Names:
    names: Mapping[str, str | None] = field(default_factory=dict)

    def __call__(self, person_id: str | None) -> str:
        if person_id is None:
            return "某人"
        return self.names.get(person_id) or person_id


def _fmt(day: dt.date | None) -> str:
    return "" if day is None else f"{day.year}年{day.month}月{day.day}日"


def _parents(evidence: Sequence[Evidence], name: _Names) -> str:
    parts = []
    for e in evidence:
        if e.kind == "away":
            parts.append(f"{name(e.person_id)}自{_fmt(e.since)}外出")
        elif e.kind == "death":
            parts.append(f"{name(e.person_id)}已故")
        elif e.kind == "condition":
            parts.append(f"{name(e.person_id)}{CONDITIONS.get(e.type or '', e.type or '')}")
    return "，".join(parts) or "父母均不在身边"


def reason(finding: Finding, name: _Names, thresholds: Thresholds) -> str:
    """The finding in plain Chinese, from its evidence."""
    ev = finding.evidence
    rule = finding.rule
    if rule == "NO_CAREGIVER":
        return f"{_parents(ev, name)}；无在世的被委托照护人，也未安置"
    if rule == "CAREGIVER_UNFIT":
        unfit = [e for e in ev if e.kind == "condition"]
        if unfit:
            return "；".join(f"照护人{name(e.person_id)}有{CONDITIONS.get(e.type or '', e.type)}" for e in unfit)
        return "；".join(f"照护人{name(e.id)}未满18周岁" for e in ev if e.kind == "caregiver")
    if rule == "UNREGISTERED_DE_FACTO_UNSUPPORTED":
        return f"{_parents(ev, name)}；符合事实无人抚养儿童条件，尚未认定登记"
    if rule == "REPORT_UNHANDLED":
        return "；".join(
            f"{_fmt(e.on)}收到{URGENCY.get(e.urgency or '', '')}报告，至今未立案" for e in ev if e.kind == "report"
        )
    if rule == "CAREGIVER_INCAPABLE":
        carers = [name(e.id) for e in ev if e.kind == "caregiver"]
        return f"照护人{'、'.join(carers)}年满{thresholds.caregiver_age}岁或无照护能力"
    if rule == "CONTACT_LAPSE":
        last = next((e for e in ev if e.kind == "contact"), None)
        if last is None:
            return "从未记录父母或监护人与孩子的联系"
        return f"父母或监护人最近一次联系在{_fmt(last.on)}（{name(last.person_id)}），已{last.days}天"
    if rule == "VISIT_OVERDUE":
        last = next((e for e in ev if e.kind == "visit"), None)
        if last is None:
            return "从未入户走访"
        return f"最近一次入户走访在{_fmt(last.on)}，已{last.days}天"
    if rule == "OUT_OF_SCHOOL":
        return "适龄（6至15周岁）但无在读学校记录"
    if rule == "UNREGISTERED_LEFT_BEHIND":
        return f"{_parents(ev, name)}；尚未登记为农村留守儿童"
    if rule == "REFERRAL_OVERDUE":
        return "；".join(
            f"转介{e.id}（{e.status}）应于{_fmt(e.due_on)}前办结，已逾期" for e in ev if e.kind == "referral"
        )
    if rule == "NO_WRITTEN_AGREEMENT":
        return "；".join(
            f"照护人{name(e.caregiver_id)}自{_fmt(e.since)}照护，未签书面委托照护协议" for e in ev if e.kind == "care"
        )
    if rule == "CAREGIVER_OVERLOAD":
        return "；".join(f"照护人{name(e.id)}同时照护{e.count}名儿童" for e in ev if e.kind == "caregiver")
    if rule == "UNPAIRED":
        needy = [CATEGORIES.get(e.category or "", "") for e in ev if e.kind == "registration"]
        return f"{'、'.join(needy) or '农村留守儿童'}，未安排结对帮扶"
    if rule == "LOW_INCOME_HOUSEHOLD":
        values = [LOW_INCOME.get(v, v) for e in ev if e.kind == "household" for v in e.values]
        return f"留守儿童家庭为{'、'.join(values)}户"
    return rule


def since(finding: Finding, thresholds: Thresholds, raised_on: dt.date | None) -> dt.date | None:
    """Since when the finding has been true, where its evidence says; else when it was raised."""
    ev = finding.evidence
    day = dt.timedelta(days=1)
    if finding.rule == "VISIT_OVERDUE":
        visit = next((e for e in ev if e.kind == "visit" and e.on is not None), None)
        if visit is not None and visit.on is not None:
            return visit.on + dt.timedelta(days=thresholds.visit_blue_days) + day
    elif finding.rule == "CONTACT_LAPSE":
        contact = next((e for e in ev if e.kind == "contact" and e.on is not None), None)
        if contact is not None and contact.on is not None:
            return contact.on + dt.timedelta(days=thresholds.contact_blue_days) + day
    elif finding.rule == "REPORT_UNHANDLED":
        waits = {
            "immediate": thresholds.report_immediate_days,
            "high": thresholds.report_high_days,
            "normal": thresholds.report_normal_days,
        }
        dates = [
            e.on + dt.timedelta(days=waits.get(e.urgency or "normal", thresholds.report_normal_days)) + day
            for e in ev
            if e.kind == "report" and e.on is not None
        ]
        if dates:
            return min(dates)
    elif finding.rule == "REFERRAL_OVERDUE":
        dues = [e.due_on + day for e in ev if e.kind == "referral" and e.due_on is not None]
        if dues:
            return min(dues)
    elif finding.rule == "NO_WRITTEN_AGREEMENT":
        cares = [e.since for e in ev if e.kind == "care" and e.since is not None]
        if cares:
            return min(cares)
    elif finding.rule in ("NO_CAREGIVER", "UNREGISTERED_LEFT_BEHIND", "UNPAIRED", "LOW_INCOME_HOUSEHOLD"):
        # left-behind since the latest of the parents' absences began
        starts = [e.since for e in ev if e.kind in ("away", "condition") and e.since is not None]
        if starts:
            return max(starts)
    return raised_on


def _person_ids(risks: Iterable[ChildRisk]) -> list[str]:
    ids: set[str] = set()
    for risk in risks:
        for finding in risk.findings:
            for e in finding.evidence:
                ids.update(i for i in (e.person_id, e.caregiver_id) if i)
                if e.kind in ("caregiver", "parent") and e.id:
                    ids.add(e.id)
    return sorted(ids)


def build_item(
    risk: ChildRisk,
    *,
    as_of: dt.date,
    last_visit: dt.date | None,
    live: Mapping[tuple[str, str], alerts.Alert],
    names: _Names,
    thresholds: Thresholds,
    policy: AlertPolicy,
    late_cases: Sequence[tuple[CaseRecord, dt.datetime]] = (),
) -> WorkItem | None:
    """The child's steps, most urgent first; None when the child needs nothing now."""
    steps: list[Step] = [late_case_step(case, due) for case, due in late_cases]
    for finding in risk.findings:
        action = ACTIONS[finding.rule]
        alert = live.get((risk.child_id, finding.rule))
        due = alert.due_on if alert is not None and alert.due_on is not None else None
        if due is None:  # not yet reconciled (no write or sweep since): due as if raised today
            due = as_of + dt.timedelta(days=policy.days(finding.level))
        steps.append(
            Step(
                action=action.code,
                action_text=action.text,
                level=finding.level,
                reason=reason(finding, names, thresholds),
                clears=action.clears,
                since=since(finding, thresholds, alert.raised_on if alert is not None else None),
                due_on=due,
                rule=finding.rule,
                alert=alert,
            )
        )
    cadence = Cadence.of(risk.level)
    start, end = cadence.period(as_of)
    unvisited = last_visit is None or last_visit < start
    wants_visit = unvisited and not any(s.rule == "VISIT_OVERDUE" for s in steps)
    if wants_visit and (cadence is not Cadence.HALF_YEARLY or (end - as_of).days < SCREENING_NOTICE):
        steps.append(
            Step(
                action=PLANNED_VISIT.code,
                action_text=f"{PLANNED_VISIT.text}（{CADENCE_TEXT[cadence]}）",
                level=risk.level,
                reason=f"本{PERIOD_WORD[cadence]}尚未入户走访（最近一次：{_fmt(last_visit) or '无'}）",
                clears=PLANNED_VISIT.clears,
                since=start,
                due_on=end,
                cadence=cadence,
            )
        )
    if not steps:
        return None
    order = {rule: i for i, rule in enumerate(RULES)}
    steps.sort(key=lambda s: (-s.level.rank, s.due_on, order.get(s.rule or "", len(order))))
    return WorkItem(
        child_id=risk.child_id,
        name=risk.name,
        region_code=risk.region_code,
        level=risk.level,
        steps=tuple(steps),
        findings=risk.findings,
        last_visit=last_visit,
    )


def late_case_step(case: CaseRecord, due: dt.datetime) -> Step:
    stage = CASE_STAGE_TEXT.get(case.stage, case.stage)
    return Step(
        action=LATE_CASE.code,
        action_text=LATE_CASE.text,
        level=Level.RED,
        reason=f"个案{case.id}处于{stage}阶段，应于{_fmt(due.date())}前推进，已逾期",
        clears=LATE_CASE.clears,
        since=due.date(),
        due_on=due.date(),
    )


async def last_visits(graph: Graph, child_ids: Sequence[str], as_of: dt.date) -> dict[str, dt.date | None]:
    records = await graph.read(LAST_VISITS, {"ids": list(child_ids), "asOf": as_of})
    return {r["id"]: native_date(r["last"]) for r in records}


async def worklist(
    graph: Graph,
    *,
    scope_prefix: str,
    as_of: dt.date,
    thresholds: Thresholds,
    policy: AlertPolicy,
    first: int,
    after: tuple[str | None, str] | None = None,
    late_cases: Sequence[tuple[CaseRecord, dt.datetime]] = (),
    materialised: bool = False,
) -> Worklist:
    """The caller's worklist as of `as_of`: every child of the scope who needs something,
    including the children whose open cases are past their stage deadline (`late_cases`);
    `materialised`: today's findings from the risk nodes when they can be trusted."""
    late_by_child: dict[str, list[tuple[CaseRecord, dt.datetime]]] = {}
    for case, due in late_cases:
        late_by_child.setdefault(case.child_id, []).append((case, due))
    found = await discover(
        graph,
        region_prefix=scope_prefix,
        scope_prefix=scope_prefix,
        as_of=as_of,
        thresholds=thresholds,
        materialised=materialised,
    )
    ids = [c.child_id for c in found.children]
    visits = await last_visits(graph, ids, as_of)
    live = {
        (a.child_id, a.rule): a
        for a in await alerts.list_alerts(graph, region_prefix=scope_prefix, scope_prefix=scope_prefix)
        if a.status != alerts.RESOLVED
    }
    people = await graph.read(NAMES, {"ids": _person_ids(found.children)})
    names = _Names({r["id"]: r["name"] for r in people})
    items = [
        item
        for risk in found.children
        if (
            item := build_item(
                risk,
                as_of=as_of,
                last_visit=visits.get(risk.child_id),
                live=live,
                names=names,
                thresholds=thresholds,
                policy=policy,
                late_cases=late_by_child.get(risk.child_id, ()),
            )
        )
        is not None
    ]
    items.sort(key=WorkItem.key)
    if after is not None:
        position = decode_position(after[0], after[1])
        items_after = [i for i in items if i.key() > position]
    else:
        items_after = items
    return Worklist(tuple(items_after[:first]), len(items), len(items_after) > first, as_of)


@dataclass(frozen=True, slots=True)
class CadenceCoverage:
    cadence: Cadence
    planned: int
    visited: int


@dataclass(frozen=True, slots=True)
class VillageCoverage:
    village: str
    children: int
    cadences: tuple[CadenceCoverage, ...]
    unvisited: tuple[str, ...]

    @property
    def planned(self) -> int:
        return sum(c.planned for c in self.cadences)

    @property
    def visited(self) -> int:
        return sum(c.visited for c in self.cadences)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        year, number = (int(part) for part in month.split("-"))
        start = dt.date(year, number, 1)
    except ValueError as error:
        raise InvalidInput("month", "must be a month such as 2026-06") from error
    return start, Cadence.MONTHLY.period(start)[1]


async def visit_coverage(
    graph: Graph,
    *,
    region_prefix: str,
    scope_prefix: str,
    month: str,
    today: dt.date,
    thresholds: Thresholds,
) -> list[VillageCoverage]:
    """Per village of the region, how many children each cadence planned a visit for by the end
    of `month` (or today, for the current month) and how many had one in the cadence's period."""
    start, end = month_bounds(month)
    if start > today:
        raise InvalidInput("month", "must not be after the current month")
    as_of = min(end, today)
    found = await discover(
        graph, region_prefix=region_prefix, scope_prefix=scope_prefix, as_of=as_of, thresholds=thresholds
    )
    visits = await last_visits(graph, [c.child_id for c in found.children], as_of)
    by_village: dict[str, dict[Cadence, list[tuple[str, bool]]]] = {}
    for child in found.children:
        cadence = Cadence.of(child.level)
        period_start, _ = cadence.period(as_of)
        last = visits.get(child.child_id)
        visited = last is not None and last >= period_start
        by_village.setdefault(child.region_code or "", {}).setdefault(cadence, []).append((child.child_id, visited))
    result = []
    for village, cadences in sorted(by_village.items()):
        result.append(
            VillageCoverage(
                village=village,
                children=sum(len(v) for v in cadences.values()),
                cadences=tuple(
                    CadenceCoverage(c, len(cadences.get(c, [])), sum(1 for _, seen in cadences.get(c, []) if seen))
                    for c in Cadence
                ),
                unvisited=tuple(sorted(cid for rows in cadences.values() for cid, seen in rows if not seen)),
            )
        )
    return result
