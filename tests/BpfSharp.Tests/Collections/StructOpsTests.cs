using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BpfSharp.Btf;
using BpfSharp.Collections;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;
using BpfSharp.Tests.Links;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// A TCP congestion control written in BPF (tests/programs/struct_ops_tcp.bpf.c), loaded through a collection and
/// registered both ways: by updating its <c>.struct_ops</c> map and as the BPF link of its <c>.struct_ops.link</c>
/// map. A loopback connection that selects it with TCP_CONGESTION proves the kernel runs it. In the link tests'
/// collection: the ops names are global and the ledger checks nothing is left behind.
/// </summary>
[Trait("Category", "Kernel")]
[Collection(LinkCollection.Name)]
public sealed class StructOpsTests
{
    private const string AvailablePath = "/proc/sys/net/ipv4/tcp_available_congestion_control";
    private const int TcpCongestion = 13; // TCP_CONGESTION
    private const uint StateInUse = 1, StateReady = 3; // enum bpf_struct_ops_state: INIT, INUSE, TOBEFREE, READY
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [KernelTheory]
    [InlineData("bpfsharp_reno", "bpfsharp_reno", false)]
    [InlineData("bpfsharp_reno_link", "bpfsharp_renol", true)]
    public void CongestionControlRegistersRunsOnATcpConnectionAndUnregisters(string mapName, string algorithm, bool asLink)
    {
        Assert.DoesNotContain(algorithm, Available());
        var programIds = new List<uint>();
        var mapIds = new List<uint>();
        uint linkId = 0;
        using (Collection collection = Collection.Load(TestPrograms.Path("struct_ops_tcp")))
        {
            Map map = collection.Map(mapName);
            Assert.Equal(MapType.StructOps, map.Type);
            BtfType wrapper = KernelBtf.Vmlinux.FindType("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct);
            Assert.Equal(wrapper.Size, map.ValueSize);
            Assert.Equal((uint)wrapper.Id, map.BtfVmlinuxValueTypeId);
            Assert.Equal(asLink, map.Flags.HasFlag(MapFlags.Link));
            programIds.AddRange(collection.Programs.Values.Select(p => p.Id));
            mapIds.AddRange(collection.Maps.Values.Select(m => m.Id));

            // Each program was loaded for the member it fills: attach_btf_id is the ops struct, the attach type its index.
            int opsId = KernelBtf.Vmlinux.FindType("tcp_congestion_ops", BtfKind.Struct).Id;
            ProgramInfo ssthresh = collection.Program("bpfsharp_ssthresh").GetInfo();
            Assert.Equal((uint)opsId, ssthresh.AttachBtfId);

            ulong initBefore = collection.Variable("init_calls").Get<ulong>();
            ulong avoidBefore = collection.Variable("cong_avoid_calls").Get<ulong>();
            ulong releaseBefore = collection.Variable("release_calls").Get<ulong>();
            using (StructOpsLink registration = collection.AttachStructOps(mapName))
            {
                Assert.Equal(asLink, registration.IsBpfLink);
                if (asLink)
                {
                    linkId = registration.Id;
                    Assert.Equal(LinkType.StructOps, registration.Type);
                }
                Assert.Contains(algorithm, Available());

                // The kernel's copy of the value: registered state, the name copied from the object, program ids in the slots.
                byte[] value = new byte[map.ValueSize];
                map.Lookup([0, 0, 0, 0], value);
                Assert.Equal(asLink ? StateReady : StateInUse, BinaryPrimitives.ReadUInt32LittleEndian(value.AsSpan(4)));
                Assert.Equal(algorithm, CString(value.AsSpan(MemberOffset(wrapper, "name"), 16)));
                Assert.Equal((ulong)collection.Program("bpfsharp_cong_avoid").Id,
                    BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(MemberOffset(wrapper, "cong_avoid"))));
                Assert.Equal((ulong)collection.Program("bpfsharp_init").Id,
                    BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(MemberOffset(wrapper, "init"))));

                (string selected, long received) = TransferOverLoopback(algorithm, 16 << 20);
                Assert.Equal(algorithm, selected);
                Assert.Equal(16L << 20, received);
                Assert.True(collection.Variable("init_calls").Get<ulong>() > initBefore, "init did not run when the connection was established");
                Assert.True(collection.Variable("cong_avoid_calls").Get<ulong>() > avoidBefore, "cong_avoid did not run while sending 16 MiB");
                Assert.True(LinkTestSupport.WaitUntil(() => collection.Variable("release_calls").Get<ulong>() > releaseBefore, Patience),
                    "release did not run when the socket closed");
            }
            Assert.DoesNotContain(algorithm, Available());
        }
        Assert.True(LinkTestSupport.WaitUntil(() => !Program.AllIds().Intersect(programIds).Any() && !BpfSharp.Maps.Map.AllIds().Intersect(mapIds).Any()
            && (linkId == 0 || !Link.AllIds().Contains(linkId)), Patience),
            $"left behind: programs [{string.Join(", ", Program.AllIds().Intersect(programIds))}], maps [{string.Join(", ", BpfSharp.Maps.Map.AllIds().Intersect(mapIds))}]");
    }

    [KernelFact]
    public void AttachAllRegistersBothMapsAndSkipsByMapName()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("struct_ops_tcp"));
        Assert.Equal(["bpfsharp_reno", "bpfsharp_reno_link"], collection.StructOpsMaps.Order(StringComparer.Ordinal));
        using (LinkSet links = collection.AttachAll())
        {
            // struct_ops programs have no hook of their own: only the two maps are attached.
            Assert.Equal(["bpfsharp_reno", "bpfsharp_reno_link"], links.Programs.Order(StringComparer.Ordinal));
            Assert.Contains("bpfsharp_reno", Available());
            Assert.Contains("bpfsharp_renol", Available());
        }
        Assert.DoesNotContain("bpfsharp_reno", Available());
        Assert.DoesNotContain("bpfsharp_renol", Available());
        using (LinkSet links = collection.AttachAll(skip: ["bpfsharp_reno"]))
        {
            Assert.Equal(["bpfsharp_reno_link"], links.Programs);
            Assert.DoesNotContain("bpfsharp_reno", Available());
            Assert.Contains("bpfsharp_renol", Available());
        }
        Assert.DoesNotContain("bpfsharp_renol", Available());
    }

    [KernelFact]
    public void EditedInitializerRenamesTheAlgorithmAndASecondRegistrationOfTheNameIsRefused()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_tcp"));
        StructOpsSpec ops = spec.Map("bpfsharp_reno").StructOps!;
        string renamed = $"bso_{Environment.ProcessId % 1_000_000}";
        int nameOffset = (int)ops.Type.Members.First(m => m.Name == "name").ByteOffset;
        byte[] data = (byte[])ops.Data.Clone();
        data.AsSpan(nameOffset, 16).Clear();
        Encoding.ASCII.GetBytes(renamed).CopyTo(data, nameOffset);
        ops.Data = data;
        using Collection first = Collection.Load(spec);
        using Collection second = Collection.Load(spec);
        using StructOpsLink registered = first.AttachStructOps("bpfsharp_reno");
        Assert.Contains(renamed, Available());
        BpfException refused = Assert.Throws<BpfException>(() => second.AttachStructOps("bpfsharp_reno"));
        Assert.Equal(BpfSharp.Kernel.Errno.EEXIST, refused.Errno);
        Assert.Contains("already registered", refused.Message);
        Assert.Contains(renamed, Available());
    }

    [KernelFact]
    public void AStructOpsProgramNoMapUsesIsAClearError()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_tcp"));
        foreach (string map in new[] { "bpfsharp_reno", "bpfsharp_reno_link" })
        {
            spec.Map(map).StructOps!.Programs.Remove("release");
        }
        BpfException error = Assert.Throws<BpfException>(() => Collection.Load(spec));
        Assert.Contains("struct_ops program 'bpfsharp_release' is not used by any struct_ops map", error.Message);

        // With its autoload off instead, the rest loads and registers without it.
        spec.Program("bpfsharp_release").Autoload = false;
        using Collection collection = Collection.Load(spec);
        Assert.False(collection.Programs.ContainsKey("bpfsharp_release"));
        byte[] value = collection.StructOpsValue("bpfsharp_reno");
        BtfType wrapper = KernelBtf.Vmlinux.FindType("bpf_struct_ops_tcp_congestion_ops", BtfKind.Struct);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(MemberOffset(wrapper, "release"))));
        Assert.Equal((ulong)collection.Program("bpfsharp_init").Fd.Value, BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(MemberOffset(wrapper, "init"))));
        using StructOpsLink registered = collection.AttachStructOps("bpfsharp_reno");
        Assert.Contains("bpfsharp_reno", Available());
    }

    /// <summary>Connects a loopback TCP pair whose client uses <paramref name="algorithm"/>, sends <paramref name="bytes"/> and closes both.</summary>
    private static (string Selected, long Received) TransferOverLoopback(string algorithm, int bytes)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        long received = 0;
        var reader = new Thread(() =>
        {
            using Socket server = listener.Accept();
            byte[] buffer = new byte[1 << 16];
            int n;
            while ((n = server.Receive(buffer)) > 0)
            {
                received += n;
            }
        });
        reader.Start();
        string selected;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            client.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpCongestion, Encoding.ASCII.GetBytes(algorithm));
            client.Connect(listener.LocalEndPoint!);
            byte[] name = new byte[16];
            int length = client.GetRawSocketOption((int)SocketOptionLevel.Tcp, TcpCongestion, name);
            selected = CString(name.AsSpan(0, length));
            byte[] chunk = new byte[1 << 16];
            for (int sent = 0; sent < bytes; sent += chunk.Length)
            {
                client.Send(chunk);
            }
            client.Shutdown(SocketShutdown.Send);
            Assert.True(reader.Join(Patience), "the receiver did not see the end of the stream");
        }
        return (selected, Volatile.Read(ref received));
    }

    private static string[] Available() => File.ReadAllText(AvailablePath).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The byte offset of an ops member in the kernel's value: the wrapper's <c>data</c> member plus the member's offset in the ops struct.</summary>
    private static int MemberOffset(BtfType wrapper, string member)
    {
        BtfMember data = wrapper.Members.First(m => m.Name == "data");
        return (int)(data.ByteOffset + data.Type.Members.First(m => m.Name == member).ByteOffset);
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
    }

    [KernelFact]
    public void OptionalStructOpsMapsAndTheirOnlyProgramsStayOutUntilTurnedOn()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("struct_ops_optional"));
        Assert.True(spec.Map("always_reno").Autocreate);
        Assert.False(spec.Map("optional_reno").Autocreate);
        Assert.Equal(".struct_ops.link", spec.Map("optional_reno").SectionName);
        Assert.True(spec.Map("optional_reno").Flags.HasFlag(MapFlags.Link));

        using (Collection collection = Collection.Load(spec))
        {
            Assert.DoesNotContain("optional_reno", collection.Maps.Keys);
            Assert.Equal(["always_reno"], collection.StructOpsMaps);
            // Its only user is not created, so optional_init is not loaded; the shared programs are.
            Assert.DoesNotContain("optional_init", collection.Programs.Keys);
            Assert.Contains("shared_cong_avoid", collection.Programs.Keys);
        }

        spec.Map("optional_reno").Autocreate = true;
        using Collection both = Collection.Load(spec);
        Assert.Equal(["always_reno", "optional_reno"], both.StructOpsMaps.Order(StringComparer.Ordinal));
        Assert.Contains("optional_init", both.Programs.Keys);
    }
}
