#!/usr/bin/env bash
# Mutation testing of the pure core (app/engine, app/flowdef) with mutmut, against tests/engine and
# tests/flowdef only (no database). Not part of .ci/run: CPU heavy (2,426 mutants; about 700 an hour
# on a busy 2-core machine). Score and equivalent mutants: "Mutation testing" in docs/architecture.md.
#   scripts/mutation.sh                 # every mutant of app/engine and app/flowdef
#   scripts/mutation.sh 'app.engine*'   # only the engine's mutants (mutmut's name patterns)
# Results stay in mutants/ (git-ignored): `.venv/bin/mutmut results`, `.venv/bin/mutmut show NAME`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
[ -x "$VENV/bin/mutmut" ] || "$VENV/bin/pip" install --quiet --disable-pip-version-check "mutmut>=3.3"
# property tests: fewer examples, fixed seed, so a run is repeatable and affordable
export ITSM_TEST_PROPERTY_EXAMPLES=${ITSM_TEST_PROPERTY_EXAMPLES:-30} ITSM_TEST_PROPERTY_DERANDOMIZE=1
nice -n 10 "$VENV/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" "$@"
"$VENV/bin/mutmut" export-cicd-stats >/dev/null 2>&1 || true
"$VENV/bin/mutmut" results
