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
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
fi
exit $status
