using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BpfSharp.Cli.Tools;
using BpfSharp.Cli.Tools.Pagefaults;
using BpfSharp.Symbols;
using SkiaSharp;
using Xunit;

namespace BpfSharp.Tests.Tools;

/// <summary>pagefaults without the kernel: error-code decoding, region attribution, JSON shape, heatmap layout and image.</summary>
public class PagefaultsLogicTests
{
    [Theory]
    [InlineData(0x4u, "Read", false, "read, not-present, user")]
    [InlineData(0x6u, "Write", false, "write, not-present, user")]
    [InlineData(0x7u, "Write", true, "write, protection, user")]
    [InlineData(0x14u, "Execute", false, "exec, not-present, user")]
    [InlineData(0x15u, "Execute", true, "exec, protection, user")]
    [InlineData(0x25u, "Read", true, "read, protection, user, protection-key")]
    [InlineData(0x0Du, "Read", true, "read, protection, user, reserved-bit")]
    [InlineData(0x8006u, "Write", false, "write, not-present, user, sgx")]
    [InlineData(0x2u, "Write", false, "write, not-present, kernel")]
    [InlineData(0x10004u, "Read", false, "read, not-present, user, other bits 0x10000")]
    public void DecodesX86ErrorCodes(uint code, string access, bool protection, string description)
    {
        Assert.Equal(access, FaultErrorCode.Access(code).ToString());
        Assert.Equal(protection, FaultErrorCode.IsProtection(code));
        Assert.Equal(description, FaultErrorCode.Describe(code));
    }

    private const string Maps = """
        00400000-00401000 r--p 00000000 fe:01 100        /usr/bin/app
        00401000-00402000 r-xp 00001000 fe:01 100        /usr/bin/app
        01000000-01021000 rw-p 00000000 00:00 0          [heap]
        7f0000000000-7f0000100000 rw-p 00000000 00:00 0
        7f0000200000-7f0000300000 r-xp 00000000 fe:01 200        /usr/lib/libc.so.6
        7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0          [stack]
        7ffd000f0000-7ffd000f2000 r-xp 00000000 00:00 0          [vdso]
        """;

    private static FaultProfile ProfileWithMaps(bool heat = false)
    {
        var profile = new FaultProfile(1_000_000_000, heat);
        profile.AddRegions(42, ProcessMaps.Parse(Maps, 42));
        return profile;
    }

    [Fact]
    public void AttributesFaultsToRegionsByKindWithPagesAndAccesses()
    {
        FaultProfile profile = ProfileWithMaps();
        for (ulong i = 0; i < 10; i++)
        {
            profile.AddFault(42, 0x7f0000000000 + i * 4096 + 17, 1_000_000_000 + i, 0x6); // write, 10 pages
        }
        profile.AddFault(42, 0x7f0000000000, 1_000_000_100, 0x4);  // read again on the first page
        profile.AddFault(42, 0x1000010, 1_000_000_200, 0x6);       // heap write
        profile.AddFault(42, 0x7ffd00020ff8, 1_000_000_300, 0x6);  // stack write
        profile.AddFault(42, 0x401234, 1_000_000_400, 0x14);       // exec in the program
        profile.AddFault(42, 0x7f0000200000, 1_000_000_500, 0x14); // exec in libc
        profile.AddFault(42, 0x7ffd000f0008, 1_000_000_600, 0x4);  // vdso read
        profile.AddFault(42, 0x10, 1_000_000_700, 0x4);            // NULL page: unmapped

        List<RegionSummary> regions = profile.Summarize();
        RegionSummary anon = Assert.Single(regions, r => r.Path == "[anon]");
        Assert.Equal((0x7f0000000000UL, 0x7f0000100000UL, 11UL, 10UL, 1UL, 10UL), (anon.Start, anon.End, anon.Faults, anon.Pages, anon.Counts.Reads, anon.Counts.Writes));
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "[heap]").Counts.Writes);
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "[stack]").Counts.Writes);
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "/usr/bin/app").Counts.Execs);
        Assert.Equal(0x401000UL, Assert.Single(regions, r => r.Path == "/usr/bin/app").Start);
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "/usr/lib/libc.so.6").Counts.Execs);
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "[vdso]").Counts.Reads);
        Assert.Equal((0x0UL, 0x1000UL), Assert.Single(regions, r => r.Path == "[unmapped]") is var u ? (u.Start, u.End) : default);
        Assert.Same(anon, regions[0]); // hottest first
        Assert.Equal(17UL, profile.Total.Faults);
        Assert.Equal(16, profile.PageCount);
    }

    [Fact]
    public void KeepsMappingsThatVanishedAndPrefersTheNewestWhereTheyOverlap()
    {
        var profile = new FaultProfile(0, keepHeat: false);
        // The BPF side saw an anonymous mapping and a library (base name only), then the process unmapped the
        // first and mapped a file over part of it; /proc then shows only the new state.
        profile.AddRegion(7, 0x10000000, 0x10100000, 0, "[anon]");
        profile.AddRegion(7, 0x20000000, 0x20010000, 55, "libfoo.so");
        profile.AddFault(7, 0x10000000, 1, 0x6);
        profile.AddFault(7, 0x10080000, 2, 0x6);
        profile.AddRegions(7, ProcessMaps.Parse("""
            10080000-10090000 r--p 00000000 fe:01 66    /data/file.bin
            20000000-20010000 r-xp 00000000 fe:01 55    /opt/lib/libfoo.so
            """));
        profile.AddFault(7, 0x20000000, 3, 0x14);

        List<RegionSummary> regions = profile.Summarize();
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "[anon]").Faults);        // the old mapping keeps its fault
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "/data/file.bin").Faults); // the newer mapping wins the overlap
        Assert.Equal(1UL, Assert.Single(regions, r => r.Path == "/opt/lib/libfoo.so").Counts.Execs); // full path replaces the base name
        Assert.DoesNotContain(regions, r => r.Path == "libfoo.so");
        Assert.True(profile.IsMapped(7, 0x10000000));
        Assert.False(profile.IsMapped(7, 0x30000000));
        Assert.False(profile.IsMapped(8, 0x10000000));
    }

    [Fact]
    public void TheMostRecentlySeenMappingOwnsEachAddress()
    {
        var profile = new FaultProfile(0, keepHeat: false);
        profile.AddRegion(5, 0x1000000, 0x2000000, 1, "big");
        profile.AddRegion(5, 0x1400000, 0x1500000, 2, "inner");
        profile.AddRegion(5, 0x1480000, 0x1600000, 3, "straddling");
        Assert.Equal("big", profile.RegionPath(5, 0x1000000));
        Assert.Equal("inner", profile.RegionPath(5, 0x1400000));
        Assert.Equal("straddling", profile.RegionPath(5, 0x1480000));
        Assert.Equal("straddling", profile.RegionPath(5, 0x15ff000));
        Assert.Equal("big", profile.RegionPath(5, 0x1600000));
        Assert.Null(profile.RegionPath(5, 0x2000000));
        profile.AddRegion(5, 0x1000000, 0x2000000, 1, "big"); // seen again (a fresh /proc read): it covers everything
        Assert.Equal("big", profile.RegionPath(5, 0x1400000));
        Assert.Equal("big", profile.RegionPath(5, 0x1480000));
    }

    [Fact]
    public void ReportsSnapshotsOfAGrowingMappingAsOneRegion()
    {
        var profile = new FaultProfile(0, keepHeat: false);
        // An anonymous mapping seen three times as it grew downwards and upwards (adjacent mmaps merge into one
        // VMA), then shrank when its middle was unmapped; its pages count for whichever snapshot was newest.
        profile.AddRegion(3, 0x20000000, 0x20010000, 0, "[anon]");
        profile.AddFault(3, 0x20000000, 0, 0x6);
        profile.AddRegion(3, 0x1fff0000, 0x20010000, 0, "[anon]");
        profile.AddFault(3, 0x1fff0000, 0, 0x6);
        profile.AddRegion(3, 0x1fff0000, 0x20020000, 0, "[anon]");
        profile.AddFault(3, 0x2001f000, 0, 0x6);
        profile.AddRegion(3, 0x20010000, 0x20020000, 0, "[anon]");
        profile.AddRegion(3, 0x20020000, 0x20030000, 66, "/lib/x.so"); // another mapping right above stays apart
        profile.AddFault(3, 0x20020000, 0, 0x4);

        List<RegionSummary> regions = profile.Summarize();
        RegionSummary anon = Assert.Single(regions, r => r.Path == "[anon]");
        Assert.Equal((0x1fff0000UL, 0x20020000UL, 3UL, 3UL), (anon.Start, anon.End, anon.Counts.Writes, anon.Pages));
        Assert.Equal(0x20020000UL, Assert.Single(regions, r => r.Path == "/lib/x.so").Start);
    }

    [Fact]
    public void JsonSummaryHasTheDocumentedShape()
    {
        FaultProfile profile = ProfileWithMaps();
        profile.AddFault(42, 0x7f0000001000, 1_000_000_000, 0x6);
        profile.AddFault(42, 0x1000000, 1_000_000_000, 0x4);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            PagefaultsReport.WriteJson(writer, profile.Total.Faults, profile.Summarize());
            writer.WriteEndObject();
        }
        using JsonDocument json = JsonDocument.Parse(stream.ToArray());
        Assert.Equal(2, json.RootElement.GetProperty("total").GetInt64());
        JsonElement[] regions = json.RootElement.GetProperty("regions").EnumerateArray().ToArray();
        Assert.Equal(2, regions.Length);
        JsonElement anon = regions.Single(r => r.GetProperty("path").GetString() == "[anon]");
        Assert.Equal("0x7f0000000000", anon.GetProperty("start").GetString());
        Assert.Equal("0x7f0000100000", anon.GetProperty("end").GetString());
        Assert.Equal((1, 0, 1, 0), (anon.GetProperty("faults").GetInt64(), anon.GetProperty("reads").GetInt64(), anon.GetProperty("writes").GetInt64(), anon.GetProperty("execs").GetInt64()));
        Assert.Equal("[heap]", regions.Single(r => r.GetProperty("reads").GetInt64() == 1).GetProperty("path").GetString());
    }

    [Fact]
    public void TableShowsTheTopRegionsAndSaysHowManyMore()
    {
        FaultProfile profile = ProfileWithMaps();
        profile.AddFault(42, 0x7f0000001000, 0, 0x6);
        profile.AddFault(42, 0x7f0000002000, 0, 0x6);
        profile.AddFault(42, 0x1000000, 0, 0x4);
        var text = new StringWriter();
        PagefaultsReport.WriteTable(text, profile.Summarize(), top: 1);
        string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("START", lines[0]);
        Assert.Matches(@"^0x7f0000000000\s+0x7f0000100000\s+2\s+2\s+0\s+2\s+0\s+\[anon\]$", lines[1]);
        Assert.Equal("... 1 more regions (--top 0 shows all)", lines[2]);
    }

    [Theory]
    [InlineData("1200x800", 1200, 800)]
    [InlineData("640X480", 640, 480)]
    public void ParsesHeatmapSizes(string text, int width, int height) =>
        Assert.Equal((width, height), PagefaultsCommand.ParseSize(text));

    [Theory]
    [InlineData("1200")]
    [InlineData("axb")]
    [InlineData("10x10")]
    [InlineData("-5x100")]
    public void RejectsBadHeatmapSizes(string text) =>
        Assert.Throws<ToolException>(() => PagefaultsCommand.ParseSize(text));

    [Fact]
    public void HeatmapCollapsesTheGapsBetweenMappings()
    {
        FaultProfile profile = ProfileWithMaps(heat: true);
        // 256 pages of anonymous memory over 1 s, one heap page, one stack page: 2^47 bytes apart.
        for (ulong i = 0; i < 256; i++)
        {
            profile.AddFault(42, 0x7f0000000000 + i * 4096, 1_000_000_000 + i * 4_000_000, 0x6);
        }
        profile.AddFault(42, 0x1000000, 1_000_000_000, 0x6);
        profile.AddFault(42, 0x7ffd00020000, 1_000_000_000 + 999_000_000, 0x6);

        HeatmapLayout layout = HeatmapLayout.Build(profile, maxRows: 100, maxColumns: 50);
        Assert.Equal(["[heap]", "[anon]", "[stack]"], layout.Bands.Select(b => b.Label));
        Assert.InRange(layout.RowCount, 3, 110);
        Assert.True(layout.Bands[1].Rows > layout.Bands[0].Rows);
        Assert.InRange(layout.ColumnCount, 40, 50);
        Assert.Equal(258UL, layout.Counts.Cast<uint>().Aggregate(0UL, (sum, c) => sum + c));
        // The first anonymous page faulted at time 0, the last at about 1 s: the bottom-left and top-right of its band.
        // The pages were touched in address order over the second: a diagonal from bottom left to top right.
        HeatmapBand anon = layout.Bands[1];
        int bottom = anon.FirstRow, topRow = anon.FirstRow + anon.Rows - 1, last = layout.ColumnCount - 1;
        Assert.True(layout.Counts[bottom, 0] > 0);
        Assert.True(layout.Counts[topRow, last] > 0);
        Assert.Equal(0u, layout.Counts[topRow, 0]);
        Assert.Equal(0u, layout.Counts[bottom, last]);
    }

    [Fact]
    public void HeatmapMergesTheClosestBandsWhenThereAreMoreThanRows()
    {
        var profile = new FaultProfile(0, keepHeat: true);
        // 40 one-page mappings, 4 pages apart, in two clusters a terabyte apart.
        for (ulong i = 0; i < 40; i++)
        {
            ulong start = (i < 20 ? 0x10000000UL : 0x10000000000UL) + i * 4 * 4096;
            profile.AddRegion(1, start, start + 4096, 0, $"[m{i}]");
            profile.AddFault(1, start, i * 1_000_000, 0x6);
        }
        HeatmapLayout layout = HeatmapLayout.Build(profile, maxRows: 30, maxColumns: 10); // room for 30 / 6 = 5 bands
        // The widest gap (between the clusters) stays; the rest are equal, so the first ones stay.
        Assert.Equal(["[m0]", "[m1]", "[m2]", "[m3] +16", "[m20] +19"], layout.Bands.Select(b => b.Label));
        Assert.True(layout.RowCount <= 30);
        Assert.True(layout.Bands.Zip(layout.Bands.Skip(1)).All(p => p.First.High <= p.Second.Low)); // disjoint, in order
        Assert.Equal(40UL, layout.Counts.Cast<uint>().Aggregate(0UL, (sum, c) => sum + c));           // every fault drawn
    }

    [Fact]
    public void HeatmapJoinsOverlappingMappingsOfDifferentProcesses()
    {
        var profile = new FaultProfile(0, keepHeat: true);
        profile.AddRegion(1, 0x10000000, 0x10010000, 0, "[anon]");
        profile.AddRegion(2, 0x0fff0000, 0x10020000, 0, "[heap]"); // encloses the other process's mapping
        profile.AddFault(1, 0x10000000, 0, 0x6);
        profile.AddFault(1, 0x1000f000, 0, 0x6);
        profile.AddFault(2, 0x0fff0000, 0, 0x6);
        profile.AddFault(2, 0x1001f000, 0, 0x6);
        HeatmapLayout layout = HeatmapLayout.Build(profile, maxRows: 100, maxColumns: 10);
        HeatmapBand band = Assert.Single(layout.Bands);
        Assert.Equal((0x0fff0000UL, 0x10020000UL), (band.Low, band.High));
        Assert.Equal(4UL, layout.Counts.Cast<uint>().Aggregate(0UL, (sum, c) => sum + c));
    }

    [Fact]
    public void HeatmapOfNoFaultsIsStillAnImage()
    {
        var profile = new FaultProfile(0, keepHeat: true);
        HeatmapLayout layout = HeatmapLayout.Build(profile, maxRows: 100, maxColumns: 100);
        Assert.Empty(layout.Bands);
        Assert.Equal(0u, layout.MaxCount);
        string path = Path.Combine(Path.GetTempPath(), $"pagefaults-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        try
        {
            HeatmapImage.Write(path, layout, 400, 200, "nothing");
            using SKBitmap bitmap = SKBitmap.Decode(path);
            Assert.Equal((400, 200), (bitmap.Width, bitmap.Height));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void HeatmapImageHasTheAskedSizeAndIsNotBlank()
    {
        FaultProfile profile = ProfileWithMaps(heat: true);
        var random = new Random(7);
        for (int i = 0; i < 5000; i++)
        {
            ulong page = (ulong)random.Next(0, 256);
            profile.AddFault(42, 0x7f0000000000 + page * 4096, 1_000_000_000 + (ulong)i * 200_000, page < 64 ? 0x6u : 0x4u);
        }
        profile.AddFault(42, 0x1000000, 1_000_000_000, 0x6);
        string path = Path.Combine(Path.GetTempPath(), $"pagefaults-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        try
        {
            HeatmapImage.Write(path, HeatmapLayout.Build(profile, HeatmapImage.MaxRows(500), HeatmapImage.MaxColumns(800)), 800, 500, "test");
            PagefaultsToolTests.AssertHeatmap(path, 800, 500);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>pagefaults against real workloads: the counts it reports are compared with what the workload did.</summary>
[Trait("Category", "Kernel")]
public class PagefaultsToolTests
{
    private static readonly string Workload = Path.Combine(AppContext.BaseDirectory, "native", "pagefault_workload");

    private const int Pages = 2000;

    [KernelFact]
    public void CommandModeCountsEveryWriteToFreshAnonymousPages()
    {
        (int exitCode, string output, string error) = RunToCompletion("pagefaults", "--json", "--", Workload, Pages.ToString(CultureInfo.InvariantCulture));
        Assert.True(exitCode == 0, error);
        AssertFaultsMatchWorkload(output, error);
    }

    [KernelFact]
    public void PidModeTracesARunningProcessUntilItExits()
    {
        var start = new ProcessStartInfo(Workload) { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Pages.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("wait");
        using Process workload = Process.Start(start)!;
        try
        {
            using ToolProcess tool = ToolProcess.Start("pagefaults", "--json", "--pid", workload.Id.ToString(CultureInfo.InvariantCulture));
            workload.StandardInput.WriteLine("go");
            workload.StandardInput.Flush();
            string workloadError = workload.StandardError.ReadToEnd();
            Assert.True(workload.WaitForExit(30_000));
            (int exitCode, string output, string error) = tool.WaitForExit(TimeSpan.FromSeconds(30)); // it notices the exit by itself
            Assert.True(exitCode == 0, error);
            AssertFaultsMatchWorkload(output, workloadError);
        }
        finally
        {
            if (!workload.HasExited)
            {
                workload.Kill();
            }
        }
    }

    [KernelFact]
    public void HeatmapOfACommandIsAPngOfTheAskedSize()
    {
        string path = Path.Combine(Path.GetTempPath(), $"pagefaults-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        try
        {
            (int exitCode, string output, string error) = RunToCompletion("pagefaults", "--heatmap", path, "--heatmap-size", "900x600", "--", Workload, Pages.ToString(CultureInfo.InvariantCulture));
            Assert.True(exitCode == 0, error);
            Assert.Contains("[anon]", output);
            Assert.Contains($"heatmap written to {path} (900x600", error);
            AssertHeatmap(path, 900, 600);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [KernelFact]
    public void FollowsForkedChildrenUnlessToldNotTo()
    {
        // The shell forks the workload (it is not the shell's last command, so the shell cannot exec it).
        string script = $"'{Workload}' 500; true";
        (int exitCode, string output, string error) = RunToCompletion("pagefaults", "--json", "--", "/bin/sh", "-c", script);
        Assert.True(exitCode == 0, error);
        (ulong anonStart, _) = Truth(error, "anon");
        using (JsonDocument json = JsonDocument.Parse(output))
        {
            JsonElement[] regions = json.RootElement.GetProperty("regions").EnumerateArray().ToArray();
            JsonElement anon = Assert.Single(regions, r => r.GetProperty("start").GetString() == $"0x{anonStart:x}");
            Assert.True(anon.GetProperty("writes").GetInt64() >= 500, output);
            Assert.Equal(2, regions.Select(r => r.GetProperty("pid").GetInt32()).Distinct().Count()); // the shell and its child
        }

        (exitCode, output, error) = RunToCompletion("pagefaults", "--json", "--no-follow-forks", "--", "/bin/sh", "-c", script);
        Assert.True(exitCode == 0, error);
        using (JsonDocument json = JsonDocument.Parse(output))
        {
            JsonElement[] regions = json.RootElement.GetProperty("regions").EnumerateArray().ToArray();
            Assert.Single(regions.Select(r => r.GetProperty("pid").GetInt32()).Distinct()); // the shell only
            Assert.DoesNotContain(regions, r => r.GetProperty("writes").GetInt64() >= 500);
        }
    }

    [KernelFact]
    public void ReturnsTheCommandsExitStatus()
    {
        (int exitCode, string output, string error) = RunToCompletion("pagefaults", "--json", "--", "/bin/sh", "-c", "exit 3");
        Assert.Equal(3, exitCode);
        Assert.Contains("exited with status 3", error);
        using JsonDocument json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("total").GetInt64() > 0); // the shell's own faults, from its exec on
    }

    [KernelFact]
    public void WithoutSkiasNativeLibraryOnlyTheHeatmapFailsAndSaysWhy()
    {
        // A copy of the tool without runtimes/*/native/libSkiaSharp.so, as on a machine where it cannot load.
        string directory = Path.Combine(Path.GetTempPath(), $"pagefaults-noskia-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            foreach (string file in new[] { "bpfsharp", "bpfsharp.dll", "bpfsharp.deps.json", "bpfsharp.runtimeconfig.json", "BpfSharp.Core.dll", "SkiaSharp.dll", "System.CommandLine.dll" })
            {
                File.Copy(Path.Combine(AppContext.BaseDirectory, file), Path.Combine(directory, file));
            }
            string executable = Path.Combine(directory, "bpfsharp");
            string png = Path.Combine(directory, "heatmap.png");

            (int exitCode, string output, string error) = ExternalTool.Execute(executable, "pagefaults", "--heatmap", png, "--", Workload, "10");
            Assert.Equal(1, exitCode);
            Assert.StartsWith("bpfsharp: error: cannot draw the heatmap: SkiaSharp's native library (libSkiaSharp.so) did not load: ", error);
            Assert.DoesNotContain("Tracing", error); // it failed before tracing anything
            Assert.False(File.Exists(png));

            (exitCode, output, error) = ExternalTool.Execute(executable, "pagefaults", "--json", "--", Workload, "10");
            Assert.True(exitCode == 0, error);
            using JsonDocument json = JsonDocument.Parse(output);
            Assert.Contains(json.RootElement.GetProperty("regions").EnumerateArray(), r => r.GetProperty("path").GetString() == "[anon]" && r.GetProperty("writes").GetInt64() >= 10);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [KernelFact]
    public void ExplainsAMissingProcess()
    {
        (int exitCode, string _, string error) = RunToCompletion("pagefaults", "--pid", "999999999");
        Assert.Equal(1, exitCode);
        Assert.Equal("bpfsharp: error: no process 999999999 (or it already exited)", error.Trim());
    }

    /// <summary>
    /// Runs bpfsharp until it exits by itself (a traced command ends quickly, maybe before a test could see the
    /// "Tracing" line), with a timeout; returns its exit code, standard output and standard error.
    /// </summary>
    private static (int ExitCode, string Output, string Error) RunToCompletion(params string[] arguments) =>
        ExternalTool.Execute(ToolProcess.Executable, arguments);

    /// <summary>
    /// The workload wrote one byte to each of its <see cref="Pages"/> anonymous pages and read each page of its own
    /// executable through a file mapping, and said where (on stderr): the tool must report both regions.
    /// </summary>
    private static void AssertFaultsMatchWorkload(string output, string workloadError)
    {
        (ulong anonStart, ulong anonEnd) = Truth(workloadError, "anon");
        (ulong fileStart, ulong fileEnd) = Truth(workloadError, "file");
        string line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using JsonDocument json = JsonDocument.Parse(line);
        JsonElement[] regions = json.RootElement.GetProperty("regions").EnumerateArray().ToArray();
        JsonElement anon = Assert.Single(regions, r => r.GetProperty("start").GetString() == $"0x{anonStart:x}");
        Assert.Equal("[anon]", anon.GetProperty("path").GetString());
        Assert.Equal($"0x{anonEnd:x}", anon.GetProperty("end").GetString());
        Assert.True(anon.GetProperty("writes").GetInt64() >= Pages, line);
        Assert.Equal(Pages, anon.GetProperty("pages").GetInt64());
        JsonElement file = Assert.Single(regions, r => r.GetProperty("start").GetString() == $"0x{fileStart:x}");
        Assert.EndsWith("pagefault_workload", file.GetProperty("path").GetString());
        // Reading a cached file faults once for several pages (the kernel maps the cached pages around the fault).
        Assert.True(file.GetProperty("reads").GetInt64() >= 1, line);
        Assert.Equal($"0x{fileEnd:x}", file.GetProperty("end").GetString());
        long sum = regions.Sum(r => r.GetProperty("faults").GetInt64());
        Assert.Equal(json.RootElement.GetProperty("total").GetInt64(), sum);
        Assert.All(regions, r => Assert.Equal(r.GetProperty("faults").GetInt64(),
            r.GetProperty("reads").GetInt64() + r.GetProperty("writes").GetInt64() + r.GetProperty("execs").GetInt64()));
    }

    private static (ulong Start, ulong End) Truth(string workloadError, string kind)
    {
        string line = workloadError.Split('\n').Single(l => l.StartsWith(kind + " ", StringComparison.Ordinal));
        string[] fields = line.Split(' ');
        return (Convert.ToUInt64(fields[1], 16), Convert.ToUInt64(fields[2], 16));
    }

    internal static void AssertHeatmap(string path, int width, int height)
    {
        Assert.True(File.Exists(path));
        using SKBitmap bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<SKColor>();
        int coloured = 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                SKColor pixel = bitmap.GetPixel(x, y);
                colours.Add(pixel);
                if (pixel.Red != pixel.Green || pixel.Green != pixel.Blue)
                {
                    coloured++; // neither white background nor grey/black text and lines: heat cells and the colour scale
                }
            }
        }
        Assert.True(colours.Count > 20, $"only {colours.Count} distinct colours");
        Assert.True(coloured > width * height / 100, $"only {coloured} coloured pixels");
    }
}
