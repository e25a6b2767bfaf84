#!/usr/bin/env bash
# `make lock`: re-resolve the locked Python packages from pyproject.toml (a deliberate commit).
#   requirements/test.lock.txt   runtime + dev extras + installers
#   requirements/run.lock.txt    runtime + installers, constrained to the same versions
# Both are universal (any platform, Python >= 3.11) and carry hashes; scripts/setup.sh installs
# them with pip --require-hashes and removes anything else. Pass --upgrade to move every package
# to its newest allowed release; without it, pins are only changed where pyproject requires.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
[ -x "$uv" ] || { echo "run 'make test' (or scripts/setup.sh test) first: uv comes from the lock" >&2; exit 1; }
common=(--generate-hashes --universal --python-version 3.11 --quiet
        --custom-compile-command "make lock")
"$uv" pip compile pyproject.toml requirements/tools.in --extra dev "${common[@]}" "$@" \
  -o requirements/test.lock.txt
"$uv" pip compile pyproject.toml requirements/tools.in "${common[@]}" \
  -c requirements/test.lock.txt -o requirements/run.lock.txt
# The same pins as a standard lock file (PEP 751) at the project root, for tools that read
# pylock.toml; setup installs requirements/*.lock.txt, tests/test_lock.py keeps the two equal.
"$uv" pip compile pyproject.toml requirements/tools.in --extra dev --universal \
  --python-version 3.11 --quiet --custom-compile-command "make lock" \
  -c requirements/test.lock.txt --format pylock.toml -o pylock.toml
echo "locked: $(grep -c '==' requirements/test.lock.txt) packages (test), $(grep -c '==' requirements/run.lock.txt) (run)"
