using System.Runtime.InteropServices;
using System.Text.Json;
using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Tests.Maps;
using BpfSharp.Tests.Tools;

namespace BpfSharp.Tests.Cli;

/// <summary><c>bpfsharp map dump</c> on maps of a loaded corpus object, with values this test wrote.</summary>
[Trait("Category", "Kernel")]
public class MapDumpCommandTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct RunKey
    {
        public uint Pid;
        public uint Kind; // enum run_kind
    }

    [KernelFact]
    public void AHashKeyedByAStructIsDecodedByFieldAndEnumeratorNames()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("run_events"));
        Map map = collection.Map("bytes_by_kind");
        map.Update(new RunKey { Pid = 4242, Kind = 2 }, 7003UL);
        map.Update(new RunKey { Pid = 4242, Kind = 1 }, 11UL);

        using JsonDocument document = JsonDocument.Parse(Run("map", "dump", "--id", map.Id.ToString(), "--json"));
        JsonElement root = document.RootElement;
        Assert.Equal("bytes_by_kind", root.GetProperty("name").GetString());
        Assert.Equal("hash", root.GetProperty("type").GetString());
        var entries = root.GetProperty("entries").EnumerateArray()
            .ToDictionary(e => e.GetProperty("key").GetProperty("kind").GetString()!, e => e.GetProperty("value").GetUInt64());
        Assert.Equal(new Dictionary<string, ulong> { ["KIND_LARGE"] = 7003, ["KIND_SMALL"] = 11 }, entries);
        Assert.All(root.GetProperty("entries").EnumerateArray(), e => Assert.Equal(4242u, e.GetProperty("key").GetProperty("pid").GetUInt32()));

        string text = Run("map", "dump", "--id", map.Id.ToString());
        Assert.Contains("key: {pid=4242, kind=KIND_LARGE}  value: 7003", text);
        Assert.Contains("Found 2 elements", text);
    }

    [KernelFact]
    public void PerCpuValuesArePrintedPerCpuAndGlobalsByName()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("run_events"));
        Map perCpu = collection.Map("total_events");
        ulong[] values = [.. Enumerable.Range(0, Cpus.PossibleCount).Select(cpu => (ulong)(100 + cpu))];
        new PerCpuArrayMap<ulong>(perCpu).Update(0u, values);

        using JsonDocument document = JsonDocument.Parse(Run("map", "dump", "--id", perCpu.Id.ToString(), "--json"));
        JsonElement entry = Assert.Single(document.RootElement.GetProperty("entries").EnumerateArray());
        Assert.Equal(values, entry.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("value").GetUInt64()));
        Assert.Equal(Enumerable.Range(0, Cpus.PossibleCount), entry.GetProperty("values").EnumerateArray().Select(v => v.GetProperty("cpu").GetInt32()));

        // The .rodata map's value is its data section: every variable by name.
        string rodata = Run("map", "dump", "--id", collection.Map("run_even.rodata").Id.ToString());
        Assert.Contains("target_tgid=0", rodata);
        Assert.Contains("base_count=7000", rodata);
        Assert.Contains("outputs=OUTPUT_BOTH", rodata);
        Assert.Contains("tag=\"tagA\"", rodata);
    }

    [KernelFact]
    public void APinnedMapIsDumpedByPathAndABufferIsExplained()
    {
        using var directory = new BpfFsDirectory();
        using Collection collection = Collection.Load(TestPrograms.Path("run_events"));
        string pin = Path.Combine(directory.Path, "slots");
        collection.Map("slots").Pin(pin);
        collection.Map("slots").Update(3u, 9UL);

        string text = Run("map", "dump", "--pinned", pin);
        Assert.Contains("key: 3  value: 9", text);
        Assert.Contains("Found 16 elements", text);

        (int exit, _, string error) = ExternalTool.Execute(ToolProcess.Executable, "map", "dump", "--id", collection.Map("ring_events").Id.ToString());
        Assert.NotEqual(0, exit);
        Assert.Contains("is a ringbuf map, which has no keys to list", error);
        (exit, _, error) = ExternalTool.Execute(ToolProcess.Executable, "map", "dump", "--name", "slots", "--id", "1");
        Assert.NotEqual(0, exit);
        Assert.Contains("give exactly one of --id, --name or --pinned", error);
    }

    private static string Run(params string[] arguments)
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(ToolProcess.Executable, arguments);
        Assert.True(exitCode == 0, error);
        return output;
    }
}
