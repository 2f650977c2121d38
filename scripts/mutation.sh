#!/usr/bin/env bash
# Mutation testing of the pure core (app/engine, app/flowdef) with mutmut, against tests/engine and
# tests/flowdef only (no database). Not part of .ci/run: CPU heavy (7,657 mutants; a few hundred to a
# few thousand an hour on a busy 2-core machine). Score and survivors: "Mutation testing" in docs/architecture.md.
#   scripts/mutation.sh                 # every mutant of app/engine and app/flowdef
#   scripts/mutation.sh 'app.engine*'   # only the engine's mutants (mutmut's name patterns)
#   scripts/mutation.sh --sample 50 21 app/flowdef/loader.py app/flowdef/checks.py
#                                       # a seeded random sample of each file's mutants (50 each, seed 21)
# mutmut runs only the tests that reach the mutated function (it records them in a first, traced run),
# stops at the first failure (-x), and keeps every result in mutants/ (git-ignored): a stopped run resumes
# where it was. `.venv/bin/mutmut results`, `.venv/bin/mutmut show NAME`, and per-file scores with a 95 %
# interval: `python scripts/mutation_report.py scores`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/mutmut" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check "mutmut>=3.3"
# property tests: fewer examples, fixed seed, so a run is repeatable and affordable
export ITSM_TEST_PROPERTY_EXAMPLES=${ITSM_TEST_PROPERTY_EXAMPLES:-30} ITSM_TEST_PROPERTY_DERANDOMIZE=1
NICE=${MUTATION_NICE:-19}
if [ "${1:-}" = "--sample" ]; then
    size=$2 seed=$3; shift 3
    # generate the mutants (and the per-test stats) without running any, then draw the sample
    nice -n "$NICE" "$VENV/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" 'no-such-mutant' >/dev/null || true
    names=()
    for f in "$@"; do
        mapfile -t -O "${#names[@]}" names < <("$VENV/bin/python" scripts/mutation_report.py sample "$f" "$size" "$seed")
    done
    set -- "${names[@]}"
fi
nice -n "$NICE" "$VENV/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@"
"$VENV/bin/mutmut" export-cicd-stats >/dev/null 2>&1 || true
"$VENV/bin/python" scripts/mutation_report.py scores
