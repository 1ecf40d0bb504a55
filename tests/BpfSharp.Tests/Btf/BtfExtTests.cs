using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>.BTF.ext of clang-compiled test programs: func_info, line_info and CO-RE relocations.</summary>
public sealed class BtfExtTests
{
    [Fact]
    public void Function_info_names_each_subprogram()
    {
        BtfSpec btf = BtfTestData.Spec("btf_kinds");
        BtfExt ext = BtfExt.Parse(BtfTestData.Ext("btf_kinds"), btf);
        BtfFunctionInfo main = Assert.Single(ext.FunctionInfos["xdp"]);
        Assert.Equal(0u, main.InstructionIndex);
        Assert.Equal("kinds_program", btf[main.TypeId].Name);
        BtfFunctionInfo helper = Assert.Single(ext.FunctionInfos[".text"]);
        Assert.Equal("helper_sum", btf[helper.TypeId].Name);
    }

    [Fact]
    public void Line_info_gives_file_line_column_and_source()
    {
        BtfSpec btf = BtfTestData.Spec("btf_kinds");
        BtfExt ext = BtfExt.Parse(BtfTestData.Ext("btf_kinds"), btf);
        IReadOnlyList<BtfLineInfo> lines = ext.LineInfos["xdp"];
        Assert.True(lines.Count > 3);
        Assert.All(lines, line => Assert.EndsWith("btf_kinds.bpf.c", line.FileName));
        Assert.Equal(lines.OrderBy(l => l.InstructionIndex).Select(l => l.InstructionIndex), lines.Select(l => l.InstructionIndex));
        BtfLineInfo lookup = lines.First(l => l.SourceLine.Contains("bpf_map_lookup_elem"));
        string[] source = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "../../../../programs/btf_kinds.bpf.c"));
        Assert.Equal(source[lookup.Line - 1].Trim(), lookup.SourceLine.Trim());
        Assert.True(lookup.Column > 0);
        Assert.Contains(ext.LineInfos[".text"], l => l.SourceLine.Contains("return *left + *right;"));
    }

    [Fact]
    public void FindLine_maps_any_instruction_to_its_source_line()
    {
        BtfSpec btf = BtfTestData.Spec("btf_kinds");
        BtfExt ext = BtfExt.Parse(BtfTestData.Ext("btf_kinds"), btf);
        IReadOnlyList<BtfLineInfo> lines = ext.LineInfos["xdp"];
        Assert.Equal(lines[0], ext.FindLine("xdp", 0));
        BtfLineInfo second = lines[1];
        Assert.Equal(second, ext.FindLine("xdp", second.InstructionIndex));
        // An instruction between two records belongs to the earlier one.
        if (lines[2].InstructionIndex > second.InstructionIndex + 1)
        {
            Assert.Equal(second, ext.FindLine("xdp", second.InstructionIndex + 1));
        }
        Assert.Equal(lines[^1], ext.FindLine("xdp", 100_000));
        Assert.Null(ext.FindLine("no_such_section", 0));
    }

    [Fact]
    public void Core_relocations_record_access_strings_and_kinds()
    {
        BtfSpec btf = BtfTestData.Spec("btf_core");
        BtfExt ext = BtfExt.Parse(BtfTestData.Ext("btf_core"), btf);
        IReadOnlyList<BtfCoreRelocation> relocations = ext.CoreRelocations["tracepoint/syscalls/sys_enter_getpid"];
        int task = btf.FindType("task_struct", BtfKind.Struct).Id;
        int pidType = btf.FindType("pid_type", BtfKind.Enum).Id;
        Assert.Contains(new BtfCoreRelocation(1, task, "0:2", BtfCoreRelocationKind.FieldByteOffset), relocations);
        Assert.Contains(new BtfCoreRelocation(8, task, "0:1", BtfCoreRelocationKind.FieldByteOffset), relocations);
        Assert.Contains(relocations, r => r is { TypeId: var t, AccessString: "0:1", Kind: BtfCoreRelocationKind.FieldExists } && t == task);
        Assert.Contains(relocations, r => r is { AccessString: "0", Kind: BtfCoreRelocationKind.TypeSize } && btf.ResolveTypedefsAndQualifiers(r.TypeId).Id == task);
        Assert.Contains(relocations, r => r is { AccessString: "1", Kind: BtfCoreRelocationKind.EnumValue } && r.TypeId == pidType);
    }

    [Fact]
    public void Record_sizes_come_from_the_section()
    {
        // Re-encode func_info with 12-byte records (a future, longer layout): the parser must step by rec_size.
        BtfSpec btf = BtfTestData.Spec("btf_kinds");
        BtfExt original = BtfExt.Parse(BtfTestData.Ext("btf_kinds"), btf);
        BtfFunctionInfo main = original.FunctionInfos["xdp"][0];
        uint sectionName = btf.FindType(".bss", BtfKind.DataSection).NameOffset; // any valid string offset
        var body = new List<uint> { 12, sectionName, 2, 0, (uint)main.TypeId, 0xdead, 16, (uint)main.TypeId, 0xbeef };
        byte[] blob = ExtWithFunctionInfo(body);
        BtfExt ext = BtfExt.Parse(blob, btf);
        Assert.Equal([0u, 2u], ext.FunctionInfos[".bss"].Select(f => f.InstructionIndex));
        Assert.Empty(ext.LineInfos);
        Assert.Empty(ext.CoreRelocations);
    }

    [Fact]
    public void Malformed_sections_throw_BtfException()
    {
        BtfSpec btf = BtfTestData.Spec("btf_kinds");
        Assert.Throws<BtfException>(() => BtfExt.Parse(new byte[10], btf));
        Assert.Throws<BtfException>(() => BtfExt.Parse(ExtWithFunctionInfo([4, 0, 1, 0, 0]), btf)); // rec_size below 8
        Assert.Throws<BtfException>(() => BtfExt.Parse(ExtWithFunctionInfo([8, 0, 1000, 0, 0]), btf)); // more records than bytes
        Assert.Throws<BtfException>(() => BtfExt.Parse(ExtWithFunctionInfo([8, 0xffffff, 1, 0, 0]), btf)); // bad section name
        byte[] valid = BtfTestData.Ext("btf_kinds");
        for (int length = 0; length < valid.Length; length++)
        {
            try
            {
                BtfExt.Parse(valid.AsMemory(0, length), btf);
            }
            catch (BtfException)
            {
            }
        }
    }

    private static byte[] ExtWithFunctionInfo(List<uint> words)
    {
        var blob = new byte[32 + words.Count * 4];
        BitConverter.TryWriteBytes(blob.AsSpan(0), BtfExt.Magic);
        blob[2] = 1;
        BitConverter.TryWriteBytes(blob.AsSpan(4), 32u);
        BitConverter.TryWriteBytes(blob.AsSpan(8), 0u);
        BitConverter.TryWriteBytes(blob.AsSpan(12), (uint)words.Count * 4);
        for (int i = 0; i < words.Count; i++)
        {
            BitConverter.TryWriteBytes(blob.AsSpan(32 + 4 * i), words[i]);
        }
        return blob;
    }
}
