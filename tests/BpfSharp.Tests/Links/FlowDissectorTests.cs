using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BpfSharp.Collections;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using static BpfSharp.Tests.Links.LinkTestSupport;

namespace BpfSharp.Tests.Links;

/// <summary>
/// tests/programs/flow_dissector.bpf.c: a dissector that reports source port 0, so that every sender to a port is
/// one flow. Proven on crafted packets through BPF_PROG_TEST_RUN (the flow keys it fills) and on real packets in a
/// network namespace (the skb hashes the kernel computes with it).
/// </summary>
[Collection(LinkCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class FlowDissectorTests
{
    private const uint BpfOk = 0, BpfDrop = 2;

    [KernelFact]
    public void TestRunReturnsTheFlowKeysTheDissectorFilled()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("flow_dissector"));
        Program dissector = collection.Program("one_flow_per_destination");
        Assert.Equal(ProgramType.FlowDissector, dissector.Type);

        byte[] udp = Packet(protocol: 17, source: IPAddress.Parse("192.0.2.7"), destination: IPAddress.Parse("198.51.100.9"), sourcePort: 5555, destinationPort: 4242);
        TestRunResult result = dissector.TestRun(new TestRunOptions { Data = udp });
        Assert.Equal(BpfOk, result.ReturnValue);
        FlowKeys keys = FlowKeys.Read(result.DataOut);
        Assert.Equal(56, result.DataOut.Length);              // sizeof(struct bpf_flow_keys)
        Assert.Equal(14, keys.NetworkOffset);                  // after the Ethernet header
        Assert.Equal(34, keys.TransportOffset);                // after a 20-byte IPv4 header
        Assert.Equal(0x0800, keys.AddressProtocol);
        Assert.Equal(0x0800, keys.NetworkProtocol);
        Assert.Equal(17, keys.IpProtocol);
        Assert.Equal(0, keys.SourcePort);                      // what this dissector changes
        Assert.Equal(4242, keys.DestinationPort);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), keys.Source);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), keys.Destination);
        Assert.False(keys.IsFragment);
        Assert.Equal(1UL, Count(collection.Map("dissected"), 4242));
        Assert.Equal(1UL, Count(collection.Map("source_ports"), 5555));

        byte[] fragment = Packet(protocol: 6, source: IPAddress.Parse("10.1.2.3"), destination: IPAddress.Parse("10.3.2.1"), sourcePort: 1, destinationPort: 2, fragmentOffset: 0x10);
        result = dissector.TestRun(new TestRunOptions { Data = fragment });
        Assert.Equal(BpfOk, result.ReturnValue);
        keys = FlowKeys.Read(result.DataOut);
        Assert.True(keys.IsFragment);
        Assert.Equal((6, 0, 0), (keys.IpProtocol, keys.SourcePort, keys.DestinationPort));

        byte[] arp = new byte[42];
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(12), 0x0806);
        Assert.Equal(BpfDrop, dissector.TestRun(new TestRunOptions { Data = arp }).ReturnValue);
        Assert.Equal(1UL, Count(collection.Map("dissected"), 4242));
    }

    [KernelFact]
    public void AttachedToANamespaceItDecidesTheHashOfThatNamespacesPackets()
    {
        using var net = new VethNamespace();
        int port = Random.Shared.Next(20000, 30000);
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("flow_dissector"));
        spec.Variable("watched_port").Set((ushort)port);
        using Collection collection = Collection.Load(spec);
        Map hashes = collection.Map("hash_by_source_port");
        using TcLink recorder = net.InNamespace(() => TcLink.Attach(collection.Program("record_hash"), net.PeerInterface, TcDirection.Ingress));

        using var first = new UdpClient(new IPEndPoint(IPAddress.Parse(net.HostAddress), 0));
        using var second = new UdpClient(new IPEndPoint(IPAddress.Parse(net.HostAddress), 0));
        int firstPort = ((IPEndPoint)first.Client.LocalEndPoint!).Port, secondPort = ((IPEndPoint)second.Client.LocalEndPoint!).Port;
        var peer = new IPEndPoint(IPAddress.Parse(net.PeerAddress), port);

        // The kernel's own dissector: two senders, two flows, two hashes.
        (uint a, uint b) = Hashes();
        Assert.NotEqual(a, b);
        Assert.Equal(0UL, Count(collection.Map("dissected"), (ushort)port));

        using (NetnsLink link = NetnsLink.Attach(collection.Program("one_flow_per_destination"), AttachType.FlowDissector, net.NamespacePath))
        {
            // With the program: the source port is left out of the flow, so both senders hash alike.
            (uint withA, uint withB) = Hashes();
            Assert.Equal(withA, withB);
            Assert.True(Count(collection.Map("dissected"), (ushort)port) >= 2);
            Assert.True(Count(collection.Map("source_ports"), (ushort)firstPort) >= 1);
            Assert.True(Count(collection.Map("source_ports"), (ushort)secondPort) >= 1);
        }

        // Detached: the namespace's packets are dissected by the kernel again, with the hashes from before.
        ulong dissected = Count(collection.Map("dissected"), (ushort)port);
        Assert.Equal((a, b), Hashes());
        Assert.Equal(dissected, Count(collection.Map("dissected"), (ushort)port));

        (uint, uint) Hashes()
        {
            hashes.TryDelete(BitConverter.GetBytes((ushort)firstPort));
            hashes.TryDelete(BitConverter.GetBytes((ushort)secondPort));
            first.Send(new byte[] { 1 }, peer);
            second.Send(new byte[] { 2 }, peer);
            byte[] value = new byte[4];
            // The first datagram may wait for ARP; both arrive within moments.
            Assert.True(WaitUntil(() => hashes.TryLookup(BitConverter.GetBytes((ushort)firstPort), value) && hashes.TryLookup(BitConverter.GetBytes((ushort)secondPort), value),
                TimeSpan.FromSeconds(10)), "the tc program saw no datagram from one of the senders");
            hashes.Lookup(BitConverter.GetBytes((ushort)firstPort), value);
            uint hashA = BitConverter.ToUInt32(value);
            hashes.Lookup(BitConverter.GetBytes((ushort)secondPort), value);
            return (hashA, BitConverter.ToUInt32(value));
        }
    }

    private static ulong Count(Map map, ushort key)
    {
        byte[] value = new byte[8];
        return map.TryLookup(BitConverter.GetBytes(key), value) ? BitConverter.ToUInt64(value) : 0;
    }

    /// <summary>An Ethernet + IPv4 + UDP/TCP-ports packet; <paramref name="fragmentOffset"/> in 8-byte units.</summary>
    private static byte[] Packet(byte protocol, IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, ushort fragmentOffset = 0)
    {
        byte[] packet = new byte[14 + 20 + 8 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(12), 0x0800);
        Span<byte> ip = packet.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(packet.Length - 14));
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], fragmentOffset);
        ip[8] = 64;
        ip[9] = protocol;
        source.GetAddressBytes().CopyTo(ip[12..]);
        destination.GetAddressBytes().CopyTo(ip[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(ip[20..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(ip[22..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(ip[24..], 12);
        return packet;
    }

    /// <summary>struct bpf_flow_keys, as the test run returns it (ports and protocols in host order here).</summary>
    private readonly record struct FlowKeys(ushort NetworkOffset, ushort TransportOffset, ushort AddressProtocol, bool IsFragment, byte IpProtocol,
        ushort NetworkProtocol, ushort SourcePort, ushort DestinationPort, IPAddress Source, IPAddress Destination)
    {
        public static FlowKeys Read(ReadOnlySpan<byte> keys) => new(
            BinaryPrimitives.ReadUInt16LittleEndian(keys),
            BinaryPrimitives.ReadUInt16LittleEndian(keys[2..]),
            BinaryPrimitives.ReadUInt16LittleEndian(keys[4..]),
            keys[6] != 0,
            keys[9],
            BinaryPrimitives.ReadUInt16BigEndian(keys[10..]),
            BinaryPrimitives.ReadUInt16BigEndian(keys[12..]),
            BinaryPrimitives.ReadUInt16BigEndian(keys[14..]),
            new IPAddress(keys.Slice(16, 4)),
            new IPAddress(keys.Slice(20, 4)));
    }
}
