using System.Diagnostics;
using BpfSharp.Asm;
using BpfSharp.Features;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Features;

[Trait("Category", "Kernel")]
public class KernelSupportTests
{
    [KernelTheory]
    [InlineData(ProgramType.SocketFilter)]
    [InlineData(ProgramType.Xdp)]
    [InlineData(ProgramType.Tracepoint)]
    [InlineData(ProgramType.RawTracepoint)]
    [InlineData(ProgramType.SchedCls)]
    [InlineData(ProgramType.CgroupSockAddr)] // needs an expected attach type
    [InlineData(ProgramType.SkLookup)]       // needs an expected attach type
    [InlineData(ProgramType.Syscall)]        // needs the sleepable flag
    public void ProgramTypesThisKernelHasAreSupported(ProgramType type)
    {
        FeatureResult result = KernelSupport.ForProgramType(type);
        Assert.True(result.IsSupported, result.ToString());
    }

    [KernelTheory]
    [InlineData(MapType.Hash)]
    [InlineData(MapType.Array)]
    [InlineData(MapType.RingBuf)]      // page-sized
    [InlineData(MapType.LpmTrie)]      // no-prealloc and a prefix key
    [InlineData(MapType.Queue)]        // key size 0
    [InlineData(MapType.BloomFilter)]  // key size 0
    [InlineData(MapType.ArrayOfMaps)]  // inner map
    [InlineData(MapType.SkStorage)]    // BTF for key and value
    [InlineData(MapType.TaskStorage)]  // BTF for key and value
    [InlineData(MapType.Arena)]        // mmapable, pages
    public void MapTypesThisKernelHasAreSupported(MapType type)
    {
        FeatureResult result = KernelSupport.ForMapType(type);
        if (type == MapType.Arena && result.Status == FeatureStatus.Refused)
        {
            // Some machines of this kind refuse arenas to root (EPERM from the map's creation, a security
            // policy): the probe must then say so, not call the type unknown.
            Assert.Contains("EPERM although the process is root", result.Detail);
            return;
        }
        Assert.True(result.IsSupported, result.ToString());
    }

    [KernelFact]
    public void MapTypeUnknownToTheKernelIsUnsupported()
    {
        FeatureResult result = KernelSupport.ForMapType((MapType)4000);
        Assert.Equal(FeatureStatus.Unsupported, result.Status);
        Assert.Contains("EINVAL", result.Detail);
    }

    [KernelFact]
    public void HelpersAreClassifiedByTheVerifiersAnswer()
    {
        Assert.Equal(FeatureStatus.Supported, KernelSupport.ForHelper(ProgramType.Xdp, HelperFunction.MapLookupElem).Status);
        Assert.Equal(FeatureStatus.Supported, KernelSupport.ForHelper(ProgramType.Xdp, HelperFunction.KtimeGetNs).Status);

        // A helper the type may not call, and an id no kernel knows.
        FeatureResult probeRead = KernelSupport.ForHelper(ProgramType.Xdp, HelperFunction.SkbStoreBytes);
        Assert.Equal(FeatureStatus.Unsupported, probeRead.Status);
        Assert.Contains("cannot use helper", probeRead.Detail);
        FeatureResult unknown = KernelSupport.ForHelper(ProgramType.SocketFilter, (HelperFunction)100_000);
        Assert.Equal(FeatureStatus.Unsupported, unknown.Status);
        Assert.Contains("invalid func", unknown.Detail);
    }

    [KernelFact]
    public void KprobesAreUnsupportedHereAndSaySo()
    {
        FeatureResult result = KernelSupport.For(HookKind.Kprobe);
        Assert.Equal(FeatureStatus.Unsupported, result.Status);
        Assert.Contains("CONFIG_KPROBES", result.Detail);
        Assert.Contains("tracepoint", result.Detail);
    }

    [KernelFact]
    public void TracingProgramsAreRefusedNotUnsupported()
    {
        // This kernel knows fentry but refuses it with EPERM even to root.
        FeatureResult result = KernelSupport.ForProgramType(ProgramType.Tracing);
        Assert.Equal(FeatureStatus.Refused, result.Status);
        Assert.Contains("EPERM", result.Detail);
        Assert.Equal(FeatureStatus.Refused, KernelSupport.For(HookKind.Fentry).Status);
        Assert.Equal(FeatureStatus.Refused, KernelSupport.ForHelper(ProgramType.Lsm, HelperFunction.KtimeGetNs).Status);
    }

    [KernelFact]
    public void AttachKindsProbedThroughLinkCreateAnswer()
    {
        Assert.True(KernelSupport.For(HookKind.RawTracepoint).IsSupported, KernelSupport.For(HookKind.RawTracepoint).ToString());
        Assert.True(KernelSupport.For(HookKind.Tracepoint).IsSupported, KernelSupport.For(HookKind.Tracepoint).ToString());
        FeatureResult tcx = KernelSupport.For(HookKind.Tcx);
        Assert.True(tcx.IsSupported, tcx.ToString());
        Assert.Contains("ENODEV", tcx.Detail);
    }

    [KernelFact]
    public void KernelFactsMatchWhatTheKernelPublishes()
    {
        Assert.Equal(File.Exists("/sys/kernel/btf/vmlinux"), KernelSupport.For(KernelFeature.VmlinuxBtf).IsSupported);
        string jit = File.ReadAllText("/proc/sys/net/core/bpf_jit_enable").Trim();
        Assert.Equal(jit != "0", KernelSupport.For(KernelFeature.JitEnabled).IsSupported);
        Assert.Contains($"is {jit}", KernelSupport.For(KernelFeature.JitEnabled).Detail);
        string unprivileged = File.ReadAllText("/proc/sys/kernel/unprivileged_bpf_disabled").Trim();
        Assert.Equal(unprivileged == "0", KernelSupport.For(KernelFeature.UnprivilegedBpf).IsSupported);
        Assert.True(KernelSupport.For(KernelFeature.Tracefs).IsSupported); // test.sh mounts it
        Assert.True(KernelSupport.For(KernelFeature.SoftwarePerfEvents).IsSupported);
        Assert.Equal(FeatureStatus.Unsupported, KernelSupport.For(KernelFeature.HardwarePerfEvents).Status); // a VM without a PMU
        Assert.True(KernelSupport.For(KernelFeature.BpfLink).IsSupported);
        Assert.True(KernelSupport.For(KernelFeature.RingBuffer).IsSupported);
        Assert.True(KernelSupport.For(KernelFeature.BpfCookie).IsSupported);
    }

    [KernelFact]
    public void ResultsAreProbedOnceAndSharedAcrossThreads()
    {
        var results = new FeatureResult[16];
        Parallel.For(0, results.Length, i => results[i] = KernelSupport.ForHelper(ProgramType.SchedCls, HelperFunction.SkbLoadBytes));
        Assert.All(results, result => Assert.Same(results[0], result));
        Assert.True(results[0].IsSupported, results[0].ToString());
    }

    [KernelFact]
    public void VmlinuxFunctionIdsAgreeWithBpftool()
    {
        uint? id = VmlinuxFunctions.FindId("bpf_fentry_test1");
        Assert.NotNull(id);
        var bpftool = Process.Start(new ProcessStartInfo("bpftool", $"btf dump file {VmlinuxFunctions.Path} format raw")
        {
            RedirectStandardOutput = true,
        })!;
        string line = "";
        while (bpftool.StandardOutput.ReadLine() is string next)
        {
            if (next.Contains("FUNC 'bpf_fentry_test1'", StringComparison.Ordinal))
            {
                line = next;
            }
        }
        bpftool.WaitForExit();
        Assert.StartsWith($"[{id}] FUNC 'bpf_fentry_test1'", line);
        Assert.Null(VmlinuxFunctions.FindId("no_such_function_in_any_kernel"));
    }
}
