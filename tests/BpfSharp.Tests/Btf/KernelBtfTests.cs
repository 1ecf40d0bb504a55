using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>The running kernel's BTF, read from /sys/kernel/btf (readable without root).</summary>
public sealed class KernelBtfTests
{
    [Fact]
    public void Vmlinux_is_cached_and_holds_task_struct()
    {
        BtfSpec vmlinux = KernelBtf.Vmlinux;
        Assert.Same(vmlinux, KernelBtf.Vmlinux);
        Assert.True(vmlinux.OwnTypeCount > 10_000);
        BtfType task = vmlinux.FindType("task_struct", BtfKind.Struct);
        BtfMember pid = task.Members.Single(m => m.Name == "pid");
        Assert.Equal("pid_t", pid.Type.Name);
        Assert.Equal(4, vmlinux.SizeOf(pid.TypeId));
        BtfMember parent = task.Members.Single(m => m.Name == "real_parent");
        Assert.Equal(task.Id, vmlinux.ResolveTypedefsAndQualifiers(parent.TypeId).ReferencedTypeId);
        Assert.Equal(8, vmlinux.PointerSize);
    }

    [Fact]
    public void Vmlinux_has_every_kind_the_kernel_emits()
    {
        var kinds = KernelBtf.Vmlinux.OwnTypes.Select(t => t.Kind).ToHashSet();
        foreach (BtfKind kind in Enum.GetValues<BtfKind>().Where(k => k != BtfKind.Void))
        {
            Assert.Contains(kind, kinds);
        }
    }

    [Fact]
    public void Vmlinux_raw_listing_matches_bpftool_line_for_line()
    {
        string expected = BtfTestData.Run("bpftool", $"btf dump file {KernelBtf.VmlinuxPath}");
        var text = new StringWriter();
        BtfRawWriter.Write(KernelBtf.Vmlinux, text);
        string actual = text.ToString();
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected == actual, "raw listing differs from bpftool's");
    }

    [Fact]
    public void Load_parses_the_same_file_without_the_cache()
    {
        BtfSpec loaded = BtfSpec.Load(KernelBtf.VmlinuxPath);
        Assert.NotSame(KernelBtf.Vmlinux, loaded);
        Assert.Equal(KernelBtf.Vmlinux.TypeIdLimit, loaded.TypeIdLimit);
        Assert.Equal(KernelBtf.Vmlinux.FindType("sk_buff", BtfKind.Struct).Id, loaded.FindType("sk_buff", BtfKind.Struct).Id);
    }

    [Fact]
    public void Split_BTF_continues_ids_and_strings_from_its_base()
    {
        BtfSpec vmlinux = KernelBtf.Vmlinux;
        int task = vmlinux.FindType("task_struct", BtfKind.Struct).Id;
        int u32 = vmlinux.FindType("u32", BtfKind.Typedef).Id;
        var builder = new BtfBuilder(vmlinux);
        int pointer = builder.Add(BtfTypeDefinition.Pointer(task));
        int module = builder.Add(BtfTypeDefinition.Struct("bpfsharp_module_state", 16,
            [new("owner", pointer, 0), new("flags", u32, 64)]));
        BtfSpec split = BtfSpec.Parse(builder.Build(), vmlinux);

        Assert.Equal(vmlinux.TypeIdLimit, split.FirstTypeId);
        Assert.Equal(module, split.FindType("bpfsharp_module_state", BtfKind.Struct).Id);
        // Lookups and references reach into the base.
        Assert.Equal(task, split.FindType("task_struct", BtfKind.Struct).Id);
        BtfType state = split[module];
        Assert.Equal("task_struct", state.Members[0].Type.ReferencedType.Name);
        Assert.Equal("u32", state.Members[1].Type.Name);
        Assert.Equal("struct bpfsharp_module_state {\n\tstruct task_struct *owner;\n\tu32 flags;\n};\n",
            BtfCWriter.FormatDefinition(split, module));
    }

    [Fact]
    public void Module_BTF_parses_on_top_of_vmlinux()
    {
        IReadOnlyList<string> modules = KernelBtf.ModuleNames();
        foreach (string name in modules.Take(3))
        {
            BtfSpec module = KernelBtf.Module(name);
            Assert.Same(KernelBtf.Vmlinux, module.Base);
            Assert.Same(module, KernelBtf.Module(name));
            Assert.Equal(KernelBtf.Vmlinux.TypeIdLimit, module.FirstTypeId);
        }
        var missing = Assert.Throws<BtfException>(() => KernelBtf.Module("bpfsharp_no_such_module"));
        Assert.Contains("not loaded", missing.Message);
        Assert.Throws<ArgumentException>(() => KernelBtf.Module("../vmlinux"));
    }
}
