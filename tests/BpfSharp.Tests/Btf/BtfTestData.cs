using System.Collections.Concurrent;
using System.Diagnostics;
using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>
/// The .BTF and .BTF.ext sections of the clang-compiled test programs, extracted with
/// llvm-objcopy-14 (the ELF reader lives elsewhere; these tests only need the section bytes).
/// </summary>
internal static class BtfTestData
{
    private static readonly ConcurrentDictionary<string, (byte[] Btf, byte[] Ext)> s_sections = new();

    internal static byte[] Btf(string program) => Sections(program).Btf;

    internal static byte[] Ext(string program) => Sections(program).Ext;

    internal static BtfSpec Spec(string program) => BtfSpec.Parse(Btf(program));

    private static (byte[] Btf, byte[] Ext) Sections(string program) => s_sections.GetOrAdd(program, name =>
    {
        string directory = Directory.CreateTempSubdirectory("bpfsharp-btf-").FullName;
        try
        {
            string btf = Path.Combine(directory, "btf"), ext = Path.Combine(directory, "ext");
            Run("llvm-objcopy-14", $"--dump-section .BTF={btf} --dump-section .BTF.ext={ext} {TestPrograms.Path(name)} /dev/null");
            return (File.ReadAllBytes(btf), File.ReadAllBytes(ext));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    });

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
