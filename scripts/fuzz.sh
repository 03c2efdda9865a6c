#!/usr/bin/env bash
# The long fuzzing run (the suite runs the same properties bounded): decoder and request handlers,
# AAA_FUZZ_EXAMPLES examples per property (default 100,000). Needs what scripts/test.sh needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export AAA_FUZZ_EXAMPLES="${AAA_FUZZ_EXAMPLES:-100000}"
exec .venv/bin/pytest -q -p no:cacheprovider tests/integration/test_fuzz.py --timeout 0 "$@"
