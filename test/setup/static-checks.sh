#!/usr/bin/env bash
# The type check (node code and renderer) and ESLint, side by side (each uses one core); fails
# when either fails, after both have printed what they found.
set -uo pipefail
npm run -s typecheck &
typecheck=$!
npm run -s lint
lint=$?
wait "$typecheck"
typecheck=$?
[ "$typecheck" -eq 0 ] && [ "$lint" -eq 0 ]
