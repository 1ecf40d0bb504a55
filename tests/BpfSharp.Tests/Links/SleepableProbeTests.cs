using System.Diagnostics;
using System.Text;
using BpfSharp.Collections;
using BpfSharp.Links;
using BpfSharp.Programs;
using BpfSharp.Specs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>
/// Sleepable uprobes and USDT probes (tests/programs/sleepable_probes.bpf.c on tests/native/user_buffer.c): the
/// programs load with BPF_F_SLEEPABLE, run on the target's calls, and read the target's buffer argument with
/// bpf_copy_from_user (a helper only sleepable programs may call); the tests read the copied text back.
/// </summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class SleepableProbeTests
{
    private static string Target => NativeProgram("user_buffer");

    /// <summary>Runs the target with <paramref name="text"/> (it waits for a line on stdin first) and returns its output.</summary>
    private static string RunWithText(string text)
    {
        var start = new ProcessStartInfo(Target, [text]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process process = Process.Start(start)!;
        process.StandardInput.WriteLine("go");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd().Trim();
        Assert.True(process.WaitForExit(10_000), "the target did not finish");
        return output;
    }

    private static string Text(Variable variable)
    {
        ReadOnlySpan<byte> bytes = variable.Bytes;
        int end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }

    [KernelFact]
    public void SleepableUprobeCopiesTheUserBufferArgument()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("sleepable_probes"));
        Assert.True(spec.Program("consume").Flags.HasFlag(ProgramFlags.Sleepable));
        Assert.True(spec.Program("message").Flags.HasFlag(ProgramFlags.Sleepable));
        using Collection collection = Collection.Load(spec);
        Program consume = collection.Program("consume");
        using (UprobeLink link = UprobeLink.Attach(consume, Target, "bpfsharp_consume"))
        {
            Assert.Equal("consumed=26", RunWithText("copied from user memory!!"));
        }
        Assert.Equal(1UL, collection.Variable("uprobe_hits").Get<ulong>());
        Assert.Equal(0L, collection.Variable("uprobe_result").Get<long>());
        Assert.Equal(25L, collection.Variable("uprobe_length").Get<long>());
        Assert.Equal("copied from user memory!!", Text(collection.Variable("uprobe_text")));

        // Detached: another run is not seen.
        Assert.Equal("consumed=6", RunWithText("other"));
        Assert.Equal(1UL, collection.Variable("uprobe_hits").Get<ulong>());
    }

    [KernelFact]
    public void SleepableUsdtCopiesTheUserBufferArgument()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("sleepable_probes"));
        Program message = collection.Program("message");
        using (UsdtLink link = UsdtLink.Attach(message, Target, "bpfsharp", "message", new UsdtOptions
        {
            SpecsMap = collection.Map(AutoAttach.UsdtSpecsMapName),
            IpToSpecIdMap = collection.Map(AutoAttach.UsdtIpToSpecIdMapName),
        }))
        {
            Assert.Equal("consumed=13", RunWithText("usdt message"));
        }
        Assert.Equal(1UL, collection.Variable("usdt_hits").Get<ulong>());
        Assert.Equal(0L, collection.Variable("usdt_result").Get<long>());
        Assert.Equal(12L, collection.Variable("usdt_length").Get<long>());
        Assert.Equal("usdt message", Text(collection.Variable("usdt_text")));
    }
}
