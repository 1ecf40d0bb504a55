using System.Text.RegularExpressions;
using BpfSharp.Btf;
using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// Targets of BTF-attached programs the loader resolves (tests/programs/trampoline_targets.bpf.c): a function of
/// another BPF program for freplace and fentry (looked up in that program's BTF), a module function
/// (fentry/MODULE:FUNCTION, in the module's BTF) and a vmlinux function. This kernel refuses trampoline programs
/// (EPERM), so where a load is refused the test checks the id that went with it and the error; where a kernel
/// accepts, it checks what the kernel recorded and that the program runs.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(LinkCollection.Name)]
public sealed class AttachTargetTests
{
    private static CollectionSpec Only(string program)
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("trampoline_targets"));
        foreach (ProgramSpec other in spec.Programs.Values)
        {
            other.Autoload = other.Name == program;
        }
        return spec;
    }

    /// <summary>The id bpftool reports for FUNC <paramref name="function"/> in the BTF object with id <paramref name="btfId"/>.</summary>
    private static uint BpftoolFunctionId(uint btfId, string function)
    {
        string dump = ExternalTool.Run("bpftool", "btf", "dump", "id", btfId.ToString());
        Match match = Regex.Match(dump, $@"^\[(\d+)\] FUNC '{Regex.Escape(function)}'", RegexOptions.Multiline);
        Assert.True(match.Success, $"bpftool shows no FUNC '{function}' in BTF {btfId}");
        return uint.Parse(match.Groups[1].Value);
    }

    [KernelTheory]
    [InlineData("replace_verdict", ProgramType.Ext)]
    [InlineData("enter_verdict", ProgramType.Tracing)]
    public void ProgramTargetsResolveTheFunctionInTheTargetsBtf(string program, ProgramType type)
    {
        using Collection target = Collection.Load(TestPrograms.Path("freplace_target"));
        Program decide = target.Program("decide");
        uint expected = BpftoolFunctionId(decide.GetInfo().BtfId, "bpfsharp_verdict");

        // The resolution itself, on the spec as the collection passes it to the kernel.
        ProgramSpec load = Only(program).Program(program).Copy();
        Assert.Equal(type, load.Type);
        load.AttachTarget = decide.Fd;
        AttachTargets.Resolve(load, _ => throw new InvalidOperationException("no module is involved"));
        Assert.Equal(expected, load.AttachBtfId);

        // Through the collection: the kernel's answer.
        var options = new CollectionOptions().SetAttachTarget(program, decide);
        Collection loaded;
        try
        {
            loaded = Collection.Load(Only(program), options);
        }
        catch (BpfException e) when (e.Errno == Errno.EPERM)
        {
            // This kernel refuses trampolines and freplace for root too: the error says so, and what the load was for.
            Assert.Contains($"loading program '{program}'", e.Message);
            Assert.Contains($"'bpfsharp_verdict' (BTF id {expected})", e.Message);
            Assert.Contains("even for root", e.Message);
            Assert.DoesNotContain("memlock", e.Message, StringComparison.OrdinalIgnoreCase);
            return;
        }
        using (loaded)
        {
            ProgramInfo info = loaded.Program(program).GetInfo();
            Assert.Equal(expected, info.AttachBtfId);
            Assert.Equal(decide.GetInfo().BtfId, info.AttachBtfObjectId);
        }
    }

    [KernelFact]
    public void FreplaceWithoutATargetSaysHowToGiveOne()
    {
        BpfException error = Assert.Throws<BpfException>(() => Collection.Load(Only("replace_verdict")));
        Assert.Contains("freplace program 'replace_verdict' needs the program whose function 'bpfsharp_verdict' it replaces", error.Message);
        Assert.Contains("SetAttachTarget", error.Message);
    }

    [KernelFact]
    public void AFunctionTheTargetLacksIsNamed()
    {
        using Collection target = Collection.Load(TestPrograms.Path("freplace_target"));
        var options = new CollectionOptions().SetAttachTarget("replace_verdict", target.Program("decide"), "bpfsharp_no_such_function");
        BpfException error = Assert.Throws<BpfException>(() => Collection.Load(Only("replace_verdict"), options));
        Assert.Contains("attaches to function 'bpfsharp_no_such_function' of program 'decide'", error.Message);
        Assert.Contains("has no function of that name", error.Message);
    }

    [KernelFact]
    public void AModuleTargetNamesTheMissingModule()
    {
        Assert.False(Directory.Exists("/sys/kernel/btf/bpfsharp_no_module"));
        BpfException error = Assert.Throws<BpfException>(() => Collection.Load(Only("enter_module_function")));
        Assert.Contains("attaches to 'bpfsharp_no_module:bpfsharp_function', but module 'bpfsharp_no_module' is not loaded or has no BTF", error.Message);
        Assert.Contains("modprobe bpfsharp_no_module", error.Message);
    }

    [KernelFact]
    public void AModuleTargetIsLookedUpInTheModulesBtfAndPassesItsBtfObject()
    {
        // With a module loaded (none is on the test VM), its function resolves to an id of its split BTF.
        string? module = KernelBtf.ModuleNames().FirstOrDefault();
        if (module is null)
        {
            return;
        }
        BtfSpec btf = KernelBtf.Module(module);
        BtfType function = btf.OwnTypes.First(t => t.Kind == BtfKind.Function);
        ProgramSpec load = Only("enter_module_function").Program("enter_module_function").Copy();
        load.AttachTo = $"{module}:{function.Name}";
        // Any descriptor stands for the module's BTF object here: the test checks it is the one passed on.
        using BtfObject someBtf = BtfObject.FromId(BtfObject.AllIds()[0]);
        string? asked = null;
        AttachTargets.Resolve(load, name => { asked = name; return someBtf.Fd; });
        Assert.Equal((module, (uint)function.Id), (asked, load.AttachBtfId));
        Assert.Same(someBtf.Fd, load.AttachTarget);
    }

    [KernelFact]
    public void AVmlinuxTargetResolvesAndTheRefusalIsPlain()
    {
        uint expected = (uint)KernelBtf.Vmlinux.FindType("tcp_sendmsg", BtfKind.Function).Id;
        Collection loaded;
        try
        {
            loaded = Collection.Load(Only("enter_tcp_sendmsg"));
        }
        catch (BpfException e) when (e.Errno == Errno.EPERM)
        {
            Assert.Contains($"'tcp_sendmsg' (BTF id {expected}) in vmlinux", e.Message);
            Assert.Contains("even for root", e.Message);
            return;
        }
        using (loaded)
        {
            Assert.Equal(expected, loaded.Program("enter_tcp_sendmsg").GetInfo().AttachBtfId);
        }
    }
}
