using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>Values shown, parsed and summed through BTF: every member kind of an event struct, read back from known bytes.</summary>
public sealed class BtfValueTests
{
    private readonly BtfSpec _spec;
    private readonly Dictionary<string, int> _ids = new();

    public BtfValueTests()
    {
        var b = new BtfBuilder();
        int Add(string key, BtfTypeDefinition definition) => _ids[key] = b.Add(definition);
        Add("int", BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed));
        Add("u32", BtfTypeDefinition.Int("unsigned int", 4));
        Add("u16", BtfTypeDefinition.Int("unsigned short", 2));
        Add("s16", BtfTypeDefinition.Int("short", 2, BtfIntEncoding.Signed));
        Add("u64", BtfTypeDefinition.Int("unsigned long long", 8));
        Add("char", BtfTypeDefinition.Int("char", 1, BtfIntEncoding.Signed | BtfIntEncoding.Char));
        Add("bool", BtfTypeDefinition.Int("_Bool", 1, BtfIntEncoding.Bool));
        Add("double", BtfTypeDefinition.Float("double", 8));
        Add("u64_t", BtfTypeDefinition.Typedef("__u64", _ids["u64"]));
        Add("comm", BtfTypeDefinition.Array(_ids["char"], _ids["int"], 16));
        Add("history", BtfTypeDefinition.Array(_ids["u32"], _ids["int"], 3));
        Add("kind", BtfTypeDefinition.Enum("kind", 4, signed: false, [new("KIND_SMALL", 1), new("KIND_LARGE", 2)]));
        Add("level", BtfTypeDefinition.Enum("level", 4, signed: true, [new("LEVEL_LOW", -1)]));
        Add("point", BtfTypeDefinition.Struct("point", 4, [new("x", _ids["u16"], 0), new("y", _ids["s16"], 16)]));
        Add("void_ptr", BtfTypeDefinition.Pointer(0));
        Add("anon_union", BtfTypeDefinition.Union(null, 4, [new("as_u32", _ids["u32"], 0), new("as_int", _ids["int"], 0)]));
        // struct event { int pid; char comm[16]; enum kind kind; struct point where; __u32 history[3]; void *ptr;
        //                unsigned flag_a:1, flag_b:3 (signed); enum level level; union { u32 as_u32; int as_int; }; bool ok; double ratio; __u64 bytes; }
        Add("event", BtfTypeDefinition.Struct("event", 80,
        [
            new("pid", _ids["int"], 0),
            new("comm", _ids["comm"], 32),
            new("kind", _ids["kind"], 160),
            new("where", _ids["point"], 192),
            new("history", _ids["history"], 224),
            new("ptr", _ids["void_ptr"], 320),
            new("flag_a", _ids["u32"], 384, 1),
            new("flag_b", _ids["int"], 385, 3),
            new("level", _ids["level"], 416),
            new(null, _ids["anon_union"], 448),
            new("ok", _ids["bool"], 480),
            new("ratio", _ids["double"], 512),
            new("bytes", _ids["u64_t"], 576),
        ]));
        Add("counters", BtfTypeDefinition.Struct("counters", 28, [new("calls", _ids["u64"], 0), new("errors", _ids["u32"], 64), new("kind", _ids["kind"], 96), new("sizes", _ids["history"], 128)]));
        Add("var_a", BtfTypeDefinition.Variable("limit", _ids["u32"], BtfVariableLinkage.GlobalAllocated));
        Add("var_b", BtfTypeDefinition.Variable("name", _ids["comm"], BtfVariableLinkage.GlobalAllocated));
        Add("datasec", BtfTypeDefinition.DataSection(".data", 20, [new(_ids["var_a"], 0, 4), new(_ids["var_b"], 4, 16)]));
        _spec = b.BuildSpec();
    }

    private byte[] Event()
    {
        byte[] e = new byte[80];
        MemoryMarshal.Write(e.AsSpan(0), -42);
        "bash"u8.CopyTo(e.AsSpan(4));
        MemoryMarshal.Write(e.AsSpan(20), 2u);
        MemoryMarshal.Write(e.AsSpan(24), (ushort)3);
        MemoryMarshal.Write(e.AsSpan(26), (short)-3);
        MemoryMarshal.Write(e.AsSpan(28), 1u);
        MemoryMarshal.Write(e.AsSpan(32), 10u);
        MemoryMarshal.Write(e.AsSpan(36), 100u);
        MemoryMarshal.Write(e.AsSpan(40), 0xffff888012345678UL);
        e[48] = 0b1111; // flag_a = 1, flag_b = 0b111 = -1 as a signed 3-bit field
        MemoryMarshal.Write(e.AsSpan(52), -1);
        MemoryMarshal.Write(e.AsSpan(56), 7u);
        e[60] = 1;
        MemoryMarshal.Write(e.AsSpan(64), 0.5);
        MemoryMarshal.Write(e.AsSpan(72), ulong.MaxValue);
        return e;
    }

    [Fact]
    public void FormatsEveryMemberKindByName()
    {
        Assert.Equal(
            "{pid=-42, comm=\"bash\", kind=KIND_LARGE, where={x=3, y=-3}, history=[1, 10, 100], ptr=0xffff888012345678, flag_a=1, flag_b=-1, "
            + "level=LEVEL_LOW, as_u32=7, as_int=7, ok=true, ratio=0.5, bytes=18446744073709551615}",
            BtfValue.Format(_spec, _ids["event"], Event()));
    }

    [Fact]
    public void WritesJsonWithTheSameShape()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            BtfValue.WriteJson(writer, _spec, _ids["event"], Event());
        }
        JsonElement json = JsonDocument.Parse(stream.ToArray()).RootElement;
        Assert.Equal(-42, json.GetProperty("pid").GetInt32());
        Assert.Equal("bash", json.GetProperty("comm").GetString());
        Assert.Equal("KIND_LARGE", json.GetProperty("kind").GetString());
        Assert.Equal(-3, json.GetProperty("where").GetProperty("y").GetInt32());
        Assert.Equal([1u, 10u, 100u], json.GetProperty("history").EnumerateArray().Select(e => e.GetUInt32()));
        Assert.Equal("0xffff888012345678", json.GetProperty("ptr").GetString());
        Assert.Equal(-1, json.GetProperty("flag_b").GetInt32());
        Assert.True(json.GetProperty("ok").GetBoolean());
        Assert.Equal(0.5, json.GetProperty("ratio").GetDouble());
        Assert.Equal(ulong.MaxValue, json.GetProperty("bytes").GetUInt64());
    }

    [Fact]
    public void UnknownEnumValuesShowAsNumbersAndDataSectionsAsVariables()
    {
        byte[] e = Event();
        MemoryMarshal.Write(e.AsSpan(20), 9u);
        Assert.Contains("kind=9,", BtfValue.Format(_spec, _ids["event"], e));

        byte[] data = new byte[20];
        MemoryMarshal.Write(data.AsSpan(0), 5u);
        "tool"u8.CopyTo(data.AsSpan(4));
        Assert.Equal("{limit=5, name=\"tool\"}", BtfValue.Format(_spec, _ids["datasec"], data));
    }

    [Fact]
    public void ShortDataIsAnErrorNotAGuess()
    {
        var error = Assert.Throws<BtfException>(() => BtfValue.Format(_spec, _ids["event"], new byte[79]));
        Assert.Contains("80 bytes", error.Message);
    }

    [Theory]
    [InlineData("u32", "4000000000", "00286bee")]
    [InlineData("u32", "0x10", "10000000")]
    [InlineData("int", "-2", "feffffff")]
    [InlineData("u16", "65535", "ffff")]
    [InlineData("bool", "true", "01")]
    [InlineData("kind", "KIND_LARGE", "02000000")]
    [InlineData("kind", "1", "01000000")]
    [InlineData("level", "LEVEL_LOW", "ffffffff")]
    [InlineData("comm", "hello", "68656c6c6f0000000000000000000000")]
    [InlineData("u64_t", "18446744073709551615", "ffffffffffffffff")]
    public void ParsesTextIntoTheTypesBytes(string type, string text, string hex)
    {
        byte[] destination = new byte[hex.Length / 2];
        destination.AsSpan().Fill(0xAA);
        BtfValue.Parse(_spec, _ids[type], text, destination);
        Assert.Equal(hex, Convert.ToHexStringLower(destination));
    }

    [Theory]
    [InlineData("u16", "65536", "out of range")]
    [InlineData("u32", "-1", "out of range")]
    [InlineData("int", "twelve", "not an integer")]
    [InlineData("kind", "KIND_HUGE", "KIND_SMALL, KIND_LARGE")]
    [InlineData("comm", "sixteen-chars-xx", "at most 15")]
    [InlineData("bool", "maybe", "true or false")]
    public void BadTextSaysWhatWasExpected(string type, string text, string expected)
    {
        byte[] destination = new byte[16];
        var error = Assert.Throws<FormatException>(() => BtfValue.Parse(_spec, _ids[type], text, destination));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void StructsCannotBeSetFromOneText()
    {
        Assert.Throws<BtfException>(() => BtfValue.Parse(_spec, _ids["point"], "1", new byte[4]));
    }

    [Fact]
    public void AddIntegersSumsCountersFieldByFieldAndKeepsTheRest()
    {
        byte[] total = new byte[28], cpu = new byte[28];
        MemoryMarshal.Write(total.AsSpan(0), 5UL);
        MemoryMarshal.Write(total.AsSpan(8), uint.MaxValue);
        MemoryMarshal.Write(total.AsSpan(12), 1u);
        MemoryMarshal.Write(total.AsSpan(16), 3u);
        MemoryMarshal.Write(cpu.AsSpan(0), 7UL);
        MemoryMarshal.Write(cpu.AsSpan(8), 2u);
        MemoryMarshal.Write(cpu.AsSpan(12), 2u);
        MemoryMarshal.Write(cpu.AsSpan(16), 4u);
        BtfValue.AddIntegers(_spec, _ids["counters"], total, cpu);
        Assert.Equal(12UL, MemoryMarshal.Read<ulong>(total));
        Assert.Equal(1u, MemoryMarshal.Read<uint>(total.AsSpan(8)));  // wraps at 32 bits
        Assert.Equal(1u, MemoryMarshal.Read<uint>(total.AsSpan(12))); // an enum is not a counter
        Assert.Equal(7u, MemoryMarshal.Read<uint>(total.AsSpan(16))); // array elements add up
    }

    [Fact]
    public void FormatsAStructFromACompiledObject()
    {
        var spec = BpfSharp.Specs.CollectionSpec.Load(TestPrograms.Path("run_events"));
        BtfSpec btf = spec.Btf!;
        BtfType type = btf.FindType("run_event", BtfKind.Struct);
        byte[] record = new byte[type.Size];
        MemoryMarshal.Write(record.AsSpan(0), 7u);
        Encoding.ASCII.GetBytes("dd").CopyTo(record.AsSpan(16));
        MemoryMarshal.Write(record.AsSpan(40), 2u);
        Assert.StartsWith("{pid=7, fd=0, count=0, comm=\"dd\", tag=\"\", kind=KIND_LARGE, where={x=0, y=0}, history=[0, 0, 0]}", BtfValue.Format(btf, type.Id, record));
    }
}
