using System.Runtime.InteropServices;
using BpfSharp.Symbols;
using BpfSharp.Tracing;

namespace BpfSharp.Tests.Symbols;

/// <summary>The generated system call table: known numbers both ways, entry point names, and the kernel's own list.</summary>
public class SyscallsTests
{
    [Theory]
    [InlineData(Architecture.X64, 0, "read")]
    [InlineData(Architecture.X64, 59, "execve")]
    [InlineData(Architecture.X64, 110, "getppid")]
    [InlineData(Architecture.X64, 321, "bpf")]
    [InlineData(Architecture.X64, 451, "cachestat")]
    [InlineData(Architecture.Arm64, 63, "read")]
    [InlineData(Architecture.Arm64, 221, "execve")]
    [InlineData(Architecture.Arm64, 280, "bpf")]
    [InlineData(Architecture.Arm64, 79, "newfstatat")]
    public void NamesAndNumbersMatchTheKernelTables(Architecture architecture, int number, string name)
    {
        Assert.Equal(name, Syscalls.Name(number, architecture));
        Assert.Equal(number, Syscalls.Number(name, architecture));
    }

    [Fact]
    public void UnknownCallsAndArchitecturesGiveNull()
    {
        Assert.Null(Syscalls.Name(99999, Architecture.X64));
        Assert.Null(Syscalls.Name(-1, Architecture.X64));
        Assert.Null(Syscalls.Number("no_such_call", Architecture.X64));
        Assert.Null(Syscalls.Name(0, Architecture.X86));
        Assert.False(Syscalls.IsKnown(Architecture.X86));
        Assert.Empty(Syscalls.All(Architecture.X86));
    }

    [Fact]
    public void EntryPointNamesFindTheCall()
    {
        Assert.Equal(5, Syscalls.Number("newfstat", Architecture.X64));
        Assert.Equal("fstat", Syscalls.Name(5, Architecture.X64));
        Assert.Equal(166, Syscalls.Number("umount", Architecture.X64));
        Assert.Equal(223, Syscalls.Number("fadvise64_64", Architecture.Arm64));
    }

    [Fact]
    public void TablesAreSortedWithoutDuplicates()
    {
        foreach (Architecture architecture in new[] { Architecture.X64, Architecture.Arm64 })
        {
            IReadOnlyList<(int Number, string Name)> calls = Syscalls.All(architecture);
            Assert.True(calls.Count > 300);
            Assert.Equal(calls.OrderBy(c => c.Number).Select(c => c.Number), calls.Select(c => c.Number));
            Assert.Equal(calls.Count, calls.Select(c => c.Number).Distinct().Count());
            Assert.Equal(calls.Count, calls.Select(c => c.Name).Distinct().Count());
        }
    }

    [Fact]
    public void TheRunningArchitectureIsKnown()
    {
        Assert.True(Syscalls.IsKnown(RuntimeInformation.ProcessArchitecture));
        Assert.Equal("execve", Syscalls.Name((int)Syscalls.Number("execve")!));
        Assert.Equal("newfstat", Syscalls.EntryPoint("fstat"));
        Assert.Equal("getppid", Syscalls.EntryPoint("getppid"));
    }

    /// <summary>
    /// The kernel creates a syscalls:sys_enter_NAME tracepoint only for calls it found in its own table, named after
    /// the entry point: every one must map to a number here, or the table is older than the kernel.
    /// </summary>
    [KernelFact]
    [Trait("Category", "Kernel")]
    public void EveryTracepointOfTheRunningKernelHasANumber()
    {
        string directory = Path.Combine(Tracefs.Default.EventsDirectory, "syscalls");
        string[] names = Directory.EnumerateDirectories(directory, "sys_enter_*")
            .Select(d => Path.GetFileName(d)["sys_enter_".Length..])
            .ToArray();
        Assert.True(names.Length > 250, $"{directory} lists {names.Length} calls");
        string[] unknown = [.. names.Where(n => Syscalls.Number(n) is null)];
        Assert.True(unknown.Length == 0, $"no number for the kernel's calls {string.Join(", ", unknown)}");
    }
}
