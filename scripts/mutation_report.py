"""Mutation testing helper for scripts/mutation.sh: seeded samples and per-file scores.

Reads mutmut's own result files (mutants/<source>.meta, written by `mutmut run`), so it works on a
run that is still going or was stopped part way.

    python scripts/mutation_report.py sample app/flowdef/bk_export.py 300 21
        print 300 mutant names of that file, drawn with random.Random(21) from its sorted names
        (the same names every time for the same source: pass them to `mutmut run`)
    python scripts/mutation_report.py scores [app/engine app/flowdef ...]
        one line per file: mutants, killed, timeout, survived, no tests, not checked, score,
        and the 95 % Wilson interval of the score over what was checked (for a sample)
    python scripts/mutation_report.py survivors [PATTERN]
        the names of the surviving mutants (fnmatch PATTERN, default every one)
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"

# mutmut's exit codes (mutmut/stats.py), grouped the way the docs report them
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout", 255: "timeout",
          37: "killed", None: "not checked"}


def _meta(source: str) -> dict:
    path = MUTANTS / (source + ".meta")
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `mutmut run` once so it generates the mutants")
    return json.loads(path.read_text("utf-8"))


def _sources(paths: list[str]) -> list[str]:
    out: list[str] = []
    for p in paths or ["app/engine", "app/flowdef"]:
        if p.endswith(".py"):
            out.append(p)
        else:
            out.extend(sorted(str(m.relative_to(MUTANTS))[: -len(".meta")]
                              for m in (MUTANTS / p).glob("*.py.meta")))
    return out


def sample(source: str, size: int, seed: int) -> list[str]:
    names = sorted(_meta(source)["exit_code_by_key"])
    return sorted(random.Random(seed).sample(names, min(size, len(names))))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def scores(paths: list[str]) -> None:
    cols = ["killed", "timeout", "survived", "no tests", "skipped", "suspicious", "not checked"]
    print(f"{'file':32} {'mutants':>7} " + " ".join(f"{c:>11}" for c in cols) + "   score  95% interval")
    for source in _sources(paths):
        codes = _meta(source)["exit_code_by_key"]
        if not codes:
            continue
        count = {c: 0 for c in cols}
        for code in codes.values():
            count[STATUS.get(code, "suspicious")] += 1
        detected = count["killed"] + count["timeout"]
        checked = detected + count["survived"] + count["no tests"] + count["suspicious"]
        low, high = wilson(detected, checked)
        score = f"{100 * detected / checked:6.1f}%  {100 * low:.1f}-{100 * high:.1f}%" if checked else "     -"
        print(f"{source:32} {len(codes):7} " + " ".join(f"{count[c]:11}" for c in cols) + "  " + score)


def survivors(pattern: str) -> None:
    for source in _sources([]):
        for name, code in sorted(_meta(source)["exit_code_by_key"].items()):
            if STATUS.get(code, "suspicious") in ("survived", "no tests", "suspicious") \
                    and fnmatch.fnmatch(name, pattern):
                print(name, STATUS.get(code, "suspicious"))


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["scores"]
    if command == "sample":
        print("\n".join(sample(args[0], int(args[1]), int(args[2]))))
    elif command == "scores":
        scores(args)
    elif command == "survivors":
        survivors(args[0] if args else "*")
    else:
        raise SystemExit(__doc__)
