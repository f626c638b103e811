"""Run every benchmark module (`bench/*_bench.py`), the import benchmark first.

Each runs in its own process, so one benchmark's memory never shows in another's figures.
Extra arguments are passed to every module (for example `--kinds county`).
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path


def modules() -> list[str]:
    names = [info.name for info in pkgutil.iter_modules([str(Path(__file__).resolve().parent)])]
    benches = sorted(name for name in names if name.endswith("_bench"))
    return sorted(benches, key=lambda name: name != "import_bench")


def main() -> int:
    failed = []
    for name in modules():
        print(f"== bench.{name}", flush=True)
        completed = subprocess.run([sys.executable, "-m", f"bench.{name}", *sys.argv[1:]], check=False)  # noqa: S603
        if completed.returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
