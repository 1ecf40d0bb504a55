using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

/// <summary>BTF objects in the kernel: BTF_LOAD, info, get by id, list, read back.</summary>
[Trait("Category", "Kernel")]
public sealed class BtfObjectTests
{
    [KernelFact]
    public void Built_BTF_loads_and_reads_back_identically()
    {
        (BtfBuilder builder, _) = BtfBuilderTests.EveryKind();
        byte[] blob = builder.Build();
        using BtfObject loaded = BtfObject.Load(blob);
        BtfObjectInfo info = loaded.GetInfo();
        Assert.True(info.Id > 0);
        Assert.Equal((uint)blob.Length, info.Size);
        Assert.False(info.IsKernel);
        Assert.Equal(blob, loaded.ReadRaw());

        Assert.Contains(info.Id, BtfObject.AllIds());
        using BtfObject byId = BtfObject.FromId(info.Id);
        Assert.Equal(info, byId.GetInfo());
        BtfSpec spec = byId.ReadSpec();
        Assert.Equal("packet", spec.FindType("packet", BtfKind.Struct).Name);
    }

    [KernelFact]
    public void Object_BTF_loads_once_data_sections_are_laid_out()
    {
        // clang leaves DATASEC sizes and variable offsets at 0 (they come from the ELF symbol
        // table); the kernel refuses that, and says so in its log.
        byte[] raw = BtfTestData.Btf("btf_kinds");
        BtfLoadException refused = Assert.Throws<BtfLoadException>(() => BtfObject.Load(raw));
        Assert.Contains("DATASEC .bss size=0", refused.KernelLog);
        Assert.Contains("size == 0", refused.KernelLog);

        // Rewriting the sections in place, as the loader will from the symbol table, makes it loadable.
        BtfSpec spec = BtfSpec.Parse(raw);
        BtfBuilder builder = BtfBuilder.From(spec);
        foreach (BtfType section in spec.OwnTypes.Where(t => t.Kind == BtfKind.DataSection))
        {
            var variables = new List<BtfDataSectionVariableDefinition>();
            uint offset = 0;
            foreach (BtfDataSectionVariable variable in section.Variables)
            {
                offset = (offset + 7) & ~7u;
                variables.Add(new(variable.TypeId, offset, variable.Size));
                offset += variable.Size;
            }
            builder.Replace(section.Id, BtfTypeDefinition.DataSection(section.Name, offset, variables));
        }
        byte[] fixedUp = builder.Build();
        using BtfObject loaded = BtfObject.Load(fixedUp);
        Assert.Equal(fixedUp.Length, (int)loaded.GetInfo().Size);
        Assert.Equal(40u, loaded.ReadSpec().FindType(".bss", BtfKind.DataSection).Size);
    }

    [KernelFact]
    public void A_rejected_blob_carries_the_kernel_log()
    {
        var builder = new BtfBuilder();
        builder.Add(BtfTypeDefinition.Pointer(42)); // refers to a type that does not exist
        BtfLoadException error = Assert.Throws<BtfLoadException>(() => BtfObject.Load(builder.Build()));
        Assert.Equal(BpfSharp.Kernel.Errno.EINVAL, error.Errno);
        Assert.Contains("Invalid", error.KernelLog, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(error.KernelLog, error.Message);
    }

    [KernelFact]
    public void The_kernel_BTF_is_listed_and_reads_as_vmlinux()
    {
        BtfObjectInfo? vmlinux = null;
        foreach (uint id in BtfObject.AllIds())
        {
            BtfObject btf;
            try
            {
                btf = BtfObject.FromId(id);
            }
            catch (BpfException e) when (e.Errno == BpfSharp.Kernel.Errno.ENOENT)
            {
                continue; // another test's BTF, freed between listing and opening
            }
            using var owned = btf;
            BtfObjectInfo info = btf.GetInfo();
            if (info is { IsKernel: true, Name: "vmlinux" })
            {
                vmlinux = info;
                BtfSpec spec = btf.ReadSpec();
                Assert.Equal(KernelBtf.Vmlinux.TypeIdLimit, spec.TypeIdLimit);
                Assert.Equal(KernelBtf.Vmlinux.FindType("task_struct", BtfKind.Struct).Id, spec.FindType("task_struct", BtfKind.Struct).Id);
            }
        }
        Assert.NotNull(vmlinux);
        Assert.Equal((uint)new FileInfo(KernelBtf.VmlinuxPath).Length, vmlinux.Value.Size);
    }

    [KernelFact]
    public void Opening_a_missing_id_says_so()
    {
        BpfException error = Assert.Throws<BpfException>(() => BtfObject.FromId(uint.MaxValue - 7));
        Assert.Equal(BpfSharp.Kernel.Errno.ENOENT, error.Errno);
    }
}
