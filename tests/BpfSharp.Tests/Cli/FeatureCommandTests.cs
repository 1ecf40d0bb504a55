using System.Diagnostics;
using System.Text.Json;

namespace BpfSharp.Tests.Cli;

[Trait("Category", "Kernel")]
public class FeatureCommandTests
{
    [KernelFact]
    public void JsonReportHasTheValuesThisMachineCertainlyHas()
    {
        (int exitCode, string output, string error) = RunTool("feature", "probe", "--json", "--program-type", "xdp");
        Assert.True(exitCode == 0, error);
        using JsonDocument document = JsonDocument.Parse(output);
        JsonElement root = document.RootElement;
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), root.GetProperty("kernel_release").GetString());
        Assert.Equal("supported", Status(root, "map_types", "hash"));
        Assert.Equal("supported", Status(root, "map_types", "array"));
        Assert.Equal("supported", Status(root, "map_types", "ringbuf"));
        Assert.Equal("supported", Status(root, "program_types", "socket_filter"));
        Assert.Equal("supported", Status(root, "program_types", "xdp"));
        Assert.Equal("supported", Status(root, "program_types", "tracepoint"));
        Assert.Equal("supported", Status(root, "program_types", "raw_tracepoint"));
        Assert.Equal("refused", Status(root, "program_types", "tracing"));
        Assert.Equal("unsupported", Status(root, "hooks", "kprobe"));
        Assert.Equal("supported", Status(root, "kernel", "ring_buffer"));
        JsonElement xdpHelpers = root.GetProperty("helpers").GetProperty("xdp");
        Assert.Equal("supported", xdpHelpers.GetProperty("bpf_map_lookup_elem").GetProperty("status").GetString());
        Assert.Equal("unsupported", xdpHelpers.GetProperty("bpf_skb_store_bytes").GetProperty("status").GetString());
        Assert.Equal(211, xdpHelpers.EnumerateObject().Count());
    }

    [KernelFact]
    public void TableIsGroupedBySectionAndLeavesHelpersOutByDefault()
    {
        (int exitCode, string output, string error) = RunTool("feature", "probe");
        Assert.True(exitCode == 0, error);
        string[] lines = output.Split('\n');
        foreach (string section in new[] { "Kernel", "Program types", "Map types", "Attach and hook kinds" })
        {
            Assert.Contains(section, lines);
        }
        Assert.DoesNotContain(lines, line => line.StartsWith("Helpers", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("  kprobe ", StringComparison.Ordinal) && line.Contains("unsupported") && line.Contains("CONFIG_KPROBES"));
        Assert.Contains(lines, line => line.StartsWith("  ringbuf ", StringComparison.Ordinal) && line.Contains("supported"));
    }

    [KernelFact]
    public void UnknownProgramTypeIsAnErrorThatListsTheKnownOnes()
    {
        (int exitCode, _, string error) = RunTool("feature", "probe", "--program-type", "nonsense");
        Assert.Equal(2, exitCode);
        Assert.Contains("unknown program type 'nonsense'", error);
        Assert.Contains("socket_filter", error);
    }

    private static string? Status(JsonElement root, string section, string name) =>
        root.GetProperty(section).GetProperty(name).GetProperty("status").GetString();

    // The tool is built next to the tests (the test project references it): run it as a user would.
    private static (int ExitCode, string Output, string Error) RunTool(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bpfsharp.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "bpfsharp feature probe did not finish in 2 minutes");
        return (process.ExitCode, output, error.Result);
    }
}
