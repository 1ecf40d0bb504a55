using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BpfSharp.Asm;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using Tracefs = BpfSharp.Tracing.Tracefs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>
/// The fallbacks for kernels without the modern attach mechanisms, forced on this one with
/// <see cref="LegacyAttach.Force"/>: PERF_EVENT_IOC_SET_BPF, tracefs uprobe_events, BPF_PROG_ATTACH to
/// a sockmap; and XDP's netlink fallback, which must not hide a refusal on a kernel with XDP links.
/// </summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class LegacyAttachTests
{
    private const int XdpPass = 2;

    /// <summary>Only this thread's calls count: no other test's getppid, wherever it runs.</summary>
    private static Action<Assembler> ThisThreadOnly(int tid) => asm => asm
        .Call(HelperFunction.GetCurrentPidTgid)
        .Alu(AluOperation.LeftShift, Register.R0, 32)
        .Alu(AluOperation.RightShift, Register.R0, 32)
        .JumpIf(JumpOperation.NotEqual, Register.R0, tid, "out");

    [KernelFact]
    public void TracepointThroughThePerfEventIoctlCountsAndDetachesOnDispose()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Tracepoint, counters, filter: ThisThreadOnly(LibC.GetTid()));
        TracepointLink link;
        using (LegacyAttach.Force())
        {
            link = TracepointLink.Attach(program, "syscalls", "sys_enter_getppid");
        }
        using (link)
        {
            // PERF_EVENT_IOC_SET_BPF makes no BPF link: nothing in the link list runs this program.
            Assert.False(link.IsBpfLink);
            Assert.Null(link.Fd);
            Assert.DoesNotContain(Link.All(), l => l.ProgramId == program.Id);
            for (int i = 0; i < 6; i++)
            {
                GetParentPid();
            }
            Assert.Equal(6UL, counters[0]);
        }
        Assert.True(link.PerfEvent.IsClosed);
        GetParentPid();
        Assert.Equal(6UL, counters[0]);
    }

    [KernelFact]
    public void UprobeThroughUprobeEventsHonoursThePidAndRemovesItsEvent()
    {
        string target = NativeProgram("probe_target");
        string events = Path.Combine(Tracefs.Default.Root, "uprobe_events");
        string ours = $"bpfsharp_{Environment.ProcessId}_";
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Kprobe, counters);
        using Process filtered = SessionLinkTests.StartTarget(5);
        using Process other = SessionLinkTests.StartTarget(4);
        UprobeLink link;
        using (LegacyAttach.Force())
        {
            link = UprobeLink.Attach(program, target, "bpfsharp_add", new UprobeOptions { Pid = filtered.Id });
        }
        string definition;
        string eventDirectory;
        using (link)
        {
            Assert.False(link.IsBpfLink);
            Assert.Equal(filtered.Id, link.Pid);
            // The probe is a tracefs event this process made: p:uprobes/bpfsharp_PID_N PATH:0xOFFSET.
            definition = Assert.Single(File.ReadAllLines(events), line => line.Contains(ours, StringComparison.Ordinal) && line.Contains(target, StringComparison.Ordinal));
            Assert.StartsWith("p:uprobes/" + ours, definition);
            Assert.EndsWith($"{link.FileOffset:x}", definition);
            string name = definition.Split(' ')[0].Split('/')[1];
            eventDirectory = Path.Combine(Tracefs.Default.Root, "events", "uprobes", name);
            Assert.True(Directory.Exists(eventDirectory));

            Assert.Equal("enabled=0 sum=15", Finish(filtered));
            Assert.Equal("enabled=0 sum=10", Finish(other));
            // Five calls of the filtered process; the other process's four are not counted.
            Assert.Equal(5UL, counters[0]);
        }
        // Disposing closed the perf event and removed the tracefs event.
        Assert.DoesNotContain(definition, File.ReadAllLines(events));
        Assert.False(Directory.Exists(eventDirectory));
        using Process after = SessionLinkTests.StartTarget(2);
        Assert.Equal("enabled=0 sum=3", Finish(after));
        Assert.Equal(5UL, counters[0]);
    }

    private static string Finish(Process process) => SessionLinkTests.Finish(process);

    [KernelFact]
    public void SkMsgThroughLegacyProgAttachSeesEverySendUntilDisposed()
    {
        using Map sockmap = Map.Create(new MapSpec { Name = "socks", Type = MapType.SockMap, KeySize = 4, ValueSize = 4, MaxEntries = 2 });
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.SkMsg, counters, AttachType.SkMsgVerdict, returnValue: 1 /* SK_PASS */);
        SockMapLink link;
        using (LegacyAttach.Force())
        {
            link = SockMapLink.Attach(program, sockmap, AttachType.SkMsgVerdict);
        }
        using TcpListener listener = ListenOnLoopback(out _);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using Socket server = listener.AcceptSocket();
        using (link)
        {
            Assert.False(link.IsBpfLink);
            Assert.DoesNotContain(Link.All(), l => l.ProgramId == program.Id);
            sockmap.Update(BitConverter.GetBytes(0), BitConverter.GetBytes((int)client.SafeHandle.DangerousGetHandle()));
            for (int i = 0; i < 3; i++)
            {
                client.Send("hello"u8);
            }
            Assert.Equal(15, Receive(server, 15));
            Assert.Equal(3UL, counters[0]);
            sockmap.TryDelete(BitConverter.GetBytes(0));
        }
        // BPF_PROG_DETACH took the program off the map: a socket put back in it is no longer seen.
        sockmap.Update(BitConverter.GetBytes(0), BitConverter.GetBytes((int)client.SafeHandle.DangerousGetHandle()));
        client.Send("again"u8);
        Assert.Equal(5, Receive(server, 5));
        Assert.Equal(3UL, counters[0]);
        sockmap.TryDelete(BitConverter.GetBytes(0));
        // The map's hook is free again: a link can take it (a program left attached would make that EBUSY).
        using SockMapLink again = SockMapLink.Attach(program, sockmap, AttachType.SkMsgVerdict);
        Assert.True(again.IsBpfLink);
    }

    private static int Receive(Socket server, int expected)
    {
        byte[] buffer = new byte[64];
        int total = 0;
        while (total < expected && server.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead))
        {
            total += server.Receive(buffer);
        }
        return total;
    }

    [KernelFact]
    public void XdpRefusedAsALinkIsNotAttachedThroughNetlinkBehindTheCallersBack()
    {
        Assert.True(KernelSupport.For(HookKind.XdpLink).IsSupported, KernelSupport.For(HookKind.XdpLink).ToString());
        using var net = new VethNamespace();
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Xdp, counters, AttachType.Xdp, XdpPass);
        // XDP_FLAGS_UPDATE_IF_NOEXIST is a netlink flag: links refuse it (EINVAL); netlink would take it.
        var refused = Assert.Throws<BpfException>(() => XdpLink.Attach(program, net.HostIndex, (XdpAttachMode)(1 | (uint)XdpAttachMode.Generic)));
        Assert.Equal(BpfCommand.LinkCreate, refused.Command);
        Assert.Equal(Errno.EINVAL, refused.Errno);
        Assert.Contains("has XDP links and refused this one", refused.Message);
        Assert.DoesNotContain("xdp", MustRun("ip", "link", "show", net.HostInterface));

        using XdpLink link = XdpLink.Attach(program, net.HostIndex, XdpAttachMode.Generic);
        Assert.True(link.IsBpfLink);
        Assert.True(WaitUntil(() =>
        {
            net.SendUdpToHost(9, "x");
            return counters[0] >= 1;
        }, TimeSpan.FromSeconds(5)), "the XDP link saw no packet");
    }
}
