using BpfSharp.Collections;
using BpfSharp.Links;
using BpfSharp.Specs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>
/// USDT through libbpf's own usdt.bpf.h (tests/programs/usdt_args.bpf.c): the object's spec maps
/// are filled by the loader, and BPF_USDT handlers read the argument values the probe target passed.
/// </summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class UsdtEndToEndTests
{
    private const int Count = 3;

    [KernelFact]
    public void AttachAllResolvesTheSectionsBinaryAndTheHandlersReadEveryArgumentKind()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("usdt_args"));
        Assert.Equal("usdt/native/probe_target:bpfsharp:args", collection.SectionOf("on_args"));

        // The sections name native/probe_target relative to the working directory, as libbpf resolves it.
        // Link tests run alone (their collection is not parallel), so changing it briefly is safe.
        string previous = Environment.CurrentDirectory;
        LinkSet links;
        Environment.CurrentDirectory = AppContext.BaseDirectory;
        try
        {
            links = collection.AttachAll();
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
        using (links)
        {
            Assert.Equal(["on_args", "on_tick"], links.Programs.Order(StringComparer.Ordinal));
            var args = Assert.IsType<UsdtLink>(Assert.Single(links.Of("on_args")));
            var tick = Assert.IsType<UsdtLink>(Assert.Single(links.Of("on_tick")));
            Assert.Equal(NativeProgram("probe_target"), args.Sites[0].Path);
            // Two argument layouts, two specs in the one __bpf_usdt_specs map.
            Assert.NotEqual(Assert.Single(args.SpecIds), Assert.Single(tick.SpecIds));

            // Both semaphores are set while attached: the target counts the enabled ticks and fires args.
            Assert.Equal($"enabled={Count} sum=6", RunTarget(NativeProgram("probe_target"), Count));
        }

        Assert.Equal(1UL, collection.Variable("args_hits").Get<ulong>());
        Assert.Equal(8, collection.Variable("arg_count").Get<int>());
        Assert.Equal(ExpectedArguments(Count), ReadArguments(collection));
        Assert.Equal(0L, collection.Variable("usdt_cookie").Get<long>());
        Assert.Equal((ulong)Count, collection.Variable("tick_hits").Get<ulong>());
        Assert.Equal(Count, collection.Variable("tick_last_i").Get<int>());
        Assert.Equal(60L, collection.Variable("tick_last_sum").Get<long>());

        // Detached: the semaphores are clear again, so the target skips the args probe entirely.
        Assert.Equal("enabled=0 sum=6", RunTarget(NativeProgram("probe_target"), Count));
        Assert.Equal(1UL, collection.Variable("args_hits").Get<ulong>());

        // From another directory the relative path names nothing: the error says where it looked, and nothing stays attached.
        Environment.CurrentDirectory = "/";
        try
        {
            var missing = Assert.Throws<BpfException>(() => collection.AttachAll());
            Assert.Contains("attaching program 'on_", missing.Message);
            Assert.Contains("'native/probe_target' does not exist: a relative path is resolved against the working directory (/native/probe_target)", missing.Message);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    [KernelFact]
    public void UsdtLinkWithTheCollectionsMapsPassesTheUserCookie()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("usdt_args"));
        var options = new UsdtOptions
        {
            SpecsMap = collection.Map(AutoAttach.UsdtSpecsMapName),
            IpToSpecIdMap = collection.Map(AutoAttach.UsdtIpToSpecIdMapName),
            Cookie = 0x5EED_0000_0000_0042,
        };
        string target = NativeProgram("probe_target");
        using (UsdtLink link = UsdtLink.Attach(collection.Program("on_args"), target, "bpfsharp", "args", options))
        {
            Assert.NotEqual(0UL, Assert.Single(link.Probes).SemaphoreFileOffset);
            Assert.Equal("enabled=0 sum=15", RunTarget(target, 5));
        }
        Assert.Equal(1UL, collection.Variable("args_hits").Get<ulong>());
        Assert.Equal(0x5EED_0000_0000_0042L, collection.Variable("usdt_cookie").Get<long>());
        Assert.Equal(ExpectedArguments(5), ReadArguments(collection));
        Assert.Equal(0UL, collection.Variable("tick_hits").Get<ulong>());
    }

    /// <summary>What probe_target's fire_args passes for <paramref name="count"/>, sign- or zero-extended to 64 bits.</summary>
    private static long[] ExpectedArguments(int count) =>
    [
        42,                                   // -4@$42: a constant
        -9,                                   // -4@$-9: a negative constant
        (sbyte)(-5 * count),                  // -1@%al: the low byte of a register, signed
        65000,                                // 2@-2(%rbp): unsigned 16 bits in the frame
        -123456 * count,                      // -4@-8(%rbp): a negative int in the frame
        0x1122334455667788L + count,          // -8@%rdx: a whole register
        (byte)(200 + count),                  // 1@%dil: an unsigned byte register, above 127
        -9876543210L,                         // -8@-16(%rbp): a negative long in the frame
    ];

    private static long[] ReadArguments(Collection collection) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(collection.Variable("args").Bytes).ToArray();
}
