using System.Net;
using System.Net.Sockets;
using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class NetworkLinkTests
{
    private const int XdpDrop = 1, XdpPass = 2, TcxDrop = 2, TcxNext = -1, TcActShot = 2, TcActOk = 0;

    /// <summary>Sends datagrams from the namespace to a UDP socket on the host end; returns how many arrived.</summary>
    [KernelFact]
    public void XdpLinkDropsThenPassesPacketsFromAnotherNamespace()
    {
        using var net = new VethNamespace();
        using var counters = Counters(2);
        using Program drop = LoadCounter(ProgramType.Xdp, counters, AttachType.Xdp, XdpDrop, slot: 0, name: "xdp_drop");
        using Program pass = LoadCounter(ProgramType.Xdp, counters, AttachType.Xdp, XdpPass, slot: 1, name: "xdp_pass");
        using (XdpLink link = XdpLink.Attach(drop, net.HostInterface))
        {
            Assert.True(link.IsBpfLink);
            Assert.Equal(0, net.DatagramsDelivered(3));
            Assert.True(counters[0] >= 1, "the XDP program saw no packet");
            var info = Assert.IsType<XdpLinkInfo>(link.Info);
            Assert.Equal(net.HostIndex, info.Ifindex);
            Assert.Equal(drop.Id, info.ProgramId);

            // A second program on the same device and mode is refused while the link holds it.
            var busy = Assert.Throws<BpfException>(() => XdpLink.Attach(pass, net.HostIndex));
            Assert.Equal(BpfCommand.LinkCreate, busy.Command);

            link.Update(pass, expected: drop);
            Assert.Equal(pass.Id, link.Info.ProgramId);
            Assert.Equal(3, net.DatagramsDelivered(3));
            Assert.True(counters[1] >= 3);

            link.Detach();
            ulong seen = counters[1];
            Assert.Equal(2, net.DatagramsDelivered(2));
            Assert.Equal(seen, counters[1]);
        }
        Assert.Equal(2, net.DatagramsDelivered(2));
    }

    [KernelFact]
    public void XdpThroughNetlinkAttachesAndDetaches()
    {
        using var net = new VethNamespace();
        using var counters = Counters();
        using Program drop = LoadCounter(ProgramType.Xdp, counters, AttachType.Xdp, XdpDrop);
        using (XdpLink attachment = XdpLink.AttachWithNetlink(drop, net.HostIndex, XdpAttachMode.Generic))
        {
            Assert.False(attachment.IsBpfLink);
            Assert.Contains("xdpgeneric", MustRun("ip", "link", "show", net.HostInterface));
            Assert.Equal(0, net.DatagramsDelivered(2));
            Assert.True(counters[0] >= 1);
            Assert.Throws<NotSupportedException>(() => attachment.Pin("/sys/fs/bpf/never"));

            // The kernel's extended ack explains a refusal: a second netlink attach must not replace ours.
            var exists = Assert.Throws<BpfException>(() => XdpLink.AttachWithNetlink(drop, net.HostIndex, XdpAttachMode.Generic));
            Assert.Equal("netlink", exists.Operation);
            Assert.Equal(Errno.EBUSY, exists.Errno);
        }
        Assert.DoesNotContain("xdp", MustRun("ip", "link", "show", net.HostInterface));
        Assert.Equal(2, net.DatagramsDelivered(2));
    }

    [KernelFact]
    public void TcxIngressCountsAndDrops()
    {
        using var net = new VethNamespace();
        using var counters = Counters(2);
        using Program count = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxNext, slot: 0, name: "tcx_count");
        using Program drop = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxDrop, slot: 1, name: "tcx_drop");
        using (TcLink counting = TcLink.Attach(count, net.HostInterface, TcDirection.Ingress))
        {
            Assert.True(counting.IsTcx);
            Assert.Equal(3, net.DatagramsDelivered(3));
            Assert.True(counters[0] >= 3);
            var info = Assert.IsType<TcxLinkInfo>(counting.Info);
            Assert.Equal(AttachType.TcxIngress, info.AttachType);
            Assert.Equal(net.HostIndex, info.Ifindex);
            using (TcLink dropping = TcLink.Attach(drop, net.HostIndex, TcDirection.Ingress))
            {
                Assert.Equal(0, net.DatagramsDelivered(2));
                Assert.True(counters[1] >= 1);
            }
            Assert.Equal(2, net.DatagramsDelivered(2));
        }
    }

    [KernelFact]
    public void ClsBpfFilterOnClsactDropsAndIsRemoved()
    {
        using var net = new VethNamespace();
        using var counters = Counters();
        using Program drop = LoadCounter(ProgramType.SchedCls, counters, returnValue: TcActShot, name: "cls_drop");
        using (TcLink filter = TcLink.AttachClassifier(drop, net.HostIndex, TcDirection.Ingress))
        {
            Assert.False(filter.IsTcx);
            Assert.Contains("cls_drop", MustRun("tc", "filter", "show", "dev", net.HostInterface, "ingress"));
            Assert.Equal(0, net.DatagramsDelivered(2));
            Assert.True(counters[0] >= 1);
            var duplicate = Assert.Throws<BpfException>(() => TcLink.AttachClassifier(drop, net.HostIndex, TcDirection.Ingress));
            Assert.Equal(Errno.EEXIST, duplicate.Errno);
        }
        Assert.DoesNotContain("clsact", MustRun("tc", "qdisc", "show", "dev", net.HostInterface));
        Assert.Equal(2, net.DatagramsDelivered(2));
        _ = TcActOk;
    }

    [KernelFact]
    public void CgroupConnect4RefusesConnectionsFromTheCgroupOnly()
    {
        using var cgroup = new TestCgroup();
        using TcpListener listener = ListenOnLoopback(out int port);
        string connect = $"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected";
        using var counters = Counters();
        using Program refuse = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 0, name: "refuse");
        Assert.Contains("connected", cgroup.Bash(connect).Output);
        using (CgroupLink link = CgroupLink.Attach(refuse, cgroup.Path, AttachType.CgroupInet4Connect))
        {
            (int code, string output) = cgroup.Bash(connect);
            Assert.NotEqual(0, code);
            Assert.Contains("Operation not permitted", output);
            Assert.Equal(1UL, counters[0]);
            // Outside the cgroup, connecting still works.
            Assert.Contains("connected", MustRun("bash", "-c", connect));
            var info = Assert.IsType<CgroupLinkInfo>(link.Info);
            Assert.Equal(AttachType.CgroupInet4Connect, info.AttachType);
            Assert.Equal(new DirectoryInfo(cgroup.Path).Exists ? CgroupId(cgroup.Path) : 0, info.CgroupId);
        }
        Assert.Contains("connected", cgroup.Bash(connect).Output);
    }

    private static ulong CgroupId(string path) => ulong.Parse(MustRun("stat", "-c", "%i", path).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    [KernelFact]
    public void LegacyCgroupAttachWithMultiRunsEveryProgram()
    {
        using var cgroup = new TestCgroup();
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters(3);
        using Program first = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 1, slot: 0);
        using Program second = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 1, slot: 1);
        using Program third = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 1, slot: 2);
        using (CgroupLink a = CgroupLink.AttachLegacy(first, cgroup.Path, AttachType.CgroupInet4Connect, CgroupAttachFlags.AllowMulti))
        using (CgroupLink b = CgroupLink.AttachLegacy(second, cgroup.Path, AttachType.CgroupInet4Connect, CgroupAttachFlags.AllowMulti))
        {
            Assert.Contains("connected", cgroup.Bash($"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected").Output);
            Assert.Equal(1UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
            // Replace the second atomically.
            using CgroupLink c = CgroupLink.AttachLegacy(third, cgroup.Path, AttachType.CgroupInet4Connect,
                CgroupAttachFlags.AllowMulti | CgroupAttachFlags.Replace, replace: second);
            Assert.Contains("connected", cgroup.Bash($"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected").Output);
            Assert.Equal(2UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
            Assert.Equal(1UL, counters[2]);
            Assert.Throws<NotSupportedException>(() => a.Info);
        }
        // An exclusive attach now succeeds (every legacy program was detached), runs alone, and keeps others out.
        using (CgroupLink exclusive = CgroupLink.AttachLegacy(first, cgroup.Path, AttachType.CgroupInet4Connect, CgroupAttachFlags.None))
        {
            Assert.Contains("connected", cgroup.Bash($"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected").Output);
            Assert.Equal(3UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
            Assert.Equal(1UL, counters[2]);
            var busy = Assert.Throws<BpfException>(() => CgroupLink.AttachLegacy(second, cgroup.Path, AttachType.CgroupInet4Connect, CgroupAttachFlags.AllowMulti));
            Assert.Equal(Errno.EPERM, busy.Errno);
        }
    }

    private static string Connect(int port) => $"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected";

    [KernelFact]
    public void CgroupSkbEgressDropsDatagramsOfProcessesInTheCgroup()
    {
        using var cgroup = new TestCgroup();
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.LocalEndPoint!).Port;
        string send = $"echo datagram > /dev/udp/127.0.0.1/{port}";
        byte[] buffer = new byte[64];
        bool Arrives(Func<(int, string)> sender)
        {
            sender();
            if (!receiver.Poll(TimeSpan.FromMilliseconds(500), SelectMode.SelectRead))
            {
                return false;
            }
            Assert.Equal("datagram\n", System.Text.Encoding.ASCII.GetString(buffer, 0, receiver.Receive(buffer)));
            return true;
        }
        using var counters = Counters();
        using Program drop = LoadCounter(ProgramType.CgroupSkb, counters, AttachType.CgroupInetEgress, returnValue: 0, name: "egress_drop");
        Assert.True(Arrives(() => cgroup.Bash(send)));
        using (CgroupLink link = CgroupLink.Attach(drop, cgroup.Path, AttachType.CgroupInetEgress))
        {
            (int code, string output) = (0, "");
            Assert.False(Arrives(() => (code, output) = cgroup.Bash(send)));
            Assert.True(counters[0] >= 1, "the egress program saw no packet");
            Assert.NotEqual(0, code);
            Assert.Contains("Operation not permitted", output);
            // Outside the cgroup, datagrams leave.
            Assert.True(Arrives(() => Run("bash", "-c", send)));
            Assert.Equal(AttachType.CgroupInetEgress, Assert.IsType<CgroupLinkInfo>(link.Info).AttachType);
        }
        Assert.True(Arrives(() => cgroup.Bash(send)));
    }

    [KernelFact]
    public void CgroupSockCreateRefusesSocketsInTheCgroupThroughTheLegacyAttach()
    {
        using var cgroup = new TestCgroup();
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters();
        using Program refuse = LoadCounter(ProgramType.CgroupSock, counters, AttachType.CgroupInetSockCreate, returnValue: 0, name: "sock_refuse");
        using (CgroupLink legacy = CgroupLink.AttachLegacy(refuse, cgroup.Path, AttachType.CgroupInetSockCreate, CgroupAttachFlags.None))
        {
            Assert.False(legacy.IsBpfLink);
            (int code, string output) = cgroup.Bash(Connect(port));
            Assert.NotEqual(0, code);
            // bash reports socket(2)'s EPERM; no connection was tried.
            Assert.Contains("Operation not permitted", output);
            Assert.Equal(1UL, counters[0]);
            Assert.Contains("connected", MustRun("bash", "-c", Connect(port)));
            Assert.Equal(1UL, counters[0]);
        }
        Assert.Contains("connected", cgroup.Bash(Connect(port)).Output);
        Assert.Equal(1UL, counters[0]);
    }

    /// <summary>
    /// The legacy attach flags, by their effect on a process in a child cgroup: a parent's program attached with
    /// AllowOverride is replaced by the child's own; an exclusive (no flags) parent program keeps the child from
    /// attaching any; with AllowMulti both the parent's and the child's run, and a refusal by either wins.
    /// </summary>
    [KernelFact]
    public void LegacyCgroupFlagsDecideWhetherAChildOverridesItsParent()
    {
        using var parent = new TestCgroup();
        using var child = new TestCgroup(parent);
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters(2);
        using Program deny = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 0, slot: 0, name: "deny");
        using Program allow = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 1, slot: 1, name: "allow");
        const AttachType Hook = AttachType.CgroupInet4Connect;

        using (CgroupLink parentDeny = CgroupLink.AttachLegacy(deny, parent.Path, Hook, CgroupAttachFlags.AllowOverride))
        {
            // The child inherits the parent's program.
            Assert.DoesNotContain("connected", child.Bash(Connect(port)).Output);
            Assert.Equal(1UL, counters[0]);
            using (CgroupLink childAllow = CgroupLink.AttachLegacy(allow, child.Path, Hook, CgroupAttachFlags.AllowOverride))
            {
                // The child's program overrides the parent's: only it runs there.
                Assert.Contains("connected", child.Bash(Connect(port)).Output);
                Assert.Equal(1UL, counters[0]);
                Assert.Equal(1UL, counters[1]);
                // In the parent, the parent's still refuses.
                Assert.DoesNotContain("connected", parent.Bash(Connect(port)).Output);
                Assert.Equal(2UL, counters[0]);
            }
            Assert.DoesNotContain("connected", child.Bash(Connect(port)).Output);
            Assert.Equal(3UL, counters[0]);
        }

        using (CgroupLink exclusive = CgroupLink.AttachLegacy(deny, parent.Path, Hook, CgroupAttachFlags.None))
        {
            var refused = Assert.Throws<BpfException>(() => CgroupLink.AttachLegacy(allow, child.Path, Hook, CgroupAttachFlags.AllowOverride));
            Assert.Equal(Errno.EPERM, refused.Errno);
            Assert.DoesNotContain("connected", child.Bash(Connect(port)).Output);
            Assert.Equal(4UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
        }

        using (CgroupLink parentMulti = CgroupLink.AttachLegacy(deny, parent.Path, Hook, CgroupAttachFlags.AllowMulti))
        using (CgroupLink childMulti = CgroupLink.AttachLegacy(allow, child.Path, Hook, CgroupAttachFlags.AllowMulti))
        {
            Assert.DoesNotContain("connected", child.Bash(Connect(port)).Output);
            Assert.Equal(5UL, counters[0]);
            Assert.Equal(2UL, counters[1]);
        }
        Assert.Contains("connected", child.Bash(Connect(port)).Output);
        Assert.Equal(5UL, counters[0]);
        Assert.Equal(2UL, counters[1]);
    }

    /// <summary>BPF links in a parent and a child cgroup both run for the child's processes (links are multi-attached).</summary>
    [KernelFact]
    public void CgroupLinksInAParentAndAChildBothRun()
    {
        using var parent = new TestCgroup();
        using var child = new TestCgroup(parent);
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters(2);
        using Program inParent = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 1, slot: 0, name: "in_parent");
        using Program inChild = LoadCounter(ProgramType.CgroupSockAddr, counters, AttachType.CgroupInet4Connect, returnValue: 0, slot: 1, name: "in_child");
        using (CgroupLink parentLink = CgroupLink.Attach(inParent, parent.Path, AttachType.CgroupInet4Connect))
        using (CgroupLink childLink = CgroupLink.Attach(inChild, child.Path, AttachType.CgroupInet4Connect))
        {
            Assert.DoesNotContain("connected", child.Bash(Connect(port)).Output);
            Assert.Equal(1UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
            Assert.Contains("connected", parent.Bash(Connect(port)).Output);
            Assert.Equal(2UL, counters[0]);
            Assert.Equal(1UL, counters[1]);
        }
        Assert.Contains("connected", child.Bash(Connect(port)).Output);
        Assert.Equal(2UL, counters[0]);
    }

    [KernelFact]
    public void SockOpsCountsConnectionEvents()
    {
        using var cgroup = new TestCgroup();
        using TcpListener listener = ListenOnLoopback(out int port);
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.SockOps, counters, AttachType.CgroupSockOps, returnValue: 1);
        using CgroupLink link = CgroupLink.Attach(program, cgroup.Path, AttachType.CgroupSockOps);
        Assert.Contains("connected", cgroup.Bash($"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected").Output);
        Assert.True(counters[0] >= 1, "sockops saw no event");
    }

    [KernelFact]
    public void SkMsgOnASockmapSeesEverySend()
    {
        using Map sockmap = Map.Create(new MapSpec { Name = "socks", Type = MapType.SockMap, KeySize = 4, ValueSize = 4, MaxEntries = 2 });
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.SkMsg, counters, AttachType.SkMsgVerdict, returnValue: 1 /* SK_PASS */);
        using SockMapLink link = SockMapLink.Attach(program, sockmap, AttachType.SkMsgVerdict);
        using TcpListener listener = ListenOnLoopback(out _);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using Socket server = listener.AcceptSocket();
        sockmap.Update(BitConverter.GetBytes(0), BitConverter.GetBytes((int)client.SafeHandle.DangerousGetHandle()));
        for (int i = 0; i < 3; i++)
        {
            client.Send("hello"u8);
        }
        byte[] buffer = new byte[64];
        int total = 0;
        while (total < 15 && server.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead))
        {
            total += server.Receive(buffer);
        }
        Assert.Equal(15, total);
        Assert.Equal(3UL, counters[0]);
        sockmap.TryDelete(BitConverter.GetBytes(0));
        if (link.IsBpfLink)
        {
            Assert.Equal(AttachType.SkMsgVerdict, Assert.IsType<SockMapLinkInfo>(link.Info).AttachType);
        }
    }

    /// <summary>A connected TCP pair on loopback whose accepted (receiving) end is in a sockmap or sockhash.</summary>
    private sealed class StreamPair : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public StreamPair(Map map)
        {
            _listener.Start();
            Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Client.Connect((IPEndPoint)_listener.LocalEndpoint);
            Server = _listener.AcceptSocket();
            map.Update(BitConverter.GetBytes(0), BitConverter.GetBytes((int)Server.SafeHandle.DangerousGetHandle()));
        }

        public Socket Client { get; }
        public Socket Server { get; }

        /// <summary>Reads from <paramref name="socket"/> until <paramref name="expected"/> bytes came or none comes for a while.</summary>
        public static string ReadUpTo(Socket socket, int expected, TimeSpan quiet)
        {
            var text = new System.Text.StringBuilder();
            byte[] buffer = new byte[256];
            while (text.Length < expected && socket.Poll(quiet, SelectMode.SelectRead))
            {
                int read = socket.Receive(buffer);
                if (read == 0)
                {
                    break;
                }
                text.Append(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            }
            return text.ToString();
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
            _listener.Stop();
            _listener.Dispose();
        }
    }

    public enum StreamVerdict { Pass, Drop, RedirectBack }

    /// <summary>
    /// A stream verdict: counts in slot 1, then passes, drops, or redirects the data to the egress of map entry 0 (the
    /// receiving socket itself, so the data goes back to the sender).
    /// </summary>
    private static Program LoadVerdict(CounterSlots counters, Map map, StreamVerdict verdict)
    {
        var asm = new Assembler()
            .Mov(Register.R6, Register.R1)
            .Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, 8))
            .Mov(Register.R2, 1)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
            .Mov(Register.R0, verdict == StreamVerdict.Drop ? 0 : 1);
        if (verdict == StreamVerdict.RedirectBack)
        {
            asm.Mov(Register.R1, Register.R6).LoadMapFd(Register.R2, map.Fd.Value).Mov(Register.R4, 0);
            if (map.Type == MapType.SockHash)
            {
                asm.Store(AccessSize.Word, Register.R10, -4, 0)
                   .Mov(Register.R3, Register.R10)
                   .Alu(AluOperation.Add, Register.R3, -4)
                   .Call(HelperFunction.SkRedirectHash);
            }
            else
            {
                asm.Mov(Register.R3, 0).Call(HelperFunction.SkRedirectMap);
            }
        }
        return Program.Load(new ProgramSpec
        {
            Name = $"verdict_{verdict}".ToLowerInvariant(),
            Type = ProgramType.SkSkb,
            ExpectedAttachType = AttachType.SkSkbStreamVerdict,
            Instructions = asm.Exit().Build(),
            License = "GPL",
        });
    }

    /// <summary>
    /// sk_skb on a sockmap and a sockhash: a stream parser (one message per received chunk: it returns skb->len) and a
    /// stream verdict on the receiving socket. Passing, the receiver reads every byte; dropping, nothing arrives;
    /// redirecting to the socket's own egress, the bytes go back to the sender and the receiver reads none.
    /// </summary>
    [KernelTheory]
    [InlineData(MapType.SockHash, StreamVerdict.Pass)]
    [InlineData(MapType.SockHash, StreamVerdict.Drop)]
    [InlineData(MapType.SockHash, StreamVerdict.RedirectBack)]
    [InlineData(MapType.SockMap, StreamVerdict.Pass)]
    [InlineData(MapType.SockMap, StreamVerdict.RedirectBack)]
    public void SkSkbStreamParserAndVerdictDecideWhatThePeerReads(MapType kind, StreamVerdict verdict)
    {
        using Map map = Map.Create(new MapSpec { Name = "stream_socks", Type = kind, KeySize = 4, ValueSize = 4, MaxEntries = 2 });
        using var counters = Counters(2);
        var parserCode = new Assembler()
            .Mov(Register.R6, Register.R1)
            .Emit(Instruction.LoadMapValue(Register.R1, counters.Map.Fd.Value, 0))
            .Mov(Register.R2, 1)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R1, 0, Register.R2)
            .Load(AccessSize.Word, Register.R0, Register.R6, 0) // __sk_buff.len
            .Exit()
            .Build();
        using Program parser = Program.Load(new ProgramSpec
        {
            Name = "stream_parser",
            Type = ProgramType.SkSkb,
            ExpectedAttachType = AttachType.SkSkbStreamParser,
            Instructions = parserCode,
            License = "GPL",
        });
        using Program verdictProgram = LoadVerdict(counters, map, verdict);
        using SockMapLink parserLink = SockMapLink.Attach(parser, map, AttachType.SkSkbStreamParser);
        using SockMapLink verdictLink = SockMapLink.Attach(verdictProgram, map, AttachType.SkSkbStreamVerdict);
        using var pair = new StreamPair(map);
        try
        {
            const string Message = "hello through sk_skb";
            pair.Client.Send(System.Text.Encoding.ASCII.GetBytes(Message));
            Assert.True(WaitUntil(() => counters[1] >= 1, TimeSpan.FromSeconds(5)), "the stream verdict did not run");
            Assert.True(counters[0] >= 1, "the stream parser did not run");
            string received = StreamPair.ReadUpTo(pair.Server, Message.Length, TimeSpan.FromMilliseconds(verdict == StreamVerdict.Pass ? 2000 : 300));
            string echoed = StreamPair.ReadUpTo(pair.Client, Message.Length, TimeSpan.FromMilliseconds(verdict == StreamVerdict.RedirectBack ? 2000 : 300));
            Assert.Equal(verdict == StreamVerdict.Pass ? Message : "", received);
            Assert.Equal(verdict == StreamVerdict.RedirectBack ? Message : "", echoed);
            if (verdictLink.IsBpfLink)
            {
                Assert.Equal(AttachType.SkSkbStreamVerdict, Assert.IsType<SockMapLinkInfo>(verdictLink.Info).AttachType);
                Assert.Equal(AttachType.SkSkbStreamParser, Assert.IsType<SockMapLinkInfo>(parserLink.Info).AttachType);
            }
        }
        finally
        {
            map.TryDelete(BitConverter.GetBytes(0));
        }
    }

    [KernelFact]
    public void SocketFilterCountsAndDropsDatagrams()
    {
        using var counters = Counters(2);
        using Program keep = LoadCounter(ProgramType.SocketFilter, counters, returnValue: 0xffff, slot: 0, name: "keep");
        using Program drop = LoadCounter(ProgramType.SocketFilter, counters, returnValue: 0, slot: 1, name: "drop");
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        byte[] buffer = new byte[64];
        using (SocketFilterLink filter = SocketFilterLink.Attach(keep, receiver))
        {
            for (int i = 0; i < 3; i++)
            {
                sender.SendTo("datagram"u8, receiver.LocalEndPoint!);
                Assert.True(receiver.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead));
                Assert.Equal(8, receiver.Receive(buffer));
            }
            Assert.Equal(3UL, counters[0]);
        }
        using (SocketFilterLink filter = SocketFilterLink.Attach(drop, receiver))
        {
            sender.SendTo("dropped"u8, receiver.LocalEndPoint!);
            Assert.True(WaitUntil(() => counters[1] == 1, TimeSpan.FromSeconds(2)));
            Assert.False(receiver.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead));
        }
        sender.SendTo("after"u8, receiver.LocalEndPoint!);
        Assert.True(receiver.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead));
        Assert.Equal(5, receiver.Receive(buffer));
        Assert.Equal(1UL, counters[1]);
    }

    [KernelFact]
    public void SkLookupRunsForConnectionsInItsNamespace()
    {
        using var net = new VethNamespace();
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.SkLookup, counters, AttachType.SkLookup, returnValue: 1 /* SK_PASS */);
        using NetnsLink link = NetnsLink.Attach(program, AttachType.SkLookup, net.NamespacePath);
        // Nothing listens: the lookup runs for the SYN, then the connection is refused.
        net.Bash("exec 3<>/dev/tcp/127.0.0.1/9 || true");
        Assert.True(counters[0] >= 1, "sk_lookup did not run");
        var info = Assert.IsType<NetnsLinkInfo>(link.Info);
        Assert.Equal(AttachType.SkLookup, info.AttachType);
        Assert.Equal(ulong.Parse(MustRun("stat", "-L", "-c", "%i", net.NamespacePath).Trim(), System.Globalization.CultureInfo.InvariantCulture), info.NetnsInode);
    }

    [KernelFact]
    public void FlowDissectorAllowsOneProgramPerNamespace()
    {
        using var net = new VethNamespace();
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.FlowDissector, counters, AttachType.FlowDissector, returnValue: 0);
        using NetnsLink link = NetnsLink.Attach(program, AttachType.FlowDissector, net.NamespacePath);
        Assert.Equal(AttachType.FlowDissector, Assert.IsType<NetnsLinkInfo>(link.Info).AttachType);
        var second = Assert.Throws<BpfException>(() => NetnsLink.Attach(program, AttachType.FlowDissector, net.NamespacePath));
        Assert.Contains(second.Errno, new[] { Errno.EEXIST, Errno.E2BIG });
        Assert.Contains("one per namespace", second.Message);
    }

    [KernelFact]
    public void NetfilterCountsLocalInPackets()
    {
        using var counters = Counters();
        using Program program = LoadCounter(ProgramType.Netfilter, counters, AttachType.Netfilter, returnValue: 1 /* NF_ACCEPT */);
        using NetfilterLink link = NetfilterLink.Attach(program, NetfilterProtocolFamily.IPv4, NetfilterHook.LocalIn, priority: -128);
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        ulong before = counters[0];
        sender.SendTo("nf"u8, receiver.LocalEndPoint!);
        Assert.True(receiver.Poll(TimeSpan.FromSeconds(2), SelectMode.SelectRead));
        Assert.True(counters[0] > before);
        var info = Assert.IsType<NetfilterLinkInfo>(link.Info);
        Assert.Equal((uint)NetfilterProtocolFamily.IPv4, info.ProtocolFamily);
        Assert.Equal((uint)NetfilterHook.LocalIn, info.Hook);
        Assert.Equal(-128, info.Priority);
    }

    /// <summary>
    /// The argument check only: registering a struct_ops map, and its programs running on a TCP connection, is
    /// proven by effect in Collections/StructOpsTests (CongestionControlRegistersRunsOnATcpConnectionAndUnregisters).
    /// </summary>
    [KernelFact]
    public void StructOpsRegistrationChecksItsMap()
    {
        using var counters = Counters();
        var error = Assert.Throws<ArgumentException>(() => StructOpsLink.Attach(counters.Map));
        Assert.Equal("map", error.ParamName);
        Assert.Contains("is a Array map, not a struct_ops map", error.Message);
    }
}
