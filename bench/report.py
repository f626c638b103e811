"""The API benchmark's results as files: `latest.json` (everything), `latest.md` (the tables)
and `latency.svg` (p50 and p99 against concurrency, per system and operation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import orjson

LABELS: Final = {
    "child_file": "child file",
    "township_list": "township list of 50",
    "discover": "discover (county, first 50)",
    "record_visit": "recordVisit",
}
NAMES: Final = {"shouhu": "Shouhu", "peer": "peer (Neo4j GraphQL Library)", "floor": "floor (raw Cypher)"}
COLOURS: Final = {"shouhu": "#c0392b", "peer": "#2471a3", "floor": "#7f8c8d"}


def _label(cell: dict[str, Any]) -> str:
    name = str(cell.get("case", cell["operation"]))
    return LABELS.get(name, name.replace("_", " "))


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:g}×"


def _n(value: float | None, cap: float | None = None) -> str:
    """A figure; a latency no measurement got (nothing answered within the cap) as "> cap"."""
    if value is None:
        return f"> {cap * 1000:g}" if cap is not None else "–"
    return f"{value:g}"


def markdown(results: dict[str, Any]) -> str:
    machine, versions, settings, data = results["machine"], results["versions"], results["settings"], results["data"]
    npm = versions["npm"]
    lines = [
        "# Shouhu, the peer and the floor under load",
        "",
        f"Measured {results['measured_at']} at commit `{versions['git_commit'][:12]}`"
        + (" (with uncommitted changes)" if versions["git_dirty"] else "")
        + f"; the run took {results['wall_seconds']:.0f} s. Written by `make bench` (`bench.api_bench`)."
        + ("" if results.get("complete", True) else " **Incomplete: the run stopped before its last cell.**"),
        "",
        f"- machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_mb']:,} MB memory "
        f"({machine['memory_available_mb']:,} MB available at the start); load average "
        f"{' / '.join(f'{x:.2f}' for x in machine['load_average_start'])} at the start, "
        f"{' / '.join(f'{x:.2f}' for x in machine['load_average_end'])} at the end (1 / 5 / 15 min)",
        f"- Neo4j {', '.join(f'{k} {v}' for k, v in versions['neo4j'].items())}; Python {versions['python']} "
        f"(strawberry-graphql {versions['python_packages']['strawberry-graphql']}, "
        f"neo4j driver {versions['python_packages']['neo4j']}, uvicorn {versions['python_packages']['uvicorn']}); "
        f"Node {versions['node']} (@neo4j/graphql {npm['@neo4j/graphql']}, @apollo/server {npm['@apollo/server']}, "
        f"neo4j-driver {npm['neo4j-driver']})",
        f"- data: the county bundle ({data['bundle_lines']:,} lines, region {data['region']}), files and lists "
        f"read as of {data['as_of']}, discovery and visits on {data['today']} ("
        + (
            "not swept: no operation measured reads the risk"
            if data["sweep_seconds"] is None
            else f"risk materialised by a sweep: {data['sweep_seconds']} s; "
            + (
                "Shouhu's discover reads it"
                if data.get("risk_trusted_when_measured", data.get("risk_trusted"))
                else "not trusted when measured: Shouhu's discover evaluates"
            )
        )
        + f"); township {data['township']}; {data['children_sampled']} child files in turn",
        f"- load: {settings['load_tool']} in its own process; per cell a {settings['warmup_seconds']:g} s warm-up "
        f"per system, then {settings['rounds']} rounds of {settings['duration_seconds']:g} s per system, "
        "the systems taking turns within each round; figures are medians over the rounds",
        f"- Shouhu: {settings['shouhu']}",
        f"- peer: {settings['peer']}",
        f"- floor: {settings['floor']}",
        "- verified first: "
        + ", ".join(f"{LABELS.get(op, op)} ({n})" for op, n in results["verified"].items())
        + " gave the same normalised JSON from all three",
        "- Shouhu's database round trips for one request (in-process count; the floor and the peer make one): "
        + ", ".join(f"{LABELS.get(op, op)} {n}" for op, n in results.get("shouhu_round_trips", {}).items()),
        "",
        "| operation | c | system | p50 ms | p99 ms | req/s | server CPU ms/req | Neo4j CPU ms/req |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for cell in results["cells"]:
        for name, figures in cell["systems"].items():
            cap = figures["cap_seconds"]
            notes = [f"{figures['cut_rounds']} cut"] if figures["cut_rounds"] else []
            notes += [f"{figures['failed']} failed"] if figures.get("failed") else []
            cut = f" ({', '.join(notes)})" if notes else ""
            lines.append(
                f"| {_label(cell)} | {cell['concurrency']} | {NAMES[name]}{cut} | "
                f"{_n(figures['p50_ms'], cap)} | {_n(figures['p99_ms'], cap)} | {_n(figures['rps'])} | "
                f"{_n(figures['cpu_ms_per_request'])} | {_n(figures['neo4j_cpu_ms_per_request'])} |"
            )
    lines += [
        "",
        'A measurement stops after three times its planned duration; "cut" counts the rounds that did '
        "(their latencies are of the requests answered by then, their CPU per request of every request sent), "
        '"> N" says no request was answered within N ms; "failed" counts answers that were not HTTP 200 '
        "or carried GraphQL errors (a deadline passed, a queue full), the first of them kept in the JSON.",
        "",
        "Ratios (Shouhu over the other; below 1 is Shouhu faster for latency and CPU, above 1 for req/s):",
        "",
        "| operation | c | p50 / floor | p50 / peer | p99 / peer | req/s / floor | req/s / peer | CPU / peer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for cell in results["cells"]:
        r = cell["ratios"]
        lines.append(
            f"| {_label(cell)} | {cell['concurrency']} | {_x(r['p50_shouhu_over_floor'])} | "
            f"{_x(r['p50_shouhu_over_peer'])} | {_x(r['p99_shouhu_over_peer'])} | {_x(r['rps_shouhu_over_floor'])} | "
            f"{_x(r['rps_shouhu_over_peer'])} | {_x(r['cpu_shouhu_over_peer'])} |"
        )
    lines += ["", "![p50 and p99 latency against concurrency](latency.svg)", ""]
    return "\n".join(lines)


def _float(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    # The same results make the same file: no date, a fixed id salt.
    matplotlib.rcParams["svg.hashsalt"] = "shouhu-bench"
    names = list(dict.fromkeys(_label(cell) for cell in results["cells"]))
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4), squeeze=False)
    for axis, label in zip(axes[0], names, strict=True):
        cells = [cell for cell in results["cells"] if _label(cell) == label]
        levels = [cell["concurrency"] for cell in cells]
        for name in NAMES:
            p50 = [_float(cell["systems"][name]["p50_ms"]) for cell in cells]
            p99 = [_float(cell["systems"][name]["p99_ms"]) for cell in cells]
            axis.plot(levels, p50, marker="o", color=COLOURS[name], label=f"{name} p50")
            axis.plot(levels, p99, marker="x", linestyle="--", color=COLOURS[name], label=f"{name} p99")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(levels, [str(c) for c in levels])
        axis.set_title(label)
        axis.set_xlabel("concurrency (connections)")
        axis.set_ylabel("latency (ms)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)


def write(results: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    (folder / "latest.md").write_text(markdown(results))
    chart(results, folder / "latency.svg")
