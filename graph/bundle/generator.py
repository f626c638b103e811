"""A realistic county (or province) in the bundle format, streamed village by village.

`shouhu generate` and the benchmarks use it; `make run` loads it for the demo. Every line is
a valid bundle record (docs/bundle-format.md), nothing is dated after `as_of`,
and the same seed always gives the same lines. Memory stays flat: only the village being
generated (and a per-county counter of resident-ID sequence numbers) is ever held.

The rates are chosen so that every discovery rule fires at a plausible rate: about a
quarter of the children are left behind (both parents, or the only capable parent, away for
work), most of them with a grandparent as entrusted caregiver; a few percent are red.

Sizes: a village has about 100 children and 340 persons; a county of 200 villages is about
278,000 lines (13.8 lines per child). On one core the generator writes about 150,000 lines/s,
so a province of a million children (14 million lines, 1.7 GB) takes a minute and a half
of CPU. Ids carry the county's 6-digit code (`P430524000123`), so the counties of a province
never collide.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import orjson

from graph.bundle.records import DISQUALIFYING, INCAPACITY
from graph.dates import age_at
from graph.regions import CODE

Record = dict[str, object]

#: Bumped whenever the lines made for a given seed change; benchmarks regenerate their bundles.
VERSION = 1

DAYS_PER_YEAR = 365.2425
# Provinces whose codes the generator knows by name; any other gets a made-up name.
PROVINCE_NAMES = {
    "11": "北京市",
    "13": "河北省",
    "14": "山西省",
    "34": "安徽省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "45": "广西壮族自治区",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "62": "甘肃省",
}
DEFAULT_COUNTY_CODE = "430524000000"  # 湖南省邵阳市隆回县, a county with many left-behind children
DEFAULT_PROVINCE_CODE = "430000000000"
TOWNSHIP_SIZE = (8, 18)  # villages per township

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严覃武戴莫孔向汤"
)
MALE_SYLLABLES = "伟强军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳成建国文志海东亮"
FEMALE_SYLLABLES = "芳娟敏静丽艳娜霞秀玲燕红梅兰英琴云莉萍雪琳婷倩颖慧佳欣怡悦妍涵雨梓诗"
PLACE_SYLLABLES = "青石桥河山塘坪岭溪湾源田冲口坝岗铺水竹松枫桃李杨柳花龙凤金银新和平安乐富兴隆福寿长丰"

# Regions outside the generated province that away destinations point at: (code, name, level,
# parent). The bundle carries them, so `destinationRegion` names a region that exists.
OUTSIDE_REGIONS: tuple[tuple[str, str, str, str | None], ...] = (
    ("440000000000", "广东省", "province", None),
    ("441900000000", "东莞市", "city", "440000000000"),
    ("440300000000", "深圳市", "city", "440000000000"),
    ("440600000000", "佛山市", "city", "440000000000"),
    ("330000000000", "浙江省", "province", None),
    ("330700000000", "金华市", "city", "330000000000"),
    ("330782000000", "义乌市", "county", "330700000000"),
    ("320000000000", "江苏省", "province", None),
    ("320500000000", "苏州市", "city", "320000000000"),
    ("350000000000", "福建省", "province", None),
    ("350200000000", "厦门市", "city", "350000000000"),
)
DESTINATIONS: tuple[tuple[str, str | None, float], ...] = (
    # text, region code, cumulative weight
    ("广东东莞", "441900000000", 0.22),
    ("广东深圳", "440300000000", 0.38),
    ("广东佛山", "440600000000", 0.48),
    ("浙江义乌", "330782000000", 0.60),
    ("江苏苏州", "320500000000", 0.70),
    ("福建厦门", "350200000000", 0.77),
    ("上海", None, 0.85),
    ("北京", None, 0.89),
    ("省城", None, 0.95),
    ("县城", "", 1.0),  # "" stands for the county's own code
)
CHANNELS = (("video", 0.45), ("phone", 0.85), ("message", 0.97), ("in_person", 1.0))
# How often each incapacity is drawn (cumulative), over the whole incapacity set.
INCAPACITIES = (
    ("imprisoned", 0.25), ("serious_illness", 0.5), ("severe_disability", 0.72), ("missing", 0.86),
    ("compulsory_rehab", 0.94), ("detained", 1.0),
)  # fmt: skip
assert {name for name, _ in INCAPACITIES} == set(INCAPACITY), "draw every incapacity, and only those"
REPORT_KINDS = (
    ("teacher", "unsupervised", "多日无人接送，放学后独自在家"),
    ("teacher", "dropout", "连续两周未到校"),
    ("teacher", "mental_health", "情绪低落，拒绝与人交流"),
    ("doctor", "injury", "就诊时发现多处不明原因伤痕"),
    ("village_committee", "neglect", "照护人长期卧病，儿童饮食无保障"),
    ("neighbor", "abuse", "邻居反映夜间常听到打骂声"),
    ("police", "abandonment", "儿童独自在镇上游荡，联系不上家人"),
    ("relative", "neglect", "祖父母年迈，无力照看"),
)
URGENCIES = (("immediate", 0.15), ("high", 0.45), ("normal", 1.0))
STAGES = (("reported", 0.1), ("emergency_response", 0.2), ("assessment", 0.5), ("intervention", 0.8), ("closed", 1.0))
REFERRAL_STATUS = (("completed", 0.45), ("pending", 0.62), ("accepted", 0.85), ("declined", 0.95), ("withdrawn", 1.0))
REFERRAL_REASONS = ("情绪低落", "需要心理疏导", "家庭监护指导", "临时生活困难", "需要法律援助", "需要康复训练")

# The parents' situations (father, mother) and their cumulative shares: about a quarter of
# children end up left behind, one or two percent de facto unsupported.
SITUATIONS: tuple[tuple[float, tuple[str, str]], ...] = (
    (0.40, ("home", "home")), (0.64, ("away", "home")), (0.68, ("home", "away")), (0.895, ("away", "away")),
    (0.91, ("dead", "home")), (0.93, ("dead", "away")), (0.955, ("incapable", "away")),
    (0.97, ("away", "incapable")), (0.985, ("incapable", "home")), (0.994, ("dead", "incapable")),
    (0.997, ("incapable", "incapable")), (1.0, ("dead", "dead")),
)  # fmt: skip

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id(area: str, born: date, sequence: int) -> str:
    """An 18-character resident ID (GB 11643): area, birth date, sequence, MOD 11-2 check."""
    body = f"{area}{born.year:04d}{born.month:02d}{born.day:02d}{sequence:03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, _WEIGHTS, strict=True))
    return body + _CHECK[total % 11]


def _rng(key: str) -> random.Random:
    """A generator seeded by a string: the same key gives the same data on every machine."""
    return random.Random(key)  # noqa: S311 - test data, not secrets


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    roll = rng.random()
    for value, cumulative in table:
        if roll < cumulative:
            return value
    return table[-1][0]


def _place_name(rng: random.Random, suffix: str) -> str:
    return rng.choice(PLACE_SYLLABLES) + rng.choice(PLACE_SYLLABLES) + suffix


@dataclass(slots=True)
class _Institution:
    id: str
    services: tuple[str, ...]


@dataclass(slots=True)
class _Township:
    code: str
    primary: str
    middle: str
    kindergarten: str
    referral_targets: list[_Institution]
    case_workers: list[str]


@dataclass(slots=True)
class _County:
    """What every village of one county refers to, plus the county's id counters."""

    seed: int
    as_of: date
    code: str
    name: str
    area: str  # the 6-digit area code of resident IDs
    today: int  # as_of's ordinal
    lines: list[str] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    id_sequences: dict[tuple[int, int], int] = field(default_factory=dict)
    protection_center: str = ""
    welfare_institution: str = ""
    high_school: str = ""
    referral_targets: list[_Institution] = field(default_factory=list)
    destinations: tuple[tuple[str, str | None, float], ...] = DESTINATIONS

    def next_id(self, prefix: str, width: int) -> str:
        number = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = number
        return f"{prefix}{self.area}{number:0{width}d}"

    def emit(self, record: Record) -> None:
        self.lines.append(orjson.dumps(record).decode())

    def day(self, ordinal: int) -> str:
        return date.fromordinal(ordinal).isoformat()

    def drain(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


def _region(code: str, name: str, level: str, parent: str | None) -> Record:
    record: Record = {"kind": "region", "code": code, "name": name, "level": level}
    if parent is not None:
        record["parent"] = parent
    return record


def _dumps(record: Record) -> str:
    return orjson.dumps(record).decode()


def _county_code(code: str) -> str:
    if not CODE.fullmatch(code) or code[6:] != "000000" or code[4:6] == "00":
        raise ValueError(f"not a 12-digit county code (6 significant digits): {code!r}")
    return code


def _outside_regions(province: str) -> Iterator[str]:
    """Regions that away destinations point at, outside the generated province."""
    for code, name, level, parent in OUTSIDE_REGIONS:
        if code[:2] != province[:2]:
            yield _dumps(_region(code, name, level, parent))


def _destinations(province: str) -> tuple[tuple[str, str | None, float], ...]:
    # A destination inside the generated province keeps its text but not its code: the
    # generated province's own regions are the only ones of that province in the bundle.
    return tuple(
        (text, code if code is None or code == "" or code[:2] != province[:2] else None, weight)
        for text, code, weight in DESTINATIONS
    )


def generate_county(
    villages: int,
    seed: int,
    as_of: date,
    *,
    county_code: str = DEFAULT_COUNTY_CODE,
    county_name: str | None = None,
) -> Iterator[str]:
    """Lines (without newline) of one county with `villages` villages of about 100 children."""
    code = _county_code(county_code)
    if villages < 1:
        raise ValueError("a county needs at least one village")
    rng = _rng(f"{seed}:{code}:names")
    province = code[:2] + "0" * 10
    city = code[:4] + "0" * 8
    yield _dumps(_region(province, PROVINCE_NAMES.get(code[:2], _place_name(rng, "省")), "province", None))
    yield _dumps(_region(city, _place_name(rng, "市"), "city", province))
    yield from _outside_regions(province)
    yield from _county(seed, as_of, code, county_name or _place_name(rng, "县"), villages, _destinations(province))


def generate_province(
    counties: int,
    villages_per_county: int,
    seed: int,
    as_of: date,
    *,
    province_code: str = DEFAULT_PROVINCE_CODE,
) -> Iterator[str]:
    """Lines of a province: `counties` counties in cities of up to ten counties each."""
    if not CODE.fullmatch(province_code) or province_code[2:] != "0" * 10:
        raise ValueError(f"not a 12-digit province code: {province_code!r}")
    if counties < 1 or villages_per_county < 1:
        raise ValueError("a province needs at least one county of at least one village")
    rng = _rng(f"{seed}:{province_code}:names")
    yield _dumps(
        _region(province_code, PROVINCE_NAMES.get(province_code[:2], _place_name(rng, "省")), "province", None)
    )
    yield from _outside_regions(province_code)
    destinations = _destinations(province_code)
    for index in range(counties):
        city_number, county_number = divmod(index, 10)
        city = f"{province_code[:2]}{city_number + 1:02d}" + "0" * 8
        if county_number == 0:
            yield _dumps(_region(city, _place_name(rng, "市"), "city", province_code))
        county = f"{city[:4]}{county_number + 21:02d}" + "0" * 6
        yield from _county(seed, as_of, county, _place_name(rng, "县"), villages_per_county, destinations)


def _county(
    seed: int,
    as_of: date,
    code: str,
    name: str,
    villages: int,
    destinations: tuple[tuple[str, str | None, float], ...],
) -> Iterator[str]:
    rng = _rng(f"{seed}:{code}")
    county = _County(seed, as_of, code, name, code[:6], as_of.toordinal(), destinations=destinations)
    county.emit(_region(code, name, "county", code[:4] + "0" * 8))
    _county_institutions(county, rng)
    yield from county.drain()
    sizes: list[int] = []
    remaining = villages
    while remaining > 0:
        size = min(remaining, rng.randint(*TOWNSHIP_SIZE))
        sizes.append(size)
        remaining -= size
    for number, size in enumerate(sizes):
        township = _township(county, rng, f"{code[:6]}{100 + number:03d}", name)
        yield from county.drain()
        for village in range(size):
            _village(county, township, f"{township.code[:9]}{201 + village:03d}")
            yield from county.drain()


def _institution(
    county: _County, name: str, kind: str, region: str, services: tuple[str, ...], capacity: int | None = None
) -> _Institution:
    identifier = county.next_id("I", 5)
    record: Record = {
        "kind": "institution",
        "id": identifier,
        "name": name,
        "type": kind,
        "region": region,
        "services": list(services),
    }
    if capacity is not None:
        record["capacity"] = capacity
    county.emit(record)
    return _Institution(identifier, services)


def _staff(county: _County, rng: random.Random, role: str, *, region: str | None, institution: str | None) -> str:
    """A staff member with no household of their own in the bundle (they live in town)."""
    person = _person(county, rng, gender="F" if rng.random() < 0.55 else "M", age=rng.randint(26, 52), household=None)
    record: Record = {"kind": "staff", "person": person, "role": role}
    if region is not None:
        record["region"] = region
    if institution is not None:
        record["institution"] = institution
    record["since"] = county.day(county.today - rng.randint(90, 3000))
    county.emit(record)
    return person


def _county_institutions(county: _County, rng: random.Random) -> None:
    code, name = county.code, county.name
    center = _institution(
        county,
        f"{name}未成年人救助保护中心",
        "minor_protection_center",
        code,
        ("emergency_shelter", "temporary_guardianship", "long_term_guardianship", "psychological_support"),
        30,
    )
    welfare = _institution(
        county,
        f"{name}儿童福利院",
        "child_welfare_institution",
        code,
        ("long_term_guardianship", "boarding", "rehabilitation", "medical"),
        60,
    )
    hospital = _institution(
        county, f"{name}人民医院", "hospital", code, ("medical", "rehabilitation", "psychological_support"), 40
    )
    high_school = _institution(county, f"{name}第一中学", "school", code, ("education", "boarding"))
    womens = _institution(county, f"{name}妇女联合会", "womens_federation", code, ("family_guidance", "legal_aid"), 15)
    ngo = _institution(
        county,
        f"{name}阳光儿童关爱中心",
        "ngo",
        code,
        ("psychological_support", "after_school_care", "financial_assistance"),
        25,
    )
    _institution(county, f"{name}人民法院", "court", code, ("legal_aid",), 10)
    _institution(county, f"{name}人民检察院", "procuratorate", code, ("legal_aid",), 10)
    _institution(county, f"{name}公安局", "police_station", code, ("emergency_shelter",))
    county.protection_center = center.id
    county.welfare_institution = welfare.id
    county.high_school = high_school.id
    county.referral_targets = [center, welfare, hospital, womens, ngo]
    _staff(county, rng, "coordinator", region=code, institution=None)
    _staff(county, rng, "institution_staff", region=None, institution=center.id)
    _staff(county, rng, "institution_staff", region=None, institution=welfare.id)


def _township(county: _County, rng: random.Random, code: str, county_name: str) -> _Township:
    name = _place_name(rng, "镇" if rng.random() < 0.7 else "乡")
    region = code + "000"
    county.emit(_region(region, name, "township", county.code))
    primary = _institution(county, f"{name}中心小学", "school", region, ("education", "after_school_care", "boarding"))
    middle = _institution(county, f"{name}中学", "school", region, ("education", "boarding"))
    kindergarten = _institution(county, f"{name}中心幼儿园", "kindergarten", region, ("education",))
    workstation = _institution(
        county,
        f"{name}未成年人保护工作站",
        "minor_protection_workstation",
        region,
        ("psychological_support", "family_guidance"),
        4,
    )
    social = _institution(
        county,
        f"{name}社会工作服务站",
        "social_work_station",
        region,
        ("psychological_support", "family_guidance", "after_school_care", "financial_assistance"),
        8,
    )
    clinic = _institution(county, f"{name}卫生院", "hospital", region, ("medical",), 10)
    _institution(county, f"{name}派出所", "police_station", region, ("emergency_shelter",))
    _staff(county, rng, "children_supervisor", region=region, institution=None)
    workers = [_staff(county, rng, "case_worker", region=region, institution=social.id) for _ in range(2)]
    return _Township(region, primary.id, middle.id, kindergarten.id, [workstation, social, clinic], workers)


def _name(rng: random.Random, surname: str, gender: str) -> str:
    syllables = MALE_SYLLABLES if gender == "M" else FEMALE_SYLLABLES
    if rng.random() < 0.35:
        return surname + rng.choice(syllables)
    return surname + rng.choice(syllables) + rng.choice(syllables)


def _person(
    county: _County,
    rng: random.Random,
    *,
    gender: str,
    household: str | None,
    age: int | None = None,
    born: int | None = None,
    surname: str | None = None,
    deceased: int | None = None,
    phone: bool = True,
) -> str:
    """Emit a person and return their id. `born` is an ordinal; `age` draws one."""
    if born is None:
        born = county.today - int(((age or 30) + rng.random()) * DAYS_PER_YEAR)
    identifier = county.next_id("P", 6)
    birth = date.fromordinal(born)
    record: Record = {
        "kind": "person",
        "id": identifier,
        "name": _name(rng, surname or rng.choice(SURNAMES), gender),
        "gender": gender,
        "birthDate": birth.isoformat(),
    }
    # Some people have no resident ID on record (elderly, newborns not yet registered).
    if rng.random() >= 0.03:
        key = (born, 1 if gender == "M" else 0)
        sequence = county.id_sequences.get(key, 0)
        if sequence < 499:
            county.id_sequences[key] = sequence + 1
            # Digit 17 is odd for men and even for women.
            record["idNumber"] = resident_id(county.area, birth, 2 * sequence + (1 if gender == "M" else 2))
    if household is not None:
        record["household"] = household
    if phone and rng.random() < 0.85 and county.today - born > 18 * DAYS_PER_YEAR:
        record["phone"] = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
    if deceased is not None:
        record["deceasedOn"] = county.day(deceased)
    county.emit(record)
    return identifier


@dataclass(slots=True)
class _Parent:
    id: str
    born: int
    state: str  # home, away, dead, incapable
    since: int  # when that state began (away episode, death, condition)


@dataclass(slots=True)
class _Village:
    code: str
    township: _Township
    director: str
    volunteers: list[str]
    school: str | None  # a village primary school (村小), when there is one


def _village(county: _County, township: _Township, code: str) -> None:
    rng = _rng(f"{county.seed}:{code}")
    name = _place_name(rng, "村")
    county.emit(_region(code, name, "village", township.code))
    _institution(county, f"{name}村民委员会", "village_committee", code, ("family_guidance",))
    school = None
    if rng.random() < 0.3:
        school = _institution(county, f"{name}小学", "school", code, ("education",)).id
    director_home, _ = _household(county, rng, code, name)
    director = _person(
        county, rng, gender="F" if rng.random() < 0.7 else "M", age=rng.randint(30, 55), household=director_home
    )
    county.emit(
        {
            "kind": "staff",
            "person": director,
            "role": "children_director",
            "region": code,
            "since": county.day(county.today - rng.randint(60, 3000)),
        }
    )
    volunteers = [director]
    for _ in range(2):
        home, _ = _household(county, rng, code, name)
        volunteers.append(
            _person(county, rng, gender="M" if rng.random() < 0.6 else "F", age=rng.randint(25, 60), household=home)
        )
    village = _Village(code, township, director, volunteers, school)
    target = rng.randint(85, 115)
    children = 0
    while children < target:
        children += _family(county, rng, village, name)


def _household(county: _County, rng: random.Random, village: str, village_name: str) -> tuple[str, bool]:
    """Emit a household; return its id and whether it has a low-income status."""
    identifier = county.next_id("H", 6)
    roll = rng.random()
    low_income: list[str] = []
    if roll < 0.07:
        low_income = ["dibao"]
    elif roll < 0.08:
        low_income = ["tekun"]
    elif roll < 0.11:
        low_income = ["dibao_edge"]
    elif roll < 0.14:
        low_income = ["poverty_monitoring"]
    elif roll < 0.15:
        low_income = ["dibao", "poverty_monitoring"]
    county.emit(
        {
            "kind": "household",
            "id": identifier,
            "region": village,
            "address": f"{village_name}{rng.randint(1, 12)}组{rng.randint(1, 120)}号",
            "lowIncome": low_income,
        }
    )
    return identifier, bool(low_income)


def _condition(county: _County, person: str, kind: str, since: int, until: int | None = None) -> None:
    record: Record = {"kind": "condition", "person": person, "type": kind, "since": county.day(since)}
    if until is not None:
        record["until"] = county.day(until)
    county.emit(record)


def _away(county: _County, rng: random.Random, person: str, since: int, until: int | None = None) -> None:
    roll = rng.random()
    text, code = next((d[0], d[1]) for d in county.destinations if roll < d[2] or d is county.destinations[-1])
    record: Record = {"kind": "away", "person": person, "since": county.day(since)}
    if until is not None:
        record["until"] = county.day(until)
    record["destination"] = text
    if code is not None and rng.random() < 0.6:
        record["destinationRegion"] = code or county.code
    county.emit(record)


def _family(county: _County, rng: random.Random, village: _Village, village_name: str) -> int:
    """One extended family: grandparents and one to three sons' households. Returns children made."""
    today = county.today
    surname = rng.choice(SURNAMES)
    sons = 1 if rng.random() < 0.7 else (2 if rng.random() < 0.85 else 3)
    eldest_child = today - 1 - rng.randrange(6560)
    first_father = eldest_child - rng.randint(21 * 365, 35 * 365)
    grandfather_born = first_father - rng.randint(21 * 365, 31 * 365)
    households = [_household(county, rng, village.code, village_name) for _ in range(sons)]
    grandparents: list[tuple[str, int]] = []  # (id, born) of living grandparents
    grandparent_ids: list[str] = []
    if rng.random() < 0.85:
        dead = today - rng.randint(100, 5000) if rng.random() < 0.08 else None
        gid = _person(
            county, rng, gender="M", born=grandfather_born, household=households[0][0], surname=surname, deceased=dead
        )
        grandparent_ids.append(gid)
        if dead is None:
            grandparents.append((gid, grandfather_born))
    grandmother_born = grandfather_born + rng.randint(-2 * 365, 5 * 365)
    if rng.random() < 0.92 or not grandparent_ids:
        gid = _person(county, rng, gender="F", born=grandmother_born, household=households[0][0])
        grandparent_ids.append(gid)
        grandparents.append((gid, grandmother_born))
    # Caregiver fitness: illness, disability or a disqualifying record on a few grandparents.
    for gid, _born in grandparents:
        roll = rng.random()
        if roll < 0.05:
            kind = "serious_illness" if roll < 0.03 else "severe_disability"
            _condition(county, gid, kind, today - rng.randint(60, 3000))
        elif roll < 0.065:
            _condition(county, gid, DISQUALIFYING[int((roll - 0.05) / 0.005)], today - rng.randint(100, 4000))
    children = 0
    for index, (household, low_income) in enumerate(households):
        father_born = first_father if index == 0 else first_father + rng.randint(365, 7 * 365)
        father_born = max(father_born, grandmother_born + 20 * 365, grandfather_born + 20 * 365)
        if father_born > today - 20 * 365:
            continue
        children += _son_household(
            county, rng, village, household, low_income, surname, father_born, grandparent_ids, grandparents
        )
    return children


def _son_household(
    county: _County,
    rng: random.Random,
    village: _Village,
    household: str,
    low_income: bool,
    surname: str,
    father_born: int,
    grandparent_ids: list[str],
    grandparents: list[tuple[str, int]],
) -> int:
    today = county.today
    first_child = father_born + rng.randint(21 * 365, 35 * 365)
    if first_child > today - 1:
        first_child = today - 1 - rng.randrange(365)
    # Wives are mostly a little younger than their husbands, and at least 20 at the first birth.
    mother_born = min(father_born + rng.randint(-2 * 365, 5 * 365), first_child - 20 * 365)
    births = [first_child]
    count_roll = rng.random()
    wanted = 1 if count_roll < 0.35 else (2 if count_roll < 0.82 else 3)
    while len(births) < wanted:
        following = births[-1] + rng.randint(400, 2500)
        if following > today - 1:
            break
        births.append(following)
    births = [born for born in births if today - born < 17.9 * DAYS_PER_YEAR]

    # The parents' situation decides who is left behind or unsupported.
    roll = rng.random()
    single = roll < 0.05
    states: tuple[str, ...] = ("home", "home")
    if single:
        states = ("away" if rng.random() < 0.55 else "home",)
    else:
        roll = rng.random()
        for limit, pair in SITUATIONS:
            if roll < limit:
                states = pair
                break
    youngest = births[-1] if births else today - 1
    parents: list[_Parent] = []
    genders = ("M", "F") if not single else (("F",) if rng.random() < 0.7 else ("M",))
    for gender, state in zip(genders, states, strict=False):
        born = father_born if gender == "M" else mother_born
        # Nobody leaves for work, or falls ill on record, before they are 18.
        since = max(today - rng.randint(30, 2600), born + 18 * 366)
        deceased = None
        if state == "dead":
            since = rng.randint(min(youngest + 30, today - 2), today - 1)
            deceased = since
        pid = _person(
            county,
            rng,
            gender=gender,
            born=born,
            household=household,
            surname=surname if gender == "M" else None,
            deceased=deceased,
        )
        parents.append(_Parent(pid, born, state, since))
        if gender == "M":
            for gid in grandparent_ids:
                county.emit({"kind": "parent", "parent": gid, "child": pid, "type": "biological"})
        if state == "away":
            if rng.random() < 0.35:
                earlier = max(since - rng.randint(400, 1500), born + 17 * 366)
                _away(county, rng, pid, earlier, earlier + rng.randint(150, 360))
            _away(county, rng, pid, since)
        elif state == "home" and rng.random() < 0.15:
            # Worked away once and came home.
            returned = today - rng.randint(40, 1500)
            left = max(returned - rng.randint(200, 1500), born + 18 * 366)
            if left < returned:
                _away(county, rng, pid, left, returned)
        elif state == "incapable":
            draw = rng.random()
            kind = next(name for name, w in INCAPACITIES if draw < w)
            _condition(county, pid, kind, since)
    if not births:
        return 0

    capable = [p for p in parents if p.state == "home"]
    away = [p for p in parents if p.state == "away"]
    incapable = [p for p in parents if p.state in {"dead", "incapable"}]
    left_behind = not capable and bool(away)
    unsupported = len(parents) == 2 and len(incapable) == 2
    orphan = unsupported and all(p.state == "dead" for p in parents)
    caregivers = [(gid, born) for gid, born in grandparents]
    if rng.random() < 0.35 and len(caregivers) == 2:
        caregivers = [caregivers[rng.randrange(2)]]
    no_care = rng.random() < 0.05
    state_guardian = unsupported and rng.random() < 0.35
    for born in births:
        child = _person(
            county, rng, gender="M" if rng.random() < 0.53 else "F", born=born, household=household, surname=surname
        )
        age = age_at(date.fromordinal(born), county.as_of)
        for parent in parents:
            kind = "biological" if rng.random() < 0.985 else ("step" if rng.random() < 0.6 else "adoptive")
            county.emit({"kind": "parent", "parent": parent.id, "child": child, "type": kind})
            guardian: Record = {
                "kind": "guardian",
                "guardian": parent.id,
                "child": child,
                "since": county.day(born),
                "basis": "parent",
            }
            if parent.state == "dead" and parent.since >= born:
                guardian["until"] = county.day(parent.since)
            county.emit(guardian)
        _child_records(
            county,
            rng,
            village,
            child,
            born,
            age,
            parents,
            away,
            left_behind,
            unsupported,
            orphan,
            caregivers,
            no_care,
            state_guardian,
            low_income,
        )
    return len(births)


def _child_records(
    county: _County,
    rng: random.Random,
    village: _Village,
    child: str,
    born: int,
    age: int,
    parents: list[_Parent],
    away: list[_Parent],
    left_behind: bool,
    unsupported: bool,
    orphan: bool,
    caregivers: list[tuple[str, int]],
    no_care: bool,
    state_guardian: bool,
    low_income: bool,
) -> None:
    today = county.today
    left_behind = left_behind and age < 16
    watched = left_behind or unsupported
    # Unsupported children get a relative or the state as guardian once the parents failed.
    if unsupported:
        since = max(max(p.since for p in parents), born)
        if state_guardian:
            county.emit(
                {
                    "kind": "guardian",
                    "guardian": county.protection_center,
                    "child": child,
                    "since": county.day(since),
                    "basis": "state",
                }
            )
            if rng.random() < 0.8:
                county.emit(
                    {
                        "kind": "placement",
                        "child": child,
                        "institution": county.welfare_institution,
                        "since": county.day(since),
                    }
                )
        elif caregivers:
            county.emit(
                {
                    "kind": "guardian",
                    "guardian": caregivers[0][0],
                    "child": child,
                    "since": county.day(since),
                    "basis": "relative" if rng.random() < 0.8 else "court_appointed",
                }
            )
    # Entrusted caregivers: grandparents while the parents are away (or gone).
    if (left_behind or (unsupported and not state_guardian)) and caregivers and not no_care:
        start = max([p.since for p in away] + [born])
        for gid, _ in caregivers:
            care: Record = {"kind": "care", "caregiver": gid, "child": child, "since": county.day(start)}
            if rng.random() < 0.72:
                care["agreementSignedOn"] = county.day(min(start + rng.randint(0, 30), today - 1))
            if away:
                care["entrustedBy"] = away[0].id
            county.emit(care)
    elif left_behind and not caregivers and not no_care and rng.random() < 0.5:
        # No grandparent: a neighbour or relative outside the household looks after the child.
        helper = _person(county, rng, gender="F", age=rng.randint(35, 68), household=None)
        county.emit(
            {
                "kind": "care",
                "caregiver": helper,
                "child": child,
                "since": county.day(max(born, today - rng.randint(30, 900))),
            }
        )
    _contacts(county, rng, child, born, away, left_behind)
    registered = _registrations(county, rng, child, born, left_behind, away, unsupported, orphan, low_income)
    if watched or registered:
        _visits(county, rng, village, child, born)
        if rng.random() < 0.87:
            volunteer = village.volunteers[rng.randrange(len(village.volunteers))]
            county.emit(
                {
                    "kind": "pairing",
                    "volunteer": volunteer,
                    "child": child,
                    "since": county.day(max(born, today - rng.randint(10, 1200))),
                }
            )
    elif rng.random() < 0.08:
        _visits(county, rng, village, child, born)
    _enrollment(county, rng, village, child, born, age)
    if rng.random() < (0.04 if watched else 0.005):
        _report(county, rng, village, child)
    elif watched and rng.random() < 0.02:
        _case(county, rng, village, child, max(born, county.today - rng.randint(10, 300)), None)


def _contacts(
    county: _County, rng: random.Random, child: str, born: int, away: list[_Parent], left_behind: bool
) -> None:
    if not away:
        return
    roll = rng.random()
    if roll < 0.03:
        return  # no contact on record at all
    if roll < 0.72:
        gap = rng.randint(1, 7)
    elif roll < 0.91:
        gap = rng.randint(8, 30)
    else:
        gap = rng.randint(31, 150)
    if not left_behind:
        gap = rng.randint(1, 20)
    day = county.today - gap
    for _ in range(rng.randint(1, 3)):
        if day < born:
            break
        parent = away[rng.randrange(len(away))]
        county.emit(
            {
                "kind": "contact",
                "from": parent.id,
                "child": child,
                "on": county.day(day),
                "channel": _pick(rng, CHANNELS),
            }
        )
        day -= rng.randint(5, 30)


def _visits(county: _County, rng: random.Random, village: _Village, child: str, born: int) -> None:
    roll = rng.random()
    if roll < 0.03:
        return
    if roll < 0.72:
        gap = rng.randint(1, 31)
    elif roll < 0.93:
        gap = rng.randint(32, 92)
    else:
        gap = rng.randint(93, 240)
    day = county.today - gap
    for number in range(rng.randint(1, 3)):
        if day < born:
            break
        record: Record = {
            "kind": "visit",
            "visitor": village.director,
            "child": child,
            "on": county.day(day),
            "type": "home_visit",
        }
        if number == 0 and rng.random() < 0.3:
            record["notes"] = rng.choice(("孩子状态良好", "照护人身体欠佳", "作业无人辅导", "已提醒家长常联系"))
        county.emit(record)
        day -= rng.randint(25, 70)
    if rng.random() < 0.1:
        worker = village.township.case_workers[rng.randrange(len(village.township.case_workers))]
        county.emit(
            {
                "kind": "visit",
                "visitor": worker,
                "child": child,
                "on": county.day(max(born, county.today - rng.randint(1, 120))),
                "type": "school_visit" if rng.random() < 0.5 else "phone_check",
            }
        )


def _registrations(
    county: _County,
    rng: random.Random,
    child: str,
    born: int,
    left_behind: bool,
    away: list[_Parent],
    unsupported: bool,
    orphan: bool,
    low_income: bool,
) -> bool:
    today = county.today
    registered = False

    def register(category: str, since: int, until: int | None = None) -> None:
        record: Record = {"kind": "registration", "child": child, "category": category, "since": county.day(since)}
        if until is not None:
            record["until"] = county.day(until)
        county.emit(record)

    if left_behind and rng.random() < 0.92:
        start = max([p.since for p in away] + [born])
        register("left_behind", min(start + rng.randint(0, 60), today - 1))
    elif not left_behind and not unsupported and rng.random() < 0.04 and today - born > 800:
        # A child who was left behind once; the parents came home.
        since = max(born, today - rng.randint(700, 2000))
        register("left_behind", since, min(since + rng.randint(100, 600), today - 1))
    if unsupported and rng.random() < 0.85:
        register("de_facto_unsupported", max(born, today - rng.randint(1, 400)))
        registered = True
    if orphan and rng.random() < 0.95:
        register("orphan", max(born, today - rng.randint(1, 400)))
        registered = True
    if rng.random() < (0.05 if low_income or left_behind else 0.01):
        register("in_difficulty", max(born, today - rng.randint(30, 900)))
        registered = True
    if rng.random() < 0.006:
        _condition(county, child, "severe_disability", max(born, today - rng.randint(30, 2000)))
        register("disability", max(born, today - rng.randint(10, 900)))
        registered = True
    return registered


def _enrollment(county: _County, rng: random.Random, village: _Village, child: str, born: int, age: int) -> None:
    as_of = county.as_of
    year_start = as_of.year if (as_of.month, as_of.day) >= (9, 1) else as_of.year - 1
    birth = date.fromordinal(born)
    # Grade by the 31 August cut-off: children who are 6 by then start primary school.
    entry_year = birth.year + 6 + (1 if (birth.month, birth.day) > (8, 31) else 0)
    grade = year_start - entry_year + 1
    if 6 <= age <= 15:
        grade = min(max(grade, 1), 10)
        if rng.random() < 0.03:
            return  # dropped out or never enrolled
    elif age < 6:
        if age < 3 or rng.random() < 0.25:
            return
        county.emit(
            {
                "kind": "enrollment",
                "child": child,
                "institution": village.township.kindergarten,
                "since": date(year_start, 9, 1).isoformat(),
            }
        )
        return
    elif rng.random() < 0.35 or grade < 10:
        return  # 16 and 17: many have left school for work
    grade = min(grade, 12)
    since = date(year_start, 9, 1).isoformat()
    if grade <= 6:
        institution = village.school if village.school is not None and grade <= 3 else village.township.primary
        boarding = grade >= 4 and rng.random() < 0.2
    elif grade <= 9:
        institution, boarding = village.township.middle, rng.random() < 0.6
        if rng.random() < 0.5:
            # Primary school, finished: kept as history.
            county.emit(
                {
                    "kind": "enrollment",
                    "child": child,
                    "institution": village.township.primary,
                    "since": date(year_start - grade + 1, 9, 1).isoformat(),
                    "until": date(year_start - grade + 7, 6, 30).isoformat(),
                    "grade": "6",
                }
            )
    else:
        institution, boarding = county.high_school, True
    county.emit(
        {
            "kind": "enrollment",
            "child": child,
            "institution": institution,
            "since": since,
            "grade": str(grade),
            "boarding": boarding,
        }
    )


def _report(county: _County, rng: random.Random, village: _Village, child: str) -> None:
    today = county.today
    role, category, description = REPORT_KINDS[rng.randrange(len(REPORT_KINDS))]
    reported = today - rng.randint(1, 90)
    report = county.next_id("R", 5)
    record: Record = {"kind": "report", "id": report, "child": child}
    if role == "village_committee":
        record["reporter"] = village.director
    urgency = _pick(rng, URGENCIES)
    record |= {
        "reporterRole": role,
        "at": f"{date.fromordinal(reported).isoformat()}T{rng.randint(8, 19):02d}:{rng.randrange(60):02d}:00+08:00",
        "category": category,
        "urgency": urgency,
        "description": description,
    }
    county.emit(record)
    # Most reports are answered within a day or two; a few are left unhandled.
    if rng.random() >= 0.15:
        _case(county, rng, village, child, min(reported + rng.randint(0, 2), today - 1), report)


def _case(county: _County, rng: random.Random, village: _Village, child: str, opened: int, report: str | None) -> None:
    """A case (from a report, or opened by a worker after a visit) and perhaps a referral."""
    today = county.today
    case = county.next_id("C", 5)
    stage = _pick(rng, STAGES)
    worker = village.township.case_workers[rng.randrange(len(village.township.case_workers))]
    record: Record = {
        "kind": "case",
        "id": case,
        "child": child,
        "openedOn": county.day(opened),
        "stage": stage,
        "worker": worker,
    }
    if report is not None:
        record["report"] = report
    county.emit(record)
    if stage in {"reported", "emergency_response"} or rng.random() < 0.25:
        return
    targets = village.township.referral_targets + county.referral_targets
    institution = targets[rng.randrange(len(targets))]
    on = min(opened + rng.randint(1, 10), today - 1)
    due = on + (14 if rng.random() < 0.6 else 30)
    status = _pick(rng, REFERRAL_STATUS) if due < today else ("pending" if rng.random() < 0.5 else "accepted")
    county.emit(
        {
            "kind": "referral",
            "id": county.next_id("F", 5),
            "case": case,
            "institution": institution.id,
            "service": institution.services[rng.randrange(len(institution.services))],
            "on": county.day(on),
            "dueOn": county.day(due),
            "status": status,
            "reason": REFERRAL_REASONS[rng.randrange(len(REFERRAL_REASONS))],
        }
    )


__all__ = [
    "DEFAULT_COUNTY_CODE",
    "DEFAULT_PROVINCE_CODE",
    "VERSION",
    "generate_county",
    "generate_province",
    "resident_id",
]
