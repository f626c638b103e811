"""An incremental bundle: what an integrator sends a database that already holds the county.

Made from the bench county bundle (which must be loaded first) and the generator, with a fixed
seed, so every run measures the same data:

- changes to existing records in every `CHANGED_EVERY`-th village of the county: households
  that moved house within the village or changed low-income status, persons with a new phone,
  parents back from work (an away episode gets its `until`), care arrangements that ended,
  cases that moved on a stage and referrals that were answered (each a state change with its
  history), plus some lines sent again exactly as they are;
- new links to existing children of those villages: a home visit by the village's children's
  director, a call from a parent;
- new entities with all their links: a neighbouring county (`NEW_COUNTY`, its own townships,
  villages, institutions, households, persons, intervals, events, cases and referrals) from
  the generator, without the regions the database already has.

Every line is valid against the database holding the county, so the whole bundle is written.
A second bundle of the same making (`WARM_UP`: other villages, another new county) is imported
first, unmeasured, so the measured import meets a database that has been importing (its query
plans compiled and its JIT warm), as a server importing every day would.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from bench.common import AS_OF, OUT, SEED, SPECS, ensure_bundle
from graph.bundle import generator
from graph.bundle.generator import generate_county
from graph.cases import NEXT as CASE_NEXT
from graph.referrals import NEXT as REFERRAL_NEXT

#: Every this-many-th village of the county gets changes and new visits and contacts.
CHANGED_EVERY = 5
NEW_VILLAGES = 8
VERSION = 2


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    #: which of every `CHANGED_EVERY` villages get changes: disjoint between variants
    offset: int
    #: the new county, beside the bench county in the same city
    new_county: str


MEASURED: Final = Variant("incremental", 0, "431229000000")
WARM_UP: Final = Variant("incremental-warm-up", 2, "431230000000")


@dataclass(frozen=True, slots=True)
class IncrementalInfo:
    path: Path
    lines: int
    sha256: str
    #: lines by what they do: changed, resent, linked, new
    mix: dict[str, int]


def _meta(variant: Variant) -> dict[str, Any]:
    return {
        "base": SPECS["county"].kind, "seed": SEED, "asOf": AS_OF.isoformat(), "changedEvery": CHANGED_EVERY,
        "offset": variant.offset, "newCounty": variant.new_county, "newVillages": NEW_VILLAGES, "version": VERSION,
        "generator": generator.VERSION,
    }  # fmt: skip


def ensure_incremental_bundle(variant: Variant = MEASURED, *, echo: Any = print) -> IncrementalInfo:
    """The incremental bundle, made now unless an identical one is on disk."""
    path = OUT / f"{variant.name}.ndjson"
    meta_path = path.with_suffix(".meta.json")
    if meta_path.exists() and path.exists():
        meta = orjson.loads(meta_path.read_bytes())
        if meta.get("spec") == _meta(variant) and path.stat().st_size == meta.get("bytes"):
            return IncrementalInfo(path, meta["lines"], meta["sha256"], meta["mix"])
    base = ensure_bundle("county", echo=echo)
    echo(f"making the {variant.name} bundle from {base.path} ...")
    started = time.perf_counter()
    mix: dict[str, int] = {}
    digest = hashlib.sha256()
    lines = 0
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        for what, line in _lines(base.path, variant):
            data = (line + "\n").encode()
            digest.update(data)
            out.write(data)
            lines += 1
            mix[what] = mix.get(what, 0) + 1
    partial.replace(path)
    meta = {
        "spec": _meta(variant),
        "lines": lines,
        "bytes": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "mix": mix,
    }
    meta_path.write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    echo(f"  {lines:,} lines in {time.perf_counter() - started:.1f} s: {mix}")
    return IncrementalInfo(path, lines, meta["sha256"], mix)


def _day(value: date) -> str:
    return value.isoformat()


def _lines(base: Path, variant: Variant) -> Iterator[tuple[str, str]]:
    rng = random.Random(f"{SEED}:{variant.name}")
    records = [orjson.loads(line) for line in base.read_text(encoding="utf-8").splitlines() if line.strip()]
    villages = sorted(r["code"] for r in records if r["kind"] == "region" and r["level"] == "village")
    chosen = set(villages[variant.offset :: CHANGED_EVERY])
    households = {r["id"]: r["region"] for r in records if r["kind"] == "household"}
    village_of = {r["id"]: households.get(r.get("household") or "") for r in records if r["kind"] == "person"}
    born = {r["id"]: date.fromisoformat(r["birthDate"]) for r in records if r["kind"] == "person"}
    directors = {r["region"]: r["person"] for r in records if r["kind"] == "staff" and r["role"] == "children_director"}
    case_village = {r["id"]: village_of.get(r["child"]) for r in records if r["kind"] == "case"}
    parents: dict[str, list[str]] = {}
    for r in records:
        if r["kind"] == "parent":
            parents.setdefault(r["child"], []).append(r["parent"])

    def village(record: dict[str, Any]) -> str | None:
        kind = record["kind"]
        if kind == "household":
            return str(record["region"])
        if kind == "person":
            return village_of.get(record["id"])
        if kind == "referral":
            return case_village.get(record["case"])
        anchor = record.get("child") or record.get("person")
        return village_of.get(anchor) if isinstance(anchor, str) else None

    for record in records:
        if village(record) not in chosen:
            continue
        changed = _changed(record, rng)
        if changed is not None:
            yield "changed", orjson.dumps(changed).decode()
        elif rng.random() < 0.03:
            yield "resent", orjson.dumps(record).decode()
    for child, its_parents in sorted(parents.items()):
        where = village_of.get(child)
        if where not in chosen or (AS_OF - born[child]).days > 18 * 365:
            continue
        if rng.random() < 0.6 and where in directors:
            on = AS_OF - timedelta(days=rng.randint(0, 20))
            visit = {"kind": "visit", "visitor": directors[where], "child": child, "on": _day(on), "type": "home_visit"}
            yield "linked", orjson.dumps(visit).decode()
        if rng.random() < 0.5:
            on = AS_OF - timedelta(days=rng.randint(0, 30))
            contact = {"kind": "contact", "from": rng.choice(its_parents), "child": child, "on": _day(on)}
            yield "linked", orjson.dumps(contact | {"channel": rng.choice(["phone", "video"])}).decode()
    known = {r["code"] for r in records if r["kind"] == "region"}
    for line in generate_county(NEW_VILLAGES, SEED + 1 + variant.offset, AS_OF, county_code=variant.new_county):
        record = orjson.loads(line)
        if record["kind"] == "region" and record["code"] in known:
            continue
        yield "new", line


def _changed(record: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """The record as the integrator now has it, or None when it has not changed."""
    kind = record["kind"]
    roll = rng.random()
    if kind == "household" and roll < 0.25:
        number = rng.randint(1, 120)
        return record | {"address": f"{record.get('address', '')[:-4]}{number}号新址"}
    if kind == "household" and roll < 0.3:
        return record | {"lowIncome": [] if record["lowIncome"] else ["dibao_edge"]}
    if kind == "person" and "phone" in record and roll < 0.15:
        return record | {"phone": f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"}
    if kind in {"away", "care"} and record.get("until") is None and roll < 0.2:
        since = date.fromisoformat(record["since"])
        until = max(since, AS_OF - timedelta(days=rng.randint(1, 60)))
        return record | {"until": _day(until)}
    if kind == "case" and CASE_NEXT.get(record["stage"]) and roll < 0.5:
        return record | {"stage": sorted(CASE_NEXT[record["stage"]])[0]}
    if kind == "referral" and REFERRAL_NEXT.get(record["status"]) and roll < 0.5:
        return record | {"status": sorted(REFERRAL_NEXT[record["status"]])[0]}
    return None


__all__ = ["MEASURED", "WARM_UP", "IncrementalInfo", "Variant", "ensure_incremental_bundle"]
