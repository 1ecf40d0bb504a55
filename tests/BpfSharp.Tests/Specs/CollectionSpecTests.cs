using BpfSharp.Asm;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Specs;

public sealed class CollectionSpecTests
{
    [Fact]
    public void ReadsProgramsSubprogramsMapsAndVariables()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("subprograms"));
        ProgramSpec program = Assert.Single(spec.Programs.Values);
        Assert.Equal(("on_getpid", ProgramType.Tracepoint, "syscalls/sys_enter_getpid", "GPL"),
            (program.Name, program.Type, program.AttachTo, program.License));
        Assert.Equal(["add_step", "count_pid", "fold"], spec.Subprograms.Order());
        MapSpec perPid = spec.Map("per_pid");
        Assert.Equal((MapType.Hash, 4u, 8u, 128u), (perPid.Type, perPid.KeySize, perPid.ValueSize, perPid.MaxEntries));
        VariableSpec limit = spec.Variable("depth_limit");
        Assert.Equal((".rodata", 4u, 8u), (limit.SectionName, limit.Size, limit.Get<uint>()));
        Assert.Equal(7u, spec.Variable("last_pid").Get<uint>());
        // References are names until loading: maps by map name, calls by function label.
        Assert.Contains(program.Instructions, i => i.IsLoadImm64 && i.Reference == "per_pid" || i.Reference == "subprogr.rodata");
        Assert.Contains(program.Instructions, i => i.IsSubprogramCall && i.Reference == "count_pid");
        Assert.Contains(program.Instructions, i => i.IsLoadImm64 && i.PseudoSource == PseudoSource.Function && i.Reference == "add_step");
    }

    [Fact]
    public void HiddenGlobalFunctionsAreStaticInTheKernelsBtfLikeLibbpf()
    {
        // usdt.bpf.h's helpers are __weak __hidden: global in the object's BTF, verified in context only once static.
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("usdt_args"));
        Assert.Equal(BpfSharp.Btf.BtfFunctionLinkage.Global, spec.Btf!.FindType("bpf_usdt_arg", BpfSharp.Btf.BtfKind.Function).FunctionLinkage);
        var kernelBtf = BpfSharp.Btf.BtfSpec.Parse(spec.KernelBtfBlob!);
        foreach (string name in new[] { "bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie" })
        {
            Assert.Equal(BpfSharp.Btf.BtfFunctionLinkage.Static, kernelBtf.FindType(name, BpfSharp.Btf.BtfKind.Function).FunctionLinkage);
        }
        // Programs themselves keep their linkage.
        Assert.Equal(BpfSharp.Btf.BtfFunctionLinkage.Global, kernelBtf.FindType("on_args", BpfSharp.Btf.BtfKind.Function).FunctionLinkage);
    }

    [Fact]
    public void LinkingAppendsEachCalledSubprogramOnceWithFunctionAndLineInfo()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("subprograms"));
        LinkedProgram linked = spec.Link("on_getpid");
        Assert.Equal(["on_getpid", "count_pid", "add_step", "fold"], linked.Instructions.Where(i => i.Symbol is not null).Select(i => i.Symbol!));
        Assert.Equal(4, linked.Functions.Count);
        Assert.Equal(0, linked.Functions[0].Slot);
        Assert.All(linked.Functions, f => Assert.True(f.TypeId > 0));
        Assert.All(linked.Functions, f => Assert.Contains(linked.Lines, l => l.InstructionIndex == (uint)f.Slot));
        Assert.True(linked.Lines.Zip(linked.Lines.Skip(1)).All(p => p.First.InstructionIndex <= p.Second.InstructionIndex));
    }

    [Fact]
    public void ReadsMapInMapAndProgramArrayInitialValues()
    {
        CollectionSpec maps = CollectionSpec.Load(TestPrograms.Path("map_in_map"));
        Assert.Equal([new MapSlot(0, "inner_a"), new MapSlot(1, "inner_b")], maps.Map("outer_array").Contents);
        Assert.Equal(MapType.Array, maps.Map("outer_hash").InnerMap!.Type);
        CollectionSpec tails = CollectionSpec.Load(TestPrograms.Path("tail_calls"));
        Assert.Equal([new MapSlot(0, "tail_unused"), new MapSlot(1, "tail_drop")], tails.Map("jumps").Contents);
    }

    [Fact]
    public void LaysOutKconfigExternsLikeLibbpf()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("externs"));
        var kconfig = spec.Externs.Where(e => e.Kind == ExternKind.Kconfig).ToDictionary(e => e.Name);
        // Larger alignment first, then smaller size, then name (libbpf's cmp_externs).
        Assert.Equal(0u, kconfig["CONFIG_BPFSHARP_NOT_A_REAL_OPTION"].Offset);
        Assert.Equal(17u, kconfig["LINUX_HAS_SYSCALL_WRAPPER"].Offset);
        Assert.Equal(18u, kconfig["CONFIG_DEFAULT_HOSTNAME"].Offset);
        Assert.Equal(34u, spec.Map("externs.kconfig").ValueSize);
        Assert.True(spec.Externs.Single(e => e.Name == "_stext").Kind == ExternKind.Ksym);
    }

    [Theory]
    [InlineData("my_object_name", ".rodata", "my_objec.rodata")]
    [InlineData("my_object_name", ".bss", "my_objec.bss")]
    [InlineData("my_object_name", ".kconfig", "my_obje.kconfig")]
    [InlineData("my_object_name", ".rodata.abracadabra", ".rodata.abracad")]
    [InlineData("prog", ".data.custom", ".data.custom")]
    public void NamesGlobalDataMapsLikeLibbpf(string objectName, string section, string expected) =>
        Assert.Equal(expected, ObjectReader.InternalMapName(objectName, section));

    [Fact]
    public void UnknownProgramSectionIsAClearError()
    {
        byte[] image = File.ReadAllBytes(TestPrograms.Path("minimal"));
        // Rename section "xdp" to "xdq": its name shares the string ".relxdp" with its relocation section.
        int at = image.AsSpan().IndexOf(".relxdp\0"u8);
        image[at + 6] = (byte)'q';
        var error = Assert.Throws<BpfObjectException>(() => CollectionSpec.FromBytes(image, "renamed.bpf.o"));
        Assert.Contains("program 'count_runs'", error.Message);
        Assert.Contains("section 'xdq' does not name a BPF program type", error.Message);
    }

    /// <summary>Truncated and corrupted real objects give a BpfObjectException (or still read), never another exception or a hang.</summary>
    [Fact]
    public void CorruptAndTruncatedObjectsGiveClearErrors()
    {
        var random = new Random(1234);
        foreach (string path in TestPrograms.All())
        {
            byte[] original = File.ReadAllBytes(path);
            for (int length = 0; length < original.Length; length += Math.Max(1, original.Length / 97))
            {
                Check(original.AsMemory(0, length), path, $"truncated to {length}");
            }
            for (int round = 0; round < 200; round++)
            {
                byte[] corrupt = (byte[])original.Clone();
                for (int flips = random.Next(1, 8); flips > 0; flips--)
                {
                    corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
                }
                Check(corrupt, path, $"round {round}");
            }
        }

        static void Check(ReadOnlyMemory<byte> image, string path, string what)
        {
            try
            {
                CollectionSpec.FromBytes(image, Path.GetFileName(path));
            }
            catch (BpfObjectException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            catch (Exception e)
            {
                Assert.Fail($"{Path.GetFileName(path)} {what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
    }
}
