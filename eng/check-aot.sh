#!/usr/bin/env bash
# Publishes the bpfsharp tool with NativeAOT and fails on any warning: the library and the tool
# promise to stay trimming- and AOT-clean. Prints the size of the native binary.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/aot"
rid="linux-$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')"
command -v clang >/dev/null 2>&1 || command -v clang-14 >/dev/null 2>&1 || apt-get install -y -qq clang-14 >/dev/null
dpkg -s zlib1g-dev >/dev/null 2>&1 || apt-get install -y -qq zlib1g-dev >/dev/null
# The NativeAOT linker driver defaults to 'clang'; Debian installs only the versioned name.
linker=()
command -v clang >/dev/null 2>&1 || linker=(-p:CppCompilerAndLinker=clang-14)
log=$(dotnet publish "$root/src/BpfSharp.Cli/BpfSharp.Cli.csproj" -c Release -r "$rid" -p:PublishAot=true "${linker[@]}" -o "$out" -nologo 2>&1)
status=$?
warnings=$(echo "$log" | grep -E ' warning [A-Z]+[0-9]+' | sort -u)
if [ $status -ne 0 ] || [ -n "$warnings" ]; then
  echo "$log" | grep -E 'warning|error' | sort -u
  echo "aot: NativeAOT publish failed or warned" >&2
  exit 1
fi
"$out/bpfsharp" version >/dev/null || { echo "aot: the native bpfsharp does not run" >&2; exit 1; }
echo "aot: $out/bpfsharp ($(du -h "$out/bpfsharp" | cut -f1)) published without warnings"
