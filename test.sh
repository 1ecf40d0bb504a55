#!/usr/bin/env bash
# Runs the whole test suite as root against this machine's kernel, after preparing the machine.
# Extra arguments go to 'dotnet test' (for example: --filter Category!=Kernel).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/eng/setup.sh" || exit 1
results="$root/artifacts/test-results"
rm -rf "$results"
dotnet test "$root/tests/BpfSharp.Tests/BpfSharp.Tests.csproj" -c Release -nologo \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
status=$?
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  skipped=$(( ${total:-0} - ${executed:-0} ))
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
fi
exit $status
