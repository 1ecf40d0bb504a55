using System.Buffers.Binary;
using System.Text;
using BpfSharp.Btf;
using BpfSharp.Collections;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Specs;

/// <summary>
/// Reading <c>.struct_ops</c> variables into map specs (pure), and laying their values out against the running
/// kernel's BTF (reads /sys/kernel/btf/vmlinux, needs no privilege).
/// </summary>
public sealed class StructOpsSpecTests
{
    [Fact]
    public void StructOpsVariablesBecomeMapsWithTheirInitializerAndPrograms()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_tcp"));
        MapSpec legacy = spec.Map("bpfsharp_reno");
        MapSpec link = spec.Map("bpfsharp_reno_link");
        Assert.Equal((MapType.StructOps, 4u, 1u, MapFlags.None, ".struct_ops"), (legacy.Type, legacy.KeySize, legacy.MaxEntries, legacy.Flags, legacy.SectionName));
        Assert.Equal((MapFlags.Link, ".struct_ops.link"), (link.Flags, link.SectionName));
        StructOpsSpec ops = legacy.StructOps!;
        Assert.Equal("tcp_congestion_ops", ops.KernelTypeName);
        // Until loading, the value is the object's struct.
        Assert.Equal(ops.Type.Size, legacy.ValueSize);
        var expected = new Dictionary<string, string>
        {
            ["init"] = "bpfsharp_init",
            ["release"] = "bpfsharp_release",
            ["cong_avoid"] = "bpfsharp_cong_avoid",
            ["ssthresh"] = "bpfsharp_ssthresh",
            ["undo_cwnd"] = "bpfsharp_undo_cwnd",
        };
        Assert.Equal(expected.OrderBy(p => p.Key), ops.Programs.OrderBy(p => p.Key));
        Assert.Equal(expected.OrderBy(p => p.Key), link.StructOps!.Programs.OrderBy(p => p.Key));
        Assert.Equal("bpfsharp_reno", Name(ops.Data, ops.Type));
        Assert.Equal("bpfsharp_renol", Name(link.StructOps.Data, link.StructOps.Type));
        ProgramSpec init = spec.Program("bpfsharp_init");
        Assert.Equal((ProgramType.StructOps, "bpfsharp_init"), (init.Type, init.AttachTo));

        // Clones are independent.
        MapSpec copy = legacy.Clone();
        copy.StructOps!.Programs.Remove("init");
        copy.StructOps.Data[0] = 0xff;
        Assert.True(legacy.StructOps!.Programs.ContainsKey("init"));
        Assert.NotEqual(0xff, legacy.StructOps.Data[0]);
        Assert.Throws<ArgumentException>(() => ops.Data = new byte[3]);
    }

    [Fact]
    public void LayoutMatchesMembersByNameIntoTheKernelsValue()
    {
        if (!File.Exists(KernelBtf.VmlinuxPath))
        {
            return;
        }
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_tcp"));
        StructOpsLayout layout = StructOpsLayout.Resolve("bpfsharp_reno", spec.Map("bpfsharp_reno").StructOps!);
        BtfSpec vmlinux = KernelBtf.Vmlinux;
        BtfType ops = vmlinux.FindType("tcp_congestion_ops", BtfKind.Struct);
        BtfType wrapper = vmlinux.FindType("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct);
        Assert.Equal((ops.Id, wrapper.Id, wrapper.Size, (string?)null), (layout.TypeId, layout.ValueTypeId, layout.ValueSize, layout.Module));

        // Function members carry the kernel's member index (the programs' expected attach type) and their value offset.
        uint dataOffset = wrapper.Members.First(m => m.Name == "data").ByteOffset;
        var members = ops.Members.Select((m, i) => (m.Name, Index: i, Offset: dataOffset + m.ByteOffset)).ToDictionary(m => m.Name);
        foreach (StructOpsFunction function in layout.Functions)
        {
            Assert.Equal((members[function.Member].Index, members[function.Member].Offset), (function.MemberIndex, function.ValueOffset));
        }
        Assert.Equal(["cong_avoid", "init", "release", "ssthresh", "undo_cwnd"], layout.Functions.Select(f => f.Member).Order(StringComparer.Ordinal));

        byte[] value = layout.BuildValue(program => program.Length);
        Assert.Equal((int)wrapper.Size, value.Length);
        Assert.Equal("bpfsharp_reno", Encoding.ASCII.GetString(value, (int)members["name"].Offset, 13));
        Assert.Equal((ulong)"bpfsharp_cong_avoid".Length, BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan((int)members["cong_avoid"].Offset)));
        // The wrapper's common part (refcount, state) is the kernel's to fill.
        Assert.All(value[..(int)dataOffset], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData("extra_set", "member 'bpfsharp_extra' is set, but this kernel's struct tcp_congestion_ops has no member of that name")]
    [InlineData("short_name", "member 'name' is 8 bytes in the object but 16 bytes in the kernel")]
    [InlineData("no_such_ops", "implements struct bpfsharp_no_such_ops, but the kernel has no struct_ops type of that name (no struct bpf_struct_ops_bpfsharp_no_such_ops")]
    public void MembersThatDoNotFitTheKernelAreClearErrors(string map, string message)
    {
        if (!File.Exists(KernelBtf.VmlinuxPath))
        {
            return;
        }
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_mismatch"));
        BpfException error = Assert.Throws<BpfException>(() => StructOpsLayout.Resolve(map, spec.Map(map).StructOps!));
        Assert.Contains(message, error.Message);
        Assert.Contains($"struct_ops map '{map}'", error.Message);
    }

    [Fact]
    public void AZeroMemberTheKernelLacksIsSkipped()
    {
        if (!File.Exists(KernelBtf.VmlinuxPath))
        {
            return;
        }
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_mismatch"));
        StructOpsLayout layout = StructOpsLayout.Resolve("extra_zero", spec.Map("extra_zero").StructOps!);
        Assert.Empty(layout.Functions);
        BtfType wrapper = KernelBtf.Vmlinux.FindType("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct);
        BtfMember data = wrapper.Members.First(m => m.Name == "data");
        int nameOffset = (int)(data.ByteOffset + data.Type.Members.First(m => m.Name == "name").ByteOffset);
        Assert.Equal("bpfsharp_x2", Encoding.ASCII.GetString(layout.BuildValue(_ => 0), nameOffset, 11));
    }

    [Fact]
    public void AProgramForAMemberThatIsNotAFunctionPointerIsAClearError()
    {
        if (!File.Exists(KernelBtf.VmlinuxPath))
        {
            return;
        }
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_tcp"));
        StructOpsSpec ops = spec.Map("bpfsharp_reno").StructOps!;
        ops.Programs["flags"] = "bpfsharp_init";
        BpfException error = Assert.Throws<BpfException>(() => StructOpsLayout.Resolve("bpfsharp_reno", ops));
        Assert.Contains("member 'flags' is given program 'bpfsharp_init', but it is not a function pointer", error.Message);
        ops.Programs.Remove("flags");
        ops.Programs["bpfsharp_nonexistent"] = "bpfsharp_init";
        error = Assert.Throws<BpfException>(() => StructOpsLayout.Resolve("bpfsharp_reno", ops));
        Assert.Contains("a program is given for member 'bpfsharp_nonexistent', which struct tcp_congestion_ops does not have", error.Message);
    }

    private static string Name(byte[] data, BtfType type)
    {
        BtfMember name = type.Members.First(m => m.Name == "name");
        ReadOnlySpan<byte> bytes = data.AsSpan((int)name.ByteOffset, 16);
        int end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(bytes[..end]);
    }
}
