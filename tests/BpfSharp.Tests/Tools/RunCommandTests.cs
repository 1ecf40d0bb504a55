using System.Text.Json;
using BpfSharp.Btf;
using BpfSharp.Skeletons;
using BpfSharp.Cli.Tools;
using BpfSharp.Cli.Tools.Run;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Tools;

public sealed class RunCommandTests
{
    private static readonly string Object = TestPrograms.Path("run_events");

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void PrintsRingAndPerfEventsByFieldNameAndTheMapsAtExit()
    {
        int pid = Environment.ProcessId;
        using var tool = ToolProcess.Start("run", Object, "--set", $"target_tgid={pid}", "--json");
        WriteSizes(7001, 7003, 7003);
        WaitUntil(() => Lines(tool.Output).Count(l => l.TryGetProperty("type", out _)) >= 6);
        (int exit, string output, string error) = tool.Stop();

        Assert.True(exit == 0, error);
        List<JsonElement> lines = Lines(output);
        foreach (string map in new[] { "ring_events", "perf_events" })
        {
            List<JsonElement> events = lines.Where(l => l.TryGetProperty("type", out _) && l.GetProperty("map").GetString() == map).ToList();
            Assert.Equal(3, events.Count);
            Assert.All(events, e => Assert.Equal("run_event", e.GetProperty("type").GetString()));
            JsonElement[] values = events.Select(e => e.GetProperty("value")).OrderBy(v => v.GetProperty("count").GetUInt64()).ToArray();
            Assert.Equal([7001UL, 7003UL, 7003UL], values.Select(v => v.GetProperty("count").GetUInt64()));
            Assert.All(values, v =>
            {
                Assert.Equal(pid, v.GetProperty("pid").GetInt32());
                Assert.Equal("tagA", v.GetProperty("tag").GetString());
                Assert.False(string.IsNullOrEmpty(v.GetProperty("comm").GetString()));
            });
            Assert.Equal(["KIND_SMALL", "KIND_LARGE", "KIND_LARGE"], values.Select(v => v.GetProperty("kind").GetString()));
            Assert.Equal(3, values[1].GetProperty("where").GetProperty("x").GetInt32());
            Assert.Equal(-3, values[1].GetProperty("where").GetProperty("y").GetInt32());
            Assert.Equal([3, 30, 300], values[1].GetProperty("history").EnumerateArray().Select(h => h.GetInt32()));
        }

        JsonElement slots = MapLine(lines, "slots");
        Assert.Equal([(1, 1UL), (3, 2UL)], slots.GetProperty("entries").EnumerateArray().Select(e => (e.GetProperty("key").GetInt32(), e.GetProperty("value").GetUInt64())));
        JsonElement byKind = MapLine(lines, "bytes_by_kind");
        var totals = byKind.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetProperty("kind").GetString()!, e => e.GetProperty("value").GetUInt64());
        Assert.Equal(7001UL, totals["KIND_SMALL"]);
        Assert.Equal(14006UL, totals["KIND_LARGE"]);
        Assert.All(byKind.GetProperty("entries").EnumerateArray(), e => Assert.Equal(pid, e.GetProperty("key").GetProperty("pid").GetInt32()));
        JsonElement total = MapLine(lines, "total_events"); // per-CPU, summed
        Assert.Equal(3UL, Assert.Single(total.GetProperty("entries").EnumerateArray()).GetProperty("value").GetUInt64());
        Assert.DoesNotContain(lines, l => l.TryGetProperty("map", out JsonElement m) && m.GetString()!.Contains(".rodata", StringComparison.Ordinal));
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void SetChangesWhatTheProgramDoes()
    {
        using var tool = ToolProcess.Start("run", Object, "--set", $"target_tgid={Environment.ProcessId}", "--set", "outputs=OUTPUT_RING",
            "--set", "tag=hello", "--set", "base_count=0x2328", "--json");
        WriteSizes(7001, 9002);
        WaitUntil(() => Lines(tool.Output).Any(l => l.TryGetProperty("type", out _)));
        (int exit, string output, string error) = tool.Stop();

        Assert.True(exit == 0, error);
        List<JsonElement> events = Lines(output).Where(l => l.TryGetProperty("type", out _)).ToList();
        JsonElement only = Assert.Single(events);
        Assert.Equal("ring_events", only.GetProperty("map").GetString());
        Assert.Equal(9002UL, only.GetProperty("value").GetProperty("count").GetUInt64());
        Assert.Equal("hello", only.GetProperty("value").GetProperty("tag").GetString());
        Assert.Equal("KIND_LARGE", only.GetProperty("value").GetProperty("kind").GetString());
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void TextOutputNamesFieldsAndDrawsTheCounterArray()
    {
        using var tool = ToolProcess.Start("run", Object, "--set", $"target_tgid={Environment.ProcessId}", "--set", "outputs=OUTPUT_PERF");
        WriteSizes(7002, 7002, 7005);
        WaitUntil(() => tool.Output.Split('\n').Count(l => l.Contains(" perf_events {", StringComparison.Ordinal)) >= 3);
        (int exit, string output, string error) = tool.Stop();

        Assert.True(exit == 0, error);
        Assert.Contains(output.Split('\n'), l => l.Contains($" perf_events {{pid={Environment.ProcessId}, fd=", StringComparison.Ordinal)
            && l.Contains("count=7005, ", StringComparison.Ordinal) && l.Contains("tag=\"tagA\", kind=KIND_LARGE, where={x=5, y=-5}, history=[5, 50, 500]}", StringComparison.Ordinal));
        Assert.Contains("slots (array of 16 counters, entries 2..5 shown):", output);
        Assert.Matches(@"\n\s+2 :\s+2    \|\*{40}\|\n\s+3 :\s+0    \|\s{40}\|\n\s+4 :\s+0    \|\s{40}\|\n\s+5 :\s+1    \|\*{20}\s{20}\|", output);
        Assert.Matches(@"\{pid=\d+, kind=KIND_LARGE\}\s+21009", output);
    }

    [Trait("Category", "Kernel")]
    [KernelFact]
    public void ProgramsItCannotAttachAreReported()
    {
        using var tool = ToolProcess.Start("run", TestPrograms.Path("attach_all"));
        (int exit, _, string error) = tool.Stop();
        Assert.Equal(0, exit);
        Assert.Contains("is loaded but not attached", error);
        Assert.Contains("(section 'xdp')", error);
        Assert.Contains("2 programs attached", error);
    }

    [Fact]
    public void TheEventTypeIsTheOneStructOfTheRecordSizeThatIsNotAProgramContext()
    {
        CollectionSpec spec = CollectionSpec.Load(Object);
        var types = new EventTypes(spec.Btf, spec.Programs.Keys, []);
        // struct trace_event_raw_sys_enter is 64 bytes too, but it is on_write's context.
        Assert.Equal("run_event", spec.Btf![types.Guess("ring_events", 64, perfPadded: false).TypeId].Name);
        Assert.Equal("run_event", spec.Btf[types.Guess("perf_events", 68, perfPadded: true).TypeId].Name);
        EventType none = types.Guess("ring_events", 40, perfPadded: false);
        Assert.Equal(0, none.TypeId);
        Assert.Contains("no struct in the object's BTF is 40 bytes", none.Explanation);
        Assert.Equal(68, EventTypes.PerfRecordLength(64));
        Assert.Equal(12, EventTypes.PerfRecordLength(9));

        var named = new EventTypes(spec.Btf, spec.Programs.Keys, ["perf_events=run_point", "run_key"]);
        Assert.Equal("run_point", spec.Btf[named.Named("perf_events")!.Value].Name);
        Assert.Equal("run_key", spec.Btf[named.Named("ring_events")!.Value].Name);
        Assert.Contains("no struct, union or typedef", Assert.Throws<ToolException>(() => new EventTypes(spec.Btf, [], ["nope"]).Named("x")).Message);
    }

    [Fact]
    public void SeveralStructsOfTheSizeAreAmbiguousAndNamed()
    {
        var b = new BtfBuilder();
        int u32 = b.Add(BtfTypeDefinition.Int("unsigned int", 4));
        b.Add(BtfTypeDefinition.Struct("first", 8, [new("a", u32, 0), new("b", u32, 32)]));
        b.Add(BtfTypeDefinition.Struct("second", 8, [new("c", u32, 0), new("d", u32, 32)]));
        EventType guess = new EventTypes(b.BuildSpec(), [], []).Guess("events", 8, perfPadded: false);
        Assert.Equal(0, guess.TypeId);
        Assert.Contains("(first, second); name one with --event-type events=NAME", guess.Explanation);

        // Named with BPFSHARP_TYPE (a pointer in .bpfsharp.types), the second is the record.
        int pointer = b.Add(BtfTypeDefinition.Pointer(b.NextTypeId - 1));
        int variable = b.Add(BtfTypeDefinition.Variable("__bpfsharp_type_0", pointer, BtfVariableLinkage.GlobalAllocated));
        b.Add(BtfTypeDefinition.DataSection(ExportedTypes.SectionName, 8, [new(variable, 0, 8)]));
        BtfSpec exported = b.BuildSpec();
        guess = new EventTypes(exported, [], []).Guess("events", 8, perfPadded: false);
        Assert.Equal(exported.FindType("second", BtfKind.Struct).Id, guess.TypeId);
        Assert.Equal(["second"], ExportedTypes.In(exported).Select(t => t.Name));
    }

    [Fact]
    public void SetParsesThroughTheVariablesTypeAndExplainsMistakes()
    {
        CollectionSpec spec = CollectionSpec.Load(Object);
        RunCommand.Assign(spec, "outputs=OUTPUT_PERF");
        RunCommand.Assign(spec, "base_count=123");
        RunCommand.Assign(spec, "tag=xyz");
        Assert.Equal(2u, spec.Variable("outputs").Get<uint>());
        Assert.Equal(123UL, spec.Variable("base_count").Get<ulong>());
        Assert.Equal("xyz\0\0\0\0\0"u8.ToArray(), spec.Variable("tag").Bytes.ToArray());

        Assert.Contains("its variables are: base_count, outputs, run_event_type, tag, target_tgid", Assert.Throws<ToolException>(() => RunCommand.Assign(spec, "nothing=1")).Message);
        Assert.Contains("expected NAME=VALUE", Assert.Throws<ToolException>(() => RunCommand.Assign(spec, "outputs")).Message);
        Assert.Contains("OUTPUT_RING, OUTPUT_PERF, OUTPUT_BOTH", Assert.Throws<ToolException>(() => RunCommand.Assign(spec, "outputs=ALL")).Message);
        Assert.Contains("at most 7", Assert.Throws<ToolException>(() => RunCommand.Assign(spec, "tag=too-long-tag")).Message);
    }

    private static void WriteSizes(params int[] sizes)
    {
        // A pipe, not /dev/null: .NET writes to seekable files with pwrite64, to pipes with write(2), one call each.
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out);
        using var reader = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, pipe.ClientSafePipeHandle);
        foreach (int size in sizes)
        {
            pipe.Write(new byte[size]); // the pipe holds 64 KiB: no reader needed
        }
    }

    private static List<JsonElement> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static JsonElement MapLine(List<JsonElement> lines, string map) =>
        Assert.Single(lines, l => l.TryGetProperty("entries", out _) && l.GetProperty("map").GetString() == map);

    private static void WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
    }
}
