using System.Collections.Concurrent;
using System.Diagnostics;
using BpfSharp.Btf;
using BpfSharp.Elf;

namespace BpfSharp.Tests.Btf;

/// <summary>The .BTF and .BTF.ext sections of the clang-compiled test programs, read with the ELF reader.</summary>
internal static class BtfTestData
{
    private static readonly ConcurrentDictionary<string, (byte[] Btf, byte[] Ext)> s_sections = new();

    internal static byte[] Btf(string program) => Sections(program).Btf;

    internal static byte[] Ext(string program) => Sections(program).Ext;

    internal static BtfSpec Spec(string program) => BtfSpec.Parse(Btf(program));

    private static (byte[] Btf, byte[] Ext) Sections(string program) => s_sections.GetOrAdd(program, name => ReadSections(TestPrograms.Path(name)));

    /// <summary>The raw .BTF and .BTF.ext bytes of an ELF object.</summary>
    internal static (byte[] Btf, byte[] Ext) ReadSections(string objectPath)
    {
        var elf = ElfFile.Read(objectPath);
        Assert.True(elf.TryGetSection(".BTF", out ElfSection btf), $"{objectPath} has no .BTF section");
        Assert.True(elf.TryGetSection(".BTF.ext", out ElfSection ext), $"{objectPath} has no .BTF.ext section");
        return (btf.Data.ToArray(), ext.Data.ToArray());
    }

    /// <summary>Runs a tool and returns its standard output; fails the test with its error output when it fails.</summary>
    internal static string Run(string tool, string arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(tool, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"{tool} {arguments} did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"{tool} {arguments} failed ({process.ExitCode}):\n{error.Result}");
        return output;
    }
}

public class ObjectBtfTests
{
    [Fact]
    public void LoadReadsTheBtfSectionOfAnElfObject()
    {
        string path = TestPrograms.Path("minimal");
        BtfSpec spec = BtfSpec.Load(path);
        Assert.Equal(BtfTestData.Spec("minimal").TypeIdLimit, spec.TypeIdLimit);
        Assert.True(spec.TryFindType("count_runs", BtfKind.Function, out _));

        BtfExt ext = BtfExt.FromElf(BpfSharp.Elf.ElfFile.Read(path), spec)!;
        Assert.True(ext.LineInfos.ContainsKey("xdp"));
    }

    [Fact]
    public void ObjectsWithoutBtfSaySoAndHowToGetIt()
    {
        var error = Assert.Throws<BtfException>(() => BtfSpec.Load("/bin/ls"));
        Assert.Contains("clang -g", error.Message);
    }
}
