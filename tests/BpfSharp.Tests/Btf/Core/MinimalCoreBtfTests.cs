using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Collections;
using BpfSharp.Specs;
using BpfSharp.Tests.Collections;

namespace BpfSharp.Tests.Btf.Core;

/// <summary>
/// MinimalCoreBtf against this kernel's BTF: every CO-RE relocation of the CO-RE test programs and of the CLI's tools
/// resolves against the minimized BTF exactly as against the whole, and an object loaded against it runs.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class MinimalCoreBtfTests
{
    private static readonly string[] TestObjects = ["core_task", "core_loader", "btf_core", "core_bitfields", "core_type_ids"];
    private static readonly string[] ToolObjects = ["execsnoop", "pagefaults", "writesnoop", "syscount", "profile"];

    private static IEnumerable<CollectionSpec> Objects() =>
        TestObjects.Select(name => CollectionSpec.Load(TestPrograms.Path(name)))
            .Concat(ToolObjects.Select(name => CollectionSpec.FromResource(typeof(BpfSharp.Cli.Tools.ExecsnoopBpf).Assembly, name)));

    [KernelFact]
    public void EveryRelocationResolvesAsAgainstTheWholeKernelBtf()
    {
        List<CollectionSpec> objects = [.. Objects()];
        byte[] minimal = MinimalCoreBtf.Build(KernelBtf.Vmlinux, objects);
        CoreTarget small = CoreTarget.FromSpec(BtfSpec.Parse(minimal), description: "minimal");
        CoreTarget whole = CoreTarget.FromSpec(KernelBtf.Vmlinux, description: "vmlinux");

        int compared = 0;
        foreach (CollectionSpec spec in objects)
        {
            foreach (string section in spec.BtfExt!.CoreRelocations.Keys)
            {
                IReadOnlyList<CoreRelocationResult> expected = CoreRelocator.Resolve(spec.Btf!, spec.BtfExt, section, whole);
                IReadOnlyList<CoreRelocationResult> actual = CoreRelocator.Resolve(spec.Btf!, spec.BtfExt, section, small);
                for (int i = 0; i < expected.Count; i++)
                {
                    string where = $"{spec.Name} {section} #{i} {expected[i].Kind} {expected[i].LocalType} {expected[i].AccessString}";
                    Assert.True(expected[i].IsPoisoned == actual[i].IsPoisoned, $"{where}: poisoned {expected[i].IsPoisoned} vs {actual[i].IsPoisoned} ({actual[i].PoisonReason})");
                    if (expected[i].Kind != BtfCoreRelocationKind.TypeIdTarget) // ids are renumbered by design
                    {
                        Assert.True(expected[i].NewValue == actual[i].NewValue, $"{where}: {expected[i].NewValue} vs {actual[i].NewValue}");
                    }
                    compared++;
                }
            }
        }
        Assert.True(compared > 100, $"only {compared} relocations compared");
        // A few hundred types instead of the kernel's 127k.
        Assert.True(minimal.Length * 50 < KernelBtf.Vmlinux.RawData.Length, $"{minimal.Length} bytes");
    }

    [KernelFact]
    public void AnObjectLoadedAgainstItsMinimalBtfReadsWhatItReadsAgainstTheKernels()
    {
        string file = Path.Combine(Path.GetTempPath(), $"min-core-{Environment.ProcessId}.btf");
        try
        {
            File.WriteAllBytes(file, MinimalCoreBtf.Build(KernelBtf.Vmlinux, [CollectionSpec.Load(TestPrograms.Path("core_loader"))]));
            using Collection collection = Collection.Load(TestPrograms.Path("core_loader"), new CollectionOptions { CoreTarget = CoreTarget.FromFile(file) });
            CorpusLoadTests.AssertCoreLoaderReadsThisTask(collection);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [KernelFact]
    public void TheBytesAreBpftoolsForEachObjectAndForAllTogether()
    {
        string directory = Directory.CreateTempSubdirectory("min-core-btf-").FullName;
        try
        {
            string[] files = [.. TestObjects.Select(TestPrograms.Path)];
            foreach (string[] set in files.Select(f => new[] { f }).Append(files))
            {
                string reference = Path.Combine(directory, "bpftool.btf");
                ExternalTool.Run("bpftool", ["gen", "min_core_btf", KernelBtf.VmlinuxPath, reference, .. set]);
                byte[] ours = MinimalCoreBtf.Build(KernelBtf.Vmlinux, set.Select(CollectionSpec.Load));
                Assert.True(File.ReadAllBytes(reference).AsSpan().SequenceEqual(ours), $"differs from bpftool for {string.Join(", ", set.Select(Path.GetFileName))}");
            }

            // The command writes the same file.
            string written = Path.Combine(directory, "bpfsharp.btf");
            (int code, _, string error) = ExternalTool.Execute("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "bpfsharp.dll"), "gen", "min_core_btf", KernelBtf.VmlinuxPath, written, .. files]);
            Assert.True(code == 0, error);
            Assert.Contains("types", error); // the summary line, on standard error
            Assert.Equal(File.ReadAllBytes(Path.Combine(directory, "bpftool.btf")), File.ReadAllBytes(written));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
