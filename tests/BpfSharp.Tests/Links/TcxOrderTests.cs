using System.Net;
using System.Net.Sockets;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Programs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>tcx links placed with the kernel's mprog API: BPF_F_BEFORE/BPF_F_AFTER and the expected revision.</summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class TcxOrderTests
{
    private const int TcxNext = -1, TcxDrop = 2;

    [KernelFact]
    public void APositionDecidesWhichProgramsSeeThePacketsADroppingProgramEnds()
    {
        using var net = new VethNamespace();
        // VethNamespace sets permanent neighbour entries: the programs count datagrams, not ARP retries the drop provokes.
        using var counters = Counters(3);
        using Program first = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxNext, slot: 0, name: "count_first");
        using Program drop = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxDrop, slot: 1, name: "drop");
        using Program last = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxNext, slot: 2, name: "count_last");

        // A fresh hook is at revision 1; every attach moves it on by one.
        using TcLink dropping = TcLink.Attach(drop, net.HostIndex, TcDirection.Ingress, new MultiAttachOptions { ExpectedRevision = 1 });
        using TcLink countingLast = TcLink.Attach(last, net.HostIndex, TcDirection.Ingress, new MultiAttachOptions { Position = AttachPosition.After(dropping) });
        using TcLink countingFirst = TcLink.Attach(first, net.HostIndex, TcDirection.Ingress, new MultiAttachOptions { Position = AttachPosition.Before(drop) });

        // Order: count_first, drop, count_last. The drop ends each run: count_last never sees a packet.
        Assert.Equal(0, net.DatagramsDelivered(3));
        Assert.True(counters[0] >= 3, $"count_first saw {counters[0]} packets");
        Assert.True(counters[1] >= 3, $"drop saw {counters[1]} packets");
        Assert.Equal(0UL, counters[2]);

        // A view of the hook from before those attaches is stale: the kernel refuses to act on it.
        using Program late = LoadCounter(ProgramType.SchedCls, counters, AttachType.TcxIngress, TcxNext, slot: 2, name: "late");
        var stale = Assert.Throws<BpfException>(() => TcLink.Attach(late, net.HostIndex, TcDirection.Ingress,
            new MultiAttachOptions { Position = AttachPosition.First, ExpectedRevision = 1 }));
        Assert.Equal(Errno.ESTALE, stale.Errno);
        Assert.Contains("changed since revision 1", stale.Message);

        // A position relative to a program that is not on the hook names the problem.
        var missing = Assert.Throws<BpfException>(() => TcLink.Attach(late, net.HostIndex, TcDirection.Ingress,
            new MultiAttachOptions { Position = AttachPosition.After(late) }));
        Assert.Equal(Errno.ENOENT, missing.Errno);
        Assert.Contains("not attached to this hook", missing.Message);

        // With the current revision (1 + three attaches), 'late' goes first and counts into slot 2.
        using (TcLink lateFirst = TcLink.Attach(late, net.HostIndex, TcDirection.Ingress, new MultiAttachOptions { Position = AttachPosition.First, ExpectedRevision = 4 }))
        {
            Assert.Equal(0, net.DatagramsDelivered(2));
            Assert.True(counters[2] >= 2, $"late saw {counters[2]} packets");
        }

        // Without the drop, every program sees the packets and they are delivered.
        dropping.Dispose();
        ulong lastBefore = counters[2];
        Assert.Equal(2, net.DatagramsDelivered(2));
        Assert.True(counters[2] >= lastBefore + 2);
    }
}
