#!/usr/bin/env bash
# `npm test`: prepares the machine, builds, runs the type check beside ESLint, then Vitest (the
# arguments go to Vitest). When better-sqlite3's native addon is not built yet (CI installs with
# `npm ci --ignore-scripts` for this), it is compiled in the background meanwhile: a minute of one
# core that only the tests need.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash test/setup/prepare-machine.sh

native=""
native_log=""
if ! node -e "new (require('better-sqlite3'))(':memory:').close()" >/dev/null 2>&1; then
  echo "test: compiling better-sqlite3's native addon in the background…" >&2
  native_log="$(mktemp -t offshift-better-sqlite3.XXXXXX)"
  npm rebuild better-sqlite3 >"$native_log" 2>&1 &
  native=$!
fi

# While the addon compiles (the longest step), the build and the static checks yield the CPU to it.
later=()
[ -n "$native" ] && later=(nice -n 10)
"${later[@]}" npm run -s build
"${later[@]}" bash test/setup/static-checks.sh

if [ -n "$native" ]; then
  if ! wait "$native"; then
    cat "$native_log" >&2
    echo "test: better-sqlite3's native addon did not build (its output is above); npm ci without --ignore-scripts shows the same" >&2
    exit 1
  fi
  rm -f "$native_log"
fi

echo "test: machine, build, checks and native addon ready after ${SECONDS} s; running the suite" >&2
exec npx vitest run "$@"
