"""Run the benchmarks (`bench/*_bench.py`): the import first, the API last (its visits change the
data the others would measure); `--only api` runs one of them.

Each runs in its own process, so one benchmark's memory never shows in another's figures.
Other arguments are passed to every module (for example `--kinds county`); with
`BENCH_PROVINCE=1` in the environment and no `--kinds`, every module is given
`--kinds county,province` (the province: long, opt-in).
"""

from __future__ import annotations

import argparse
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path


def modules() -> list[str]:
    names = [info.name for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)])]
    benches = sorted(name for name in names if name.endswith("_bench"))
    return sorted(benches, key=lambda name: (name != "import_bench", name == "api_bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="comma-separated: run only these (api, import, discovery)")
    arguments, rest = parser.parse_known_args()
    chosen = modules()
    if arguments.only:
        wanted = {name.strip().removesuffix("_bench") + "_bench" for name in arguments.only.split(",") if name.strip()}
        unknown = wanted - set(chosen)
        if unknown:
            parser.error(f"--only: no such benchmark: {', '.join(sorted(unknown))} (have {', '.join(chosen)})")
        chosen = [name for name in chosen if name in wanted]
    if os.environ.get("BENCH_PROVINCE") == "1" and not any(arg.startswith("--kinds") for arg in rest):
        rest = [*rest, "--kinds", "county,province"]
    failed = []
    took: list[str] = []
    started = time.monotonic()
    for name in chosen:
        print(f"== bench.{name}", flush=True)
        began = time.monotonic()
        completed = subprocess.run([sys.executable, "-m", f"bench.{name}", *rest], check=False)  # noqa: S603
        took.append(f"{name} {time.monotonic() - began:.0f} s")
        if completed.returncode != 0:
            failed.append(name)
    # Where a run's time went: `make bench` from a fresh clone has a budget (bench/README.md).
    print(f"== took {time.monotonic() - started:.0f} s: {', '.join(took)}", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
