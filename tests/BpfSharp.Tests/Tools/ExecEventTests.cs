using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BpfSharp.Cli.Tools;
using BpfSharp.Cli.Tools.Execsnoop;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Tools;

/// <summary>execsnoop's record decoding, table rows, JSON and user-space filter, without the kernel.</summary>
public class ExecEventTests
{
    private static byte[] Record(string comm, string[] args, uint truncated = 0, uint flags = 0, int ret = 0, int extraBytes = 0)
    {
        byte[] argBytes = [.. args.SelectMany(a => Encoding.UTF8.GetBytes(a).Append((byte)0))];
        var e = new ExecsnoopBpf.ExecEvent
        {
            TimestampNs = 1,
            Pid = 100,
            Tid = 101,
            Ppid = 1,
            Uid = 1000,
            Ret = ret,
            ArgsCount = (uint)args.Length,
            ArgsSize = (uint)argBytes.Length,
            TruncatedArgs = truncated,
            Flags = flags,
        };
        Encoding.UTF8.GetBytes(comm).CopyTo(e.Comm);
        // The BPF side sends the fixed fields and only the argument bytes it filled.
        byte[] record = new byte[ExecEvent.ArgsOffset + argBytes.Length + extraBytes];
        MemoryMarshal.AsBytes(new ReadOnlySpan<ExecsnoopBpf.ExecEvent>(in e))[..ExecEvent.ArgsOffset].CopyTo(record);
        argBytes.CopyTo(record, ExecEvent.ArgsOffset);
        return record;
    }

    [Fact]
    public void TheSkeletonMatchesTheBpfLayout()
    {
        Assert.Equal(64, ExecEvent.ArgsOffset);
        Assert.Equal(64 + ExecEvent.MaxArgs * ExecEvent.MaxArgBytes, Unsafe.SizeOf<ExecsnoopBpf.ExecEvent>());
    }

    [Fact]
    public void DecodesArgumentsInOrder()
    {
        ExecEvent e = ExecEvent.Decode(Record("echo", ["/bin/echo", "a", "", "ü"], extraBytes: 8));
        Assert.Equal(["/bin/echo", "a", "", "ü"], e.Args);
        Assert.Equal("echo", e.Comm);
        Assert.Equal((100, 101, 1, 1000u), (e.Pid, e.Tid, e.Ppid, e.Uid));
        Assert.False(e.Truncated);
        Assert.Equal($"{e.Time:HH:mm:ss} echo                 100       1   1000    0 /bin/echo a  ü", e.TableRow());
        // The timestamp is 1 ns after boot.
        Assert.InRange(e.Time, BootTime.WallClockOf(0).LocalDateTime.AddMilliseconds(-5), BootTime.WallClockOf(0).LocalDateTime.AddMilliseconds(5));
    }

    [Fact]
    public void MarksCutArgumentsAndMissingOnes()
    {
        ExecEvent e = ExecEvent.Decode(Record("true", ["/bin/true", "long"], truncated: 0b10, flags: ExecEvent.MoreArgsFlag));
        Assert.True(e.Truncated);
        Assert.True(e.MoreArgs);
        Assert.EndsWith(" /bin/true long... ...", e.TableRow(), StringComparison.Ordinal);
    }

    [Fact]
    public void AFaultedArgvIsMarked()
    {
        ExecEvent e = ExecEvent.Decode(Record("x", [], flags: ExecEvent.ArgFaultFlag, ret: -14));
        Assert.Empty(e.Args);
        Assert.True(e.ArgsFaulted);
        Assert.EndsWith("-14 ...", e.TableRow(), StringComparison.Ordinal);
    }

    [Fact]
    public void JsonHasTheDocumentedKeys()
    {
        ExecEvent e = ExecEvent.Decode(Record("echo", ["/bin/echo", "a\"b"], truncated: 0b10, ret: -2));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            e.WriteJson(writer);
            writer.WriteEndObject();
        }
        JsonElement json = JsonDocument.Parse(stream.ToArray()).RootElement;
        Assert.Equal(100, json.GetProperty("pid").GetInt32());
        Assert.Equal(1, json.GetProperty("ppid").GetInt32());
        Assert.Equal(1000u, json.GetProperty("uid").GetUInt32());
        Assert.Equal("echo", json.GetProperty("comm").GetString());
        Assert.Equal(-2, json.GetProperty("ret").GetInt32());
        Assert.Equal(["/bin/echo", "a\"b"], json.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.True(json.GetProperty("truncated").GetBoolean());
        Assert.Equal([1], json.GetProperty("truncated_args").EnumerateArray().Select(a => a.GetInt32()));
        Assert.True(json.TryGetProperty("time", out _));
    }

    [Fact]
    public void RefusesARecordShorterThanItSays()
    {
        byte[] record = Record("echo", ["/bin/echo"]);
        Assert.Throws<InvalidDataException>(() => ExecEvent.Decode(record.AsSpan(0, record.Length - 2)));
        Assert.Throws<InvalidDataException>(() => ExecEvent.Decode(record.AsSpan(0, 10)));
    }

    [Fact]
    public void NameFilterIsASubstringOfTheCommand()
    {
        var filters = new ExecsnoopCommand.Filters(false, null, "ch", null, null, null);
        Assert.True(filters.Matches(ExecEvent.Decode(Record("echo", []))));
        Assert.False(filters.Matches(ExecEvent.Decode(Record("true", []))));
        Assert.True(new ExecsnoopCommand.Filters(false, null, null, null, null, null).Matches(ExecEvent.Decode(Record("true", []))));
    }
}
