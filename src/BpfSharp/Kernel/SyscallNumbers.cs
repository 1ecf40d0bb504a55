using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

/// <summary>System call numbers for calls glibc does not wrap; they differ per architecture.</summary>
internal static class SyscallNumbers
{
    internal static readonly long Bpf;
    internal static readonly long PerfEventOpen;

    static SyscallNumbers()
    {
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.X64:
                Bpf = 321;
                PerfEventOpen = 298;
                break;
            case Architecture.Arm64:
            case Architecture.RiscV64:
            case Architecture.LoongArch64:
                // The asm-generic syscall table.
                Bpf = 280;
                PerfEventOpen = 241;
                break;
            default:
                throw new PlatformNotSupportedException(
                    $"BpfSharp supports 64-bit Linux on x86-64, arm64, riscv64 and loongarch64; this process runs on {RuntimeInformation.ProcessArchitecture}.");
        }
    }
}
