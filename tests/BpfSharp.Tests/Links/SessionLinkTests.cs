using System.Diagnostics;
using BpfSharp.Collections;
using BpfSharp.Features;
using BpfSharp.Links;
using BpfSharp.Programs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>uprobe.session and kprobe.session links, and what AutoAttach says about kinds it cannot attach.</summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class SessionLinkTests
{
    /// <summary>Starts probe_target (it waits for a line on stdin before calling bpfsharp_add <paramref name="count"/> times).</summary>
    internal static Process StartTarget(int count)
    {
        var start = new ProcessStartInfo(NativeProgram("probe_target"), count.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        return Process.Start(start)!;
    }

    /// <summary>Lets a started probe_target run and returns its output line.</summary>
    internal static string Finish(Process process)
    {
        process.StandardInput.WriteLine("go");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd().Trim();
        Assert.True(process.WaitForExit(10_000), "the probe target did not finish");
        return output;
    }

    [KernelFact]
    public void UprobeSessionRunsAtEntryAndReturnAndANonZeroEntrySkipsTheReturn()
    {
        string target = NativeProgram("probe_target");
        using Collection collection = Collection.Load(TestPrograms.Path("uprobe_session"));
        Program program = collection.Program("on_add");
        using Process filtered = StartTarget(5);
        using Process other = StartTarget(5);
        using (UprobeMultiLink link = UprobeMultiLink.AttachSession(program, target, ["bpfsharp_add"], pid: filtered.Id))
        {
            Assert.True(link.IsSession);
            Assert.Equal(1, link.Count);
            var info = Assert.IsType<UprobeMultiLinkInfo>(link.Info);
            Assert.Equal(target, info.Path);
            Assert.Equal(filtered.Id, info.Pid);
            Assert.Equal("enabled=0 sum=15", Finish(filtered));
            Assert.Equal("enabled=0 sum=15", Finish(other)); // another process: not counted
            // bpfsharp_add(sum, i) for i = 1..5: five entries; returns only for odd i, whose entry runs
            // returned 0: add(0,1) = 1, add(3,3) = 6, add(10,5) = 15.
            Assert.Equal(5UL, collection.Variable("entries").Get<ulong>());
            Assert.Equal(3UL, collection.Variable("returns").Get<ulong>());
            Assert.Equal(22UL, collection.Variable("returned_sum").Get<ulong>());
        }
        // Detached: the next run changes nothing.
        using Process after = StartTarget(3);
        Assert.Equal("enabled=0 sum=6", Finish(after));
        Assert.Equal(5UL, collection.Variable("entries").Get<ulong>());
        Assert.Equal(3UL, collection.Variable("returns").Get<ulong>());
    }

    [KernelFact]
    public void UprobeSessionAutoAttachesFromItsSectionNameAndAttachAllSaysWhyNotWithoutATarget()
    {
        string target = NativeProgram("probe_target");
        using Collection collection = Collection.Load(TestPrograms.Path("uprobe_session"));
        Assert.Equal("uprobe.session", collection.SectionOf("on_add"));

        // The object's own section names no binary: AttachAll leaves the program and says why.
        using (LinkSet links = collection.AttachAll())
        {
            Assert.Empty(links);
            Assert.Contains("names no target", links.NotAttached["on_add"]);
        }

        string section = $"uprobe.session/{target}:bpfsharp_ad?";
        Assert.True(AutoAttach.CanAttach(section));
        IReadOnlyList<Link> made = AutoAttach.Attach(collection.Program("on_add"), section);
        try
        {
            Assert.True(Assert.IsType<UprobeMultiLink>(Assert.Single(made)).IsSession);
            Assert.Equal("enabled=0 sum=10", RunTarget(target, 4));
            // i = 1..4: four entries, returns for i = 1 and 3: add(0,1) = 1, add(3,3) = 6.
            Assert.Equal(4UL, collection.Variable("entries").Get<ulong>());
            Assert.Equal(2UL, collection.Variable("returns").Get<ulong>());
            Assert.Equal(7UL, collection.Variable("returned_sum").Get<ulong>());
        }
        finally
        {
            foreach (Link link in made)
            {
                link.Dispose();
            }
        }
    }

    [KernelFact]
    public void KprobeSessionNamesTheMissingFeature()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters, AttachType.TraceKprobeSession);
        Assert.True(AutoAttach.CanAttach("kprobe.session/vfs_read"));
        if (KernelSupport.For(HookKind.KprobeSession).IsSupported)
        {
            using KprobeMultiLink link = KprobeMultiLink.AttachSession(program, [KprobeLink.SyscallFunction("getppid")]);
            Assert.True(link.IsSession);
            GetParentPid();
            Assert.True(counters[0] >= 2, "a session program runs at entry and return");
            return;
        }
        // This machine has no kprobes: the error names the link kind, what is missing and the alternatives.
        var error = Assert.Throws<BpfException>(() => KprobeMultiLink.AttachSession(program, ["vfs_read"]));
        Assert.Equal(BpfSharp.Kernel.BpfCommand.LinkCreate, error.Command);
        Assert.Contains("kprobe.session links are not available", error.Message);
        if (!KernelSupport.For(HookKind.Kprobe).IsSupported)
        {
            Assert.Contains("CONFIG_KPROBES", error.Message);
        }
        Assert.Contains("tracepoints", error.Message);
        var auto = Assert.Throws<BpfException>(() => AutoAttach.Attach(program, "kprobe.session/vfs_read"));
        Assert.Contains("kprobe.session links are not available", auto.Message);
        Assert.Equal(0UL, counters[0]);
    }
}

/// <summary>What AutoAttach says it attaches, without a kernel.</summary>
public sealed class AutoAttachReasonTests
{
    [Theory]
    [InlineData("fentry.multi/vfs_*", "TracingLink")]
    [InlineData("fexit.multi.s/vfs_*", "TracingLink")]
    [InlineData("fsession.multi/vfs_*", "TracingLink")]
    [InlineData("xdp", "Link type")]
    [InlineData("uprobe.session", "names no target")]
    [InlineData("kprobe.session", "names no target")]
    [InlineData("not_a_section", "not a BPF program section")]
    public void KindsItCannotAttachSayNoAndWhy(string section, string reason)
    {
        Assert.False(AutoAttach.CanAttach(section));
        Assert.Contains(reason, AutoAttach.WhyNotAttachable(section));
    }

    [Theory]
    [InlineData("uprobe.session/libc.so.6:getppid")]
    [InlineData("uprobe.session.s/libc.so.6:getppid")]
    [InlineData("kprobe.session/vfs_*")]
    [InlineData("tracepoint/syscalls/sys_enter_getppid")]
    [InlineData("fentry/vfs_read")]
    public void KindsItAttachesSayYes(string section)
    {
        Assert.True(AutoAttach.CanAttach(section));
        Assert.Null(AutoAttach.WhyNotAttachable(section));
    }
}
