using BpfSharp.Tests.Tools;

namespace BpfSharp.Tests.Examples;

/// <summary>examples/Opensnoop, the application docs/writing-a-tool.md walks through, built by the build and run as a user would.</summary>
[Trait("Category", "Kernel")]
public sealed class OpensnoopExampleTests
{
    // The example is built beside the tests by its project reference; its output directory mirrors ours.
    private static readonly string Executable = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory,
        "..", "..", "..", "..", "..", "examples", "Opensnoop", "bin", "Release", "net10.0", "Opensnoop"));

    [KernelFact]
    public void ItReportsTheOpensOfTheProcessItWatches()
    {
        string path = Path.Combine(Path.GetTempPath(), $"opensnoop-example-{Environment.ProcessId}-{Guid.NewGuid():N}");
        File.WriteAllText(path, "x");
        try
        {
            using ToolProcess opensnoop = ToolProcess.StartProgram(Executable, "--pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            string line = "";
            Assert.True(SpinWait.SpinUntil(() =>
            {
                File.ReadAllText(path); // an openat by this process, again until it shows
                line = opensnoop.Output.Split('\n').FirstOrDefault(l => l.EndsWith(path, StringComparison.Ordinal)) ?? "";
                return line.Length > 0;
            }, TimeSpan.FromSeconds(30)), $"no line for {path}: {opensnoop.Output} {opensnoop.Error}");
            (int exitCode, string output, _) = opensnoop.Stop();
            Assert.Equal(0, exitCode);
            Assert.StartsWith("    PID COMM", output, StringComparison.Ordinal);
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), columns[0]);
            Assert.Equal("80000", columns[^2]); // O_CLOEXEC, as .NET opens files; O_RDONLY is 0
            // Only this process: nothing from the others that open files all the time.
            Assert.All(output.Split('\n').Skip(1).Where(l => l.Length > 0),
                l => Assert.Equal(columns[0], l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
