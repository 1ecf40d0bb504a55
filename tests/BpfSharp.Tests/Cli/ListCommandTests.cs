using System.Text.Json;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Tests.Links;
using BpfSharp.Tests.Maps;
using BpfSharp.Tests.Tools;

namespace BpfSharp.Tests.Cli;

/// <summary><c>bpfsharp prog|map|link list</c> against objects this test creates and holds.</summary>
[Trait("Category", "Kernel")]
public class ListCommandTests
{
    [KernelFact]
    public void ProgListShowsALoadedProgramWithItsMapsHolderAndPin()
    {
        using var directory = new BpfFsDirectory();
        using CounterSlots counters = LinkTestSupport.Counters();
        using Program program = LinkTestSupport.LoadCounter(ProgramType.SocketFilter, counters, name: "listed_prog");
        Map map = counters.Map;
        string pin = Path.Combine(directory.Path, "listed_prog");
        program.Pin(pin);

        ProgramInfo info = program.GetInfo();
        JsonElement entry = Find(Json("prog", "programs"), program.Id);

        Assert.Equal(UapiName(info.Type), entry.GetProperty("type").GetString());
        Assert.Equal(info.Name, entry.GetProperty("name").GetString());
        Assert.Equal(info.Tag, entry.GetProperty("tag").GetString());
        Assert.Contains(map.Id, entry.GetProperty("map_ids").EnumerateArray().Select(e => e.GetUInt32()));
        Assert.Contains(entry.GetProperty("pids").EnumerateArray(), p => p.GetProperty("pid").GetInt32() == Environment.ProcessId);
        Assert.Equal([pin], entry.GetProperty("pinned").EnumerateArray().Select(e => e.GetString()));

        string table = Run("prog", "list");
        string row = Assert.Single(table.Split('\n'), line => line.TrimStart().StartsWith($"{program.Id} ", StringComparison.Ordinal));
        Assert.Contains(info.Tag, row);
        Assert.Contains($"({Environment.ProcessId})", row);
        Assert.Contains(pin, row);
    }

    [KernelFact]
    public void MapListShowsShapeAndHolder()
    {
        using Map map = Map.Create(new MapSpec { Name = "listed_hash", Type = MapType.Hash, KeySize = 8, ValueSize = 16, MaxEntries = 32 });

        JsonElement entry = Find(Json("map", "maps"), map.Id);

        Assert.Equal("hash", entry.GetProperty("type").GetString());
        Assert.Equal("listed_hash", entry.GetProperty("name").GetString());
        Assert.Equal(8, entry.GetProperty("key_size").GetInt32());
        Assert.Equal(16, entry.GetProperty("value_size").GetInt32());
        Assert.Equal(32, entry.GetProperty("max_entries").GetInt32());
        Assert.Contains(entry.GetProperty("pids").EnumerateArray(), p => p.GetProperty("pid").GetInt32() == Environment.ProcessId);
        Assert.Empty(entry.GetProperty("pinned").EnumerateArray());
    }

    [KernelFact]
    public void LinkListNamesTheTracepointAndTheProgram()
    {
        using CounterSlots counters = LinkTestSupport.Counters();
        using Program program = LinkTestSupport.LoadCounter(ProgramType.Tracepoint, counters);
        using var tracepoint = TracepointLink.Attach(program, "syscalls", "sys_enter_getppid");

        JsonElement entry = Find(Json("link", "links"), tracepoint.Id);

        Assert.Equal("perf_event", entry.GetProperty("type").GetString());
        Assert.Equal(program.Id, entry.GetProperty("prog_id").GetUInt32());
        Assert.Equal("tracepoint sys_enter_getppid", entry.GetProperty("target").GetString());
        Assert.Contains(entry.GetProperty("pids").EnumerateArray(), p => p.GetProperty("pid").GetInt32() == Environment.ProcessId);
    }

    [KernelFact]
    public void ProgDumpShowsTheTranslatedCodeWithHelperAndMapNames()
    {
        using CounterSlots counters = LinkTestSupport.Counters(name: "dumped_counts");
        using Program program = LinkTestSupport.LoadCounter(ProgramType.SocketFilter, counters, pid: Environment.ProcessId, name: "dumped_prog");

        string listing = Run("prog", "dump", "--id", program.Id.ToString());

        string[] lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith($"{program.Id}: socket_filter name dumped_prog tag {program.GetInfo().Tag}", lines[0]);
        Assert.Contains(lines, l => l.Contains("call ") && l.EndsWith("<bpf_get_current_pid_tgid>", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"<map id {counters.Map.Id} dumped_counts value+0>"));
        // As many instruction slots as the kernel reports bytes of translated code.
        Assert.Equal((int)program.GetInfo().XlatedSize / 8, program.GetTranslatedInstructions().Sum(i => i.Slots));
        Assert.Equal(program.GetTranslatedInstructions().Count, lines.Length - 1);
        Assert.Equal(listing, Run("prog", "dump", "--name", "dumped_prog"));
    }

    private static string UapiName(ProgramType type) => BpfSharp.Kernel.UapiNames.Name(type);

    private static JsonElement Json(string command, string key)
    {
        using JsonDocument document = JsonDocument.Parse(Run(command, "list", "--json"));
        return document.RootElement.GetProperty(key).Clone();
    }

    private static JsonElement Find(JsonElement list, uint id) =>
        Assert.Single(list.EnumerateArray(), e => e.GetProperty("id").GetUInt32() == id);

    private static string Run(params string[] arguments)
    {
        (int exitCode, string output, string error) = ExternalTool.Execute(ToolProcess.Executable, arguments);
        Assert.True(exitCode == 0, error);
        return output;
    }
}
