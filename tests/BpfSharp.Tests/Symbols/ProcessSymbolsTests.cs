using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BpfSharp.Elf;
using BpfSharp.Symbols;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Symbols;

/// <summary>
/// User-space symbolization: profile_spin (a position-independent executable) running and waiting, its functions'
/// addresses taken from its own symbol table (what nm prints) plus its load base, and libc functions of this process.
/// </summary>
public class ProcessSymbolsTests
{
    private static string Spinner => LinkTestSupport.NativeProgram("profile_spin");

    [Fact]
    public void ModuleSymbolsAgreeWithNm()
    {
        ModuleSymbols module = ModuleSymbols.Load(Spinner);
        Assert.True(module.IsPositionIndependent);
        foreach (string line in ExternalTool.Run("nm", Spinner).Split('\n'))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 3 && fields[1] == "T" && fields[2] is "main" or "spin_here")
            {
                ulong address = ulong.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                Assert.True(module.TryResolve(address + 3, out FunctionSymbol function, out ulong offset));
                Assert.Equal((fields[2], 3UL), (function.Name, offset));
            }
        }
        Assert.Contains(module.Functions, f => f.Name == "spin_here" && f.Size > 0);
    }

    [Fact]
    public void FileOffsetsBecomeVirtualAddressesThroughTheLoadSegments()
    {
        ModuleSymbols module = ModuleSymbols.Load(Spinner);
        using ElfFile elf = ElfFile.Open(Spinner);
        ElfSegment[] loads = elf.Segments.Where(s => s.Type == ElfSegmentType.Load).ToArray();
        // The data segment of a PIE usually sits at a virtual address a page past its file offset.
        Assert.Contains(loads, s => s.VirtualAddress != s.Offset);
        foreach (ElfSegment segment in loads)
        {
            Assert.True(module.TryGetVirtualAddress(segment.Offset + 8, out ulong address));
            Assert.Equal(segment.VirtualAddress + 8, address);
            Assert.True(elf.TryGetVirtualAddress(segment.Offset + 8, out ulong sameAddress));
            Assert.Equal(address, sameAddress);
        }
        Assert.False(module.TryGetVirtualAddress(1UL << 40, out _));
    }

    [Fact]
    public void FunctionsOfARunningPositionIndependentExecutableResolveAfterItsLoadBias()
    {
        var start = new ProcessStartInfo(Spinner, ["0", "wait"]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process program = Process.Start(start)!;
        try
        {
            ModuleSymbols module = ModuleSymbols.Load(Spinner);
            FunctionSymbol spin = module.Functions.Single(f => f.Name == "spin_here");
            FunctionSymbol main = module.Functions.Single(f => f.Name == "main");
            ProcessSymbols symbols = WaitForMaps(program.Id, Path.GetFileName(Spinner));
            // A PIE is loaded at a random base: the mapping of file offset 0 starts there (its first PT_LOAD has vaddr 0).
            MemoryRegion first = symbols.Maps.Regions.First(r => r.Path.EndsWith("/profile_spin", StringComparison.Ordinal) && r.FileOffset == 0);
            ulong bias = first.Start;
            Assert.NotEqual(0UL, bias);

            UserFrame frame = symbols.Resolve(bias + spin.Address + 4);
            Assert.Equal(("spin_here", 4UL, "profile_spin"), (frame.Function, frame.Offset, frame.Module));
            Assert.Equal(spin.Address + 4, frame.ModuleAddress);
            Assert.Equal("main", symbols.Describe(bias + main.Address + main.Size - 1));
        }
        finally
        {
            program.Kill();
        }
    }

    [Fact]
    public void ALibcFunctionOfThisProcessResolvesToItsName()
    {
        nint libc = NativeLibrary.Load("libc.so.6");
        ulong getpid = (ulong)NativeLibrary.GetExport(libc, "getpid");
        ulong qsort = (ulong)NativeLibrary.GetExport(libc, "qsort");
        ProcessSymbols symbols = ProcessSymbols.Read(Environment.ProcessId);
        UserFrame frame = symbols.Resolve(getpid + 1);
        Assert.Equal("libc.so.6", frame.Module);
        Assert.Contains("getpid", frame.Function);
        Assert.Equal(1UL, frame.Offset);
        Assert.Contains("qsort", symbols.Describe(qsort));
    }

    [Fact]
    public void AddressesOutsideFilesAreLabelledByTheirRegionOrUnknown()
    {
        ProcessMaps maps = ProcessMaps.Parse(
            $"""
            555555554000-555555555000 r--p 00000000 fe:00 100 {Spinner}
            555555555000-555555556000 r-xp 00001000 fe:00 100 {Spinner}
            7f0000000000-7f0000001000 rw-p 00000000 00:00 0
            7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]
            7ffff8000000-7ffff8001000 r-xp 00000000 fe:00 101 /nonexistent/libgone.so
            """);
        ProcessSymbols symbols = ProcessSymbols.FromMaps(maps);
        FunctionSymbol spin = ModuleSymbols.Load(Spinner).Functions.Single(f => f.Name == "spin_here");
        // The text mapping starts at file offset 0x1000, mapped at 0x555555555000: vaddr = address - start + offset.
        Assert.Equal("spin_here", symbols.Describe(0x555555554000UL + spin.Address));
        Assert.Equal("[unknown]", symbols.Describe(0x1000));
        Assert.Equal("[anon]+0x10", symbols.Describe(0x7f0000000010));
        Assert.Equal("[vdso]+0x20", symbols.Describe(0x7ffff7fc1020));
        Assert.Equal("libgone.so+0x30", symbols.Describe(0x7ffff8000030));
        Assert.False(symbols.Resolve(0x7ffff8000030).IsResolved);
    }

    [Fact]
    public void ModulesAreReadOncePerFile()
    {
        var cache = new ModuleSymbolCache();
        ModuleSymbols? first = cache.Get(Spinner, 7, [Spinner]);
        Assert.NotNull(first);
        Assert.Same(first, cache.Get(Spinner, 7, ["/nonexistent"]));
        Assert.Null(cache.Get("/nonexistent", 8, ["/nonexistent"]));
        Assert.Equal(2, cache.Count);
    }

    private static ProcessSymbols WaitForMaps(int pid, string executable)
    {
        ProcessSymbols? symbols = null;
        Assert.True(LinkTestSupport.WaitUntil(() =>
        {
            symbols = ProcessSymbols.Read(pid);
            return symbols.Maps.Regions.Any(r => r.Path.EndsWith("/" + executable, StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(10)));
        return symbols!;
    }
}
