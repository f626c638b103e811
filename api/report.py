"""`shouhu report`: a region's statistics (`graph.statistics`) as the tables a county office
opens, with Chinese sheet names and headers, as an xlsx workbook or one CSV file.

The CSV holds the same tables one after another, each under a line with its sheet's name and
followed by an empty line, in UTF-8 with a byte-order mark so that spreadsheet programs read
the Chinese as Chinese.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from graph.statistics import Rate, Statistics

Cell = str | int | float | None
Table = tuple[str, Sequence[str], list[list[Cell]]]

LEVEL_NAMES: Final = {"red": "红色（立即介入）", "yellow": "黄色（定期介入）", "blue": "蓝色（保持关注）",
                      "green": "绿色（无需关注）"}  # fmt: skip
CATEGORY_NAMES: Final = {
    "left_behind": "留守儿童",
    "de_facto_unsupported": "事实无人抚养儿童",
    "orphan": "孤儿",
    "in_difficulty": "困境儿童",
    "disability": "残疾儿童",
}


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _rate_row(name: str, rate: Rate) -> list[Cell]:
    return [name, rate.population.count, rate.covered.count, _percent(rate.rate), rate.key]


def tables(stats: Statistics) -> list[Table]:
    """The report's sheets: (name, headers, rows)."""
    by_level: list[list[Cell]] = [[LEVEL_NAMES[figure.label], figure.count] for figure in stats.by_level]
    overview: list[list[Cell]] = [
        ["地区代码", stats.region],
        ["统计日期", stats.as_of.isoformat()],
        ["儿童总数", stats.children.count],
        *by_level,
        ["现有委托照护", stats.agreements_current],
        ["已签订委托照护协议", stats.agreements_signed],
    ]
    rates = [
        _rate_row("走访覆盖率", stats.visit_coverage),
        _rate_row("联系覆盖率", stats.contact_coverage),
        _rate_row("教育保障率", stats.education),
        _rate_row("监护职责落实率", stats.guardianship),
    ]
    return [
        ("概况", ["指标", "数值"], overview),
        ("按风险等级", ["风险等级", "儿童数", "键"], [[LEVEL_NAMES[f.label], f.count, f.key] for f in stats.by_level]),
        ("按发现规则", ["规则", "儿童数", "键"], [[f.label, f.count, f.key] for f in stats.by_rule]),
        (
            "按儿童类别",
            ["类别", "类别代码", "儿童数", "键"],
            [[CATEGORY_NAMES.get(f.label, f.label), f.label, f.count, f.key] for f in stats.by_category],
        ),
        ("覆盖率", ["指标", "应覆盖儿童数", "已覆盖儿童数", "比率（%）", "键"], rates),
        (
            "乡镇机构",
            ["乡镇代码", "乡镇名称", "机构数", "未成年人保护工作站数"],
            [[t.code, t.name, t.institutions, t.workstations] for t in stats.townships],
        ),
        (
            "村儿童主任",
            [
                "村代码",
                "村名称",
                "儿童主任人数",
                "儿童主任",
                "儿童数",
                "在册儿童数",
                "每名儿童主任负责在册儿童数",
                "键",
            ],
            [
                [
                    v.code,
                    v.name,
                    len(v.directors),
                    "、".join(v.directors),
                    v.children.count,
                    v.registered.count,
                    None if v.load is None else round(v.load, 1),
                    v.children.key,
                ]
                for v in stats.villages
            ],
        ),
    ]


#: The formats a report is written in, with their media types.
MEDIA_TYPES: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def render(stats: Statistics, output_format: str) -> bytes:
    """The report as the bytes of an xlsx workbook or a CSV file (`MEDIA_TYPES`)."""
    if output_format == "xlsx":
        return _xlsx(stats)
    if output_format == "csv":
        return _csv(stats)
    raise ValueError(f"format: xlsx or csv, not {output_format!r}")


def _xlsx(stats: Statistics) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, headers, rows in tables(stats):
        sheet = book.create_sheet(name)
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(stats: Statistics) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for name, headers, rows in tables(stats):
        writer.writerow([name])
        writer.writerow(headers)
        writer.writerows(rows)
        writer.writerow([])
    return out.getvalue().encode("utf-8-sig")


def write(stats: Statistics, output_format: str, path: Path) -> None:
    path.write_bytes(render(stats, output_format))
