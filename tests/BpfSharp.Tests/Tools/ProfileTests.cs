using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using BpfSharp.Cli.Tools.Profile;
using BpfSharp.Maps;
using BpfSharp.Symbols;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Tools;

/// <summary>
/// bpfsharp profile against profile_spin, a position-independent program that spins in spin_here (called from main)
/// for a given CPU time: the samples must land on main;spin_here, and be about as many as frequency x CPU time.
/// </summary>
[Trait("Category", "Kernel")]
public class ProfileTests
{
    private const double SpinSeconds = 2.0;
    // 99 Hz over 2 s of CPU time is ~198 samples. The spinner counts CPU time, not wall time: on a busy machine it
    // gets a fraction of a CPU and runs longer, but is sampled as often per second of CPU. The bound leaves room
    // for samples lost to timer jitter.
    private const int MinSamples = 50;

    [KernelFact]
    public void FoldedStacksOfAProcessByPidShowMainCallingTheSpinningFunction()
    {
        var start = new ProcessStartInfo(LinkTestSupport.NativeProgram("profile_spin"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(SpinSeconds.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("wait");
        using Process program = Process.Start(start)!;
        try
        {
            using var tool = ToolProcess.Start("profile", "--pid", program.Id.ToString(CultureInfo.InvariantCulture), "--folded", "-F", "99");
            program.StandardInput.WriteLine("go");
            Assert.StartsWith("spun ", program.StandardOutput.ReadLine());
            // 2 s of CPU time take longer on a busy machine: wait as long as the other tool runs do (60 s).
            Assert.True(program.WaitForExit(TimeSpan.FromSeconds(60)));
            // The tool stops by itself once the process it profiles is gone.
            (int code, string output, string error) = tool.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(code == 0, error);
            var lines = Folded(output);
            Assert.All(lines, l => Assert.Equal("profile_spin", l.Frames[0]));
            long total = lines.Sum(l => l.Count);
            long spinning = lines.Where(l => InOrder(l.Frames, "main", "spin_here")).Sum(l => l.Count);
            Assert.True(spinning >= MinSamples, output);
            Assert.True(spinning * 10 >= total * 8, $"only {spinning} of {total} samples in main;spin_here:\n{output}");
            Assert.True(total <= 99 * (SpinSeconds + 1), $"{total} samples are more than 99 Hz allows:\n{output}");
        }
        finally
        {
            if (!program.HasExited)
            {
                program.Kill();
            }
        }
    }

    [KernelFact]
    public void ACommandIsProfiledUntilItExitsIntoJsonAndAnSvgFlameGraph()
    {
        string svg = Path.Combine(Path.GetTempPath(), $"profile-{Guid.NewGuid():N}.svg");
        try
        {
            (int code, string output, string error) = ExternalTool.Execute(ToolProcess.Executable,
                ["profile", "--json", "--user-only", "--svg", svg, "--", LinkTestSupport.NativeProgram("profile_spin"), "1.5"]);
            Assert.True(code == 0, error);
            List<JsonElement> rows = ExecsnoopTests.Events(output); // the command's own "spun" line is on the same output
            Assert.NotEmpty(rows);
            var ours = rows.Where(r => r.GetProperty("comm").GetString() == "profile_spin").ToList();
            long total = ours.Sum(r => r.GetProperty("count").GetInt64());
            long spinning = ours.Where(r => InOrder(Frames(r), "main", "spin_here")).Sum(r => r.GetProperty("count").GetInt64());
            Assert.True(spinning >= MinSamples * 3 / 4, output);
            Assert.True(spinning * 10 >= total * 8, output);
            // --user-only: no kernel frames.
            Assert.DoesNotContain(rows, r => Frames(r).Any(f => f.EndsWith("_[k]", StringComparison.Ordinal)));

            XDocument document = XDocument.Load(svg);
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Equal(ns + "svg", document.Root!.Name);
            XElement frame = Assert.Single(document.Descendants(ns + "g"), g => g.Element(ns + "title")!.Value.StartsWith("spin_here (", StringComparison.Ordinal));
            Assert.NotNull(frame.Element(ns + "rect"));
            Assert.Equal("spin_here", frame.Element(ns + "text")?.Value);
        }
        finally
        {
            File.Delete(svg);
        }
    }

    /// <summary>
    /// A command is started through a shell that execs it, so its pid is sampled under two names ("sh", then the
    /// command's). The profiler's last look at the names comes after the command exited: that look must not throw away
    /// the mappings read while it ran (it did, when a second name replaced the first snapshot with nothing, and every
    /// user frame of the command came out [unknown]).
    /// </summary>
    [KernelFact]
    public void AnExitedProcessSeenUnderTwoNamesKeepsTheMappingsReadWhileItRan()
    {
        string spinner = LinkTestSupport.NativeProgram("profile_spin");
        using var stacks = StackTraceMap.Create(16, name: "prof_resolve");
        var resolver = new StackResolver(stacks);
        var start = new ProcessStartInfo(spinner, ["0", "wait"]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process program = Process.Start(start)!;
        uint pid = (uint)program.Id;
        try
        {
            // Process.Start returns after the fork: wait until the exec has mapped the program.
            Assert.True(LinkTestSupport.WaitUntil(
                () => File.ReadLines($"/proc/{pid}/maps").Any(l => l.EndsWith("/profile_spin", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)));
            resolver.Observe(pid, "profile_spin");
            resolver.Observe(pid, "sh");
        }
        finally
        {
            program.StandardInput.WriteLine("go");
            Assert.True(program.WaitForExit(TimeSpan.FromSeconds(20)));
        }

        // After detaching, the profiler looks at every counted name once more, then refreshes the live processes.
        resolver.Observe(pid, "sh");
        resolver.Observe(pid, "profile_spin");
        resolver.Refresh();

        ProcessSymbols? symbols = resolver.SymbolsOf(pid, "profile_spin");
        Assert.NotNull(symbols);
        FunctionSymbol spin = ModuleSymbols.Load(spinner).Functions.Single(f => f.Name == "spin_here");
        MemoryRegion first = symbols.Maps.Regions.First(r => r.Path.EndsWith("/profile_spin", StringComparison.Ordinal) && r.FileOffset == 0);
        Assert.Equal("spin_here", symbols.Describe(first.Start + spin.Address + 4));
        Assert.NotNull(resolver.SymbolsOf(pid, "sh"));
    }

    [KernelFact]
    public void KernelOnlyStacksHaveOnlyKernelFrames()
    {
        using var tool = ToolProcess.Start("profile", "--kernel-only", "--json", "--duration", "1", "-F", "199");
        (int code, string output, string error) = tool.WaitForExit();
        Assert.True(code == 0, error);
        List<JsonElement> rows = ExecsnoopTests.Events(output);
        Assert.All(rows, r => Assert.All(Frames(r), f => Assert.EndsWith("_[k]", f)));
        Assert.DoesNotContain(rows, r => r.GetProperty("pid").GetInt32() == 0); // idle is not counted by default
    }

    [KernelFact]
    public void AnUnknownProcessIsAClearError()
    {
        (int code, _, string error) = ExternalTool.Execute(ToolProcess.Executable, ["profile", "--pid", "999999999"]);
        Assert.Equal(1, code);
        Assert.Equal("bpfsharp: error: no process 999999999 (or it already exited)", error.Trim());
    }

    [KernelFact]
    public void UserAndKernelOnlyExcludeEachOther()
    {
        (int code, _, string error) = ExternalTool.Execute(ToolProcess.Executable, ["profile", "--user-only", "--kernel-only"]);
        Assert.NotEqual(0, code);
        Assert.Contains("--user-only and --kernel-only exclude each other", error);
    }

    private static string[] Frames(JsonElement row) => row.GetProperty("stack").EnumerateArray().Select(f => f.GetString()!).ToArray();

    /// <summary>True when <paramref name="outer"/> appears in the frames directly followed by <paramref name="inner"/>.</summary>
    internal static bool InOrder(IReadOnlyList<string> frames, string outer, string inner)
    {
        for (int i = 0; i + 1 < frames.Count; i++)
        {
            if (frames[i] == outer && frames[i + 1] == inner)
            {
                return true;
            }
        }
        return false;
    }

    internal static List<(string[] Frames, long Count)> Folded(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line =>
            {
                int space = line.LastIndexOf(' ');
                return (line[..space].Split(';'), long.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
            })
            .ToList();
}

/// <summary>The folded, table and SVG writers of profile, without the kernel.</summary>
public class ProfileOutputTests
{
    private static readonly ProfileStack[] Stacks =
    [
        new(42, "app", 90, [new("main", false), new("spin_here", false)]),
        new(42, "app", 8, [new("main", false), new("write", false), new("ksys_write", true), new("vfs_write", true)]),
        new(43, "app", 2, [new("main", false), new("spin_here", false)]),
        new(7, "x;y", 1, [new("a<b>&c", false)]),
    ];

    [Fact]
    public void FoldedLinesJoinFramesOuterToInnerMarkKernelFramesAndAddUpSameStacks()
    {
        var text = new StringWriter();
        FoldedStacks.Write(text, Stacks);
        Assert.Equal(
            [
                "app;main;spin_here 92",
                "app;main;write;ksys_write_[k];vfs_write_[k] 8",
                "x:y;a<b>&c 1",
            ],
            text.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void MergeAddsUpStacksThatSymbolizeTheSameWithinOneProcess()
    {
        List<ProfileStack> merged = ProfileStack.Merge([.. Stacks, new(42, "app", 5, [new("main", false), new("spin_here", false)])]);
        Assert.Equal(95UL, merged[0].Count);
        Assert.Equal(42U, merged[0].Pid);
        Assert.Equal(4, merged.Count);
    }

    [Fact]
    public void TableShowsCountsPercentagesAndTheInnermostFrameFirst()
    {
        var text = new StringWriter();
        ProfileReport.WriteTable(text, ProfileStack.Merge(Stacks), top: 2);
        string[] lines = text.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("COUNT  PERCENT  PID  COMM  STACK (innermost first)", lines[0]);
        Assert.Equal("   90    89.1%   42  app   spin_here <- main", lines[1]);
        Assert.Equal("    8     7.9%   42  app   vfs_write_[k] <- ksys_write_[k] <- write <- main", lines[2]);
        Assert.Equal("... 2 more stacks with 3 samples (3.0%); --top 0 shows all", lines[3]);
    }

    [Fact]
    public void SvgIsWellFormedWithOneRectanglePerFrameSizedByItsSamples()
    {
        var text = new StringWriter();
        FlameGraphSvg.Write(text, Stacks, "test <graph>");
        XDocument document = XDocument.Parse(text.ToString());
        XNamespace ns = "http://www.w3.org/2000/svg";
        var frames = document.Descendants(ns + "g")
            .Select(g => (Title: g.Element(ns + "title")!.Value, Width: double.Parse(g.Element(ns + "rect")!.Attribute("width")!.Value, CultureInfo.InvariantCulture)))
            .ToList();
        (string title, double rootWidth) = frames.Single(f => f.Title.StartsWith("all ", StringComparison.Ordinal));
        Assert.Equal("all (101 samples, 100%)", title);
        Assert.Equal(FlameGraphSvg.Width - 20, rootWidth, 0.01);
        // spin_here: the 92 samples of both processes of "app", one rectangle.
        (string spinTitle, double spinWidth) = Assert.Single(frames, f => f.Title.StartsWith("spin_here ", StringComparison.Ordinal));
        Assert.Equal("spin_here (92 samples, 91.09%)", spinTitle);
        Assert.Equal(rootWidth * 92 / 101, spinWidth, 0.01);
        Assert.Single(frames, f => f.Title.StartsWith("vfs_write_[k] ", StringComparison.Ordinal));
        Assert.Single(frames, f => f.Title.StartsWith("a<b>&c ", StringComparison.Ordinal));
        Assert.Contains("test <graph>", document.Descendants(ns + "text").Select(t => t.Value));
    }

    [Theory]
    [InlineData("spin_here", 1000.0, "spin_here")]
    [InlineData("spin_here", 40.0, "spi..")]
    [InlineData("spin_here", 20.0, "")]
    public void FrameNamesAreClippedToTheirWidth(string name, double width, string expected) =>
        Assert.Equal(expected, FlameGraphSvg.Clip(name, width));
}
