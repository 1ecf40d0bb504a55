#!/usr/bin/env bash
# Side by side with bpftrace: what a tracing tool costs the traced system and how long it takes to start.
#
#   bench/tools/compare.sh [--rounds N] [--calls N]
#
# Workload: syscalls.c makes N getppid(2) calls and reports the time they took. Per round, alternating:
#   baseline   the workload alone
#   bpfsharp   under `bpfsharp syscount` (NativeAOT build, counts per syscall at raw_syscalls:sys_exit)
#   bpftrace   under `bpftrace -e 'tracepoint:raw_syscalls:sys_exit { @[args->id] = count(); }'` (the same count)
# Printed per round: start-up (launch until the tool says it is tracing), workload ns per call, and
# whether the tool counted every call. Last: medians, and the overhead ratio bpfsharp / bpftrace
# (added ns per call; lower is better) and the start-up ratio.
set -euo pipefail
set -m # job control: background tools get SIGINT (Ctrl-C) instead of ignoring it
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds=5 calls=2000000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2;;
    --calls) calls=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done

"$root/eng/setup.sh"
command -v bpftrace >/dev/null 2>&1 || { apt-get update -qq >/dev/null; apt-get install -y -qq bpftrace >/dev/null; }
tool="$root/artifacts/aot/bpfsharp"
# The published tool, as users run it; rebuilt when a source is newer than the binary.
if [ ! -x "$tool" ] || [ -n "$(find "$root/src" \( -name '*.cs' -o -name '*.c' -o -name '*.csproj' \) -newer "$tool" -print -quit)" ]; then
  "$root/eng/check-aot.sh" >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/syscalls" "$here/syscalls.c"
getppid_nr=$(printf '#include <sys/syscall.h>\nSYS_getppid\n' | gcc -E -P - | tail -n 1)

now_ns() { date +%s%N; }

# run_traced NAME READY_PATTERN COMMAND...: starts the tracer, waits for READY_PATTERN in its output,
# runs the workload, stops the tracer with SIGINT; sets startup_ms, per_call_ns and the output file.
run_traced() {
  local name=$1 ready=$2; shift 2
  local out="$work/$name.out"
  local start; start=$(now_ns)
  "$@" >"$out" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    grep -q "$ready" "$out" && break
    sleep 0.01
  done
  grep -q "$ready" "$out" || { echo "$name did not start: $(cat "$out")" >&2; kill -9 $pid; exit 1; }
  startup_ms=$(( ($(now_ns) - start) / 1000000 ))
  per_call_ns=$(( $("$work/syscalls" "$calls") / calls ))
  kill -INT $pid
  wait $pid || true
  output="$out"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
: >"$work/base"; : >"$work/sharp"; : >"$work/trace"; : >"$work/sharp_start"; : >"$work/trace_start"
for r in $(seq "$rounds"); do
  base=$(( $("$work/syscalls" "$calls") / calls ))
  echo "$base" >>"$work/base"

  run_traced bpfsharp '^Tracing' "$tool" syscount --json --top 1000
  sharp_count=$(grep -o "\"nr\": *$getppid_nr,[^}]*\"count\": *[0-9]*" "$output" | grep -o '[0-9]*$' || echo 0)
  echo "$per_call_ns" >>"$work/sharp"; echo "$startup_ms" >>"$work/sharp_start"
  sharp_ok=$([ "${sharp_count:-0}" -ge "$calls" ] && echo ok || echo "FAILED(${sharp_count:-0})")

  run_traced bpftrace '^ready' bpftrace -e 'BEGIN { printf("ready\n"); } tracepoint:raw_syscalls:sys_exit { @[args->id] = count(); }'
  trace_count=$(grep -o "^@\[$getppid_nr\]: [0-9]*" "$output" | grep -o '[0-9]*$' || echo 0)
  echo "$per_call_ns" >>"$work/trace"; echo "$startup_ms" >>"$work/trace_start"
  trace_ok=$([ "${trace_count:-0}" -ge "$calls" ] && echo ok || echo "FAILED(${trace_count:-0})")

  echo "round $r: baseline ${base} ns/call | bpfsharp $(tail -n 1 "$work/sharp") ns/call, start $(tail -n 1 "$work/sharp_start") ms, count $sharp_ok | bpftrace $(tail -n 1 "$work/trace") ns/call, start $(tail -n 1 "$work/trace_start") ms, count $trace_ok"
done
b=$(median <"$work/base"); s=$(median <"$work/sharp"); t=$(median <"$work/trace")
ss=$(median <"$work/sharp_start"); ts=$(median <"$work/trace_start")
awk -v b="$b" -v s="$s" -v t="$t" -v ss="$ss" -v ts="$ts" 'BEGIN {
  printf "syscount: baseline %.0f ns/call; added per call: bpfsharp %.0f ns, bpftrace %.0f ns, ratio %.2f | start-up: bpfsharp %.0f ms, bpftrace %.0f ms, ratio %.2f\n",
    b, s - b, t - b, (t - b > 0 ? (s - b) / (t - b) : 0), ss, ts, (ts > 0 ? ss / ts : 0) }'
