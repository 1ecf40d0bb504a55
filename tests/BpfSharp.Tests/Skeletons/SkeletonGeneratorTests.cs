using BpfSharp.Skeletons;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Skeletons;

/// <summary>The generator's choices, seen in its output, and <c>bpfsharp gen skeleton</c> run as the real tool.</summary>
public sealed class SkeletonGeneratorTests
{
    /// <summary>The skeleton of a test program, with the namespaces of the types it names in full taken out, for reading.</summary>
    private static string Generate(string program, SkeletonOptions options) => System.Text.RegularExpressions.Regex.Replace(
        SkeletonGenerator.Generate(CollectionSpec.Load(TestPrograms.Path(program)), File.ReadAllBytes(TestPrograms.Path(program)), options),
        @"global::(System\.Runtime\.\w+|System\.Text|System\.IO|System\.Collections\.Generic|System|BpfSharp\.\w+)\.", "");

    [Fact]
    public void GeneratedCodeNamesEveryTypeItUsesInFull()
    {
        // The CLI's own Program class, or a C struct named "map", must not change what the skeleton's names mean.
        string code = SkeletonGenerator.Generate(TestPrograms.Path("skeleton"), new SkeletonOptions { ObjectPath = "x" });
        Assert.Contains("public global::BpfSharp.Programs.Program Emit => _collection.Program(\"emit\");", code);
        Assert.Contains("public global::BpfSharp.Maps.RingBufferMap Events", code);
        Assert.DoesNotContain("\nusing ", code);
    }

    [Theory]
    [InlineData("exec_event", "ExecEvent")]
    [InlineData("EVENT_EXEC", "EventExec")]
    [InlineData("__pad", "Pad")]
    [InlineData("tcpState", "TcpState")]
    [InlineData(".rodata.config", "RodataConfig")]
    [InlineData("map_kinds.bpf", "MapKindsBpf")]
    [InlineData("4k_pages", "_4kPages")]
    public void CNamesBecomePascalCase(string c, string csharp)
    {
        Assert.Equal(csharp, CSharpNames.Pascal(c));
    }

    [Fact]
    public void MapsGetTheViewTheirKindAndBtfTypesAllow()
    {
        string code = Generate("skeleton", new SkeletonOptions { ObjectPath = "x.bpf.o" });
        Assert.Contains("public RingBufferMap Events => _events ??= new RingBufferMap(_collection.Map(\"events\"));", code);
        Assert.Contains("public HashMap<SampleKey, SampleStats> Stats", code);
        Assert.Contains("public ArrayMap<ulong> Counters", code);
        Assert.Contains("public PerCpuArrayMap<SampleStats> Percpu", code);
        Assert.Contains("CollectionSpec.Load(Path.Combine(AppContext.BaseDirectory, \"x.bpf.o\"))", code);
        Assert.DoesNotContain("ObjectBytes =>", code);
        // The .bpfsharp.types pointer is not a variable; the struct it names is declared.
        Assert.DoesNotContain("__bpfsharp_type", code);
        Assert.Contains("public partial struct SampleEvent", code);
    }

    [Fact]
    public void KernelTypesAreLeftOutUnlessAskedFor()
    {
        // core_task reads task_struct through CO-RE: the kernel's type is not the object's own.
        string code = Generate("core_task", new SkeletonOptions());
        Assert.DoesNotContain("struct TaskStruct", code);
        string asked = Generate("core_task", new SkeletonOptions { Types = ["task_struct"] });
        Assert.Contains("public partial struct TaskStruct", asked);
        var error = Assert.Throws<ArgumentException>(() => Generate("core_task", new SkeletonOptions { Types = ["no_such_type"] }));
        Assert.Contains("no_such_type", error.Message);
    }

    [Fact]
    public void OptionsNameTheClassItsNamespaceAndWhereTheObjectComesFrom()
    {
        string code = Generate("globals", new SkeletonOptions { Namespace = "My.App", ClassName = "Globals", Internal = true, ResourceName = "globals" });
        Assert.Contains("namespace My.App;", code);
        Assert.Contains("internal sealed partial class Globals : IDisposable", code);
        Assert.Contains("CollectionSpec ReadObject() => CollectionSpec.FromResource(typeof(Globals).Assembly, \"globals\")", code);
        Assert.Throws<ArgumentException>(() => SkeletonGenerator.Generate(CollectionSpec.Load(TestPrograms.Path("globals")), [], new SkeletonOptions()));
    }

    [Fact]
    public void TheToolWritesASkeletonWithTheObjectInIt()
    {
        string output = Path.Combine(Path.GetTempPath(), $"bpfsharp-skeleton-{Environment.ProcessId}.cs");
        try
        {
            (int code, _, string error) = RunTool($"gen skeleton {TestPrograms.Path("minimal")} --namespace Demo --output {output}");
            Assert.True(code == 0, error);
            string text = File.ReadAllText(output);
            Assert.Contains("public sealed partial class MinimalBpf : global::System.IDisposable", text);
            int length = File.ReadAllBytes(TestPrograms.Path("minimal")).Length;
            Assert.Contains($"/// <summary>The object file, {length} bytes.</summary>", text);
            Assert.Contains("0x7f, 0x45, 0x4c, 0x46", text); // the ELF magic opens the embedded bytes

            (code, _, error) = RunTool($"gen skeleton {TestPrograms.Path("minimal")} --type nothing_like_it");
            Assert.Equal(1, code);
            Assert.Contains("nothing_like_it", error);
            (code, _, error) = RunTool($"gen skeleton {TestPrograms.Path("minimal")} --from-resource a --from-file b");
            Assert.Equal(2, code);
            Assert.Contains("exclude each other", error);
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static (int ExitCode, string Output, string Error) RunTool(string arguments) =>
        ExternalTool.Execute("dotnet", [Path.Combine(AppContext.BaseDirectory, "bpfsharp.dll"), .. arguments.Split(' ')]);
}
