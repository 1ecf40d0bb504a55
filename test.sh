#!/usr/bin/env bash
# Runs the whole test suite as root against this machine's kernel, after preparing the machine.
# Extra arguments go to 'dotnet test' (for example: --filter Category!=Kernel).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/eng/setup.sh" || exit 1
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
project="$root/tests/BpfSharp.Tests/BpfSharp.Tests.csproj"
# Build first, so that the ledger of kernel objects can use the freshly built bpfsharp before the tests start.
if ! dotnet build "$project" -c Release -nologo -v quiet; then
  echo "tests: 0 passed, 1 failed, 0 skipped (the build failed)"
  exit 1
fi
tool="$root/tests/BpfSharp.Tests/bin/Release/net10.0/bpfsharp"
ledger="$results/kernel-objects-before.json"
ledger_ok=1
"$root/eng/object-ledger.py" "$tool" snapshot "$ledger" || ledger_ok=0
dotnet test "$project" -c Release -nologo --no-build \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@"
status=$?
# The suite leaves nothing behind: every program and link it made is gone once its process has exited.
leaked=0
if [ "$ledger_ok" = 1 ] && ! "$root/eng/object-ledger.py" "$tool" check "$ledger"; then
  leaked=1
  status=1
fi
trx="$results/results.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  skipped=$(( ${total:-0} - ${executed:-0} ))
  # The console log is long; repeat each failure (name and the head of its message) just above
  # the closing line, so that a log's tail says what went wrong.
  if [ "${failed:-0}" != "0" ] && command -v python3 >/dev/null; then
    python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
    print("FAILED " + r.get("testName", "?"))
    for tag in ("Message", "StackTrace"):
        e = r.find(".//t:" + tag, ns)
        if e is not None and e.text:
            for line in e.text.strip().splitlines()[:12]:
                print("    " + line)
PY
  fi
  if [ "$leaked" = 1 ]; then
    echo "FAILED the suite left kernel objects behind (LEFT BEHIND lines above)"
  fi
  echo "tests: ${passed:-0} passed, $(( ${failed:-0} + leaked )) failed, ${skipped} skipped"
fi
exit $status
