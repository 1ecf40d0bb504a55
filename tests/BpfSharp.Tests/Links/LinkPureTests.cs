using System.Buffers.Binary;
using System.Runtime.InteropServices;
using BpfSharp.Elf;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Programs;
using BpfSharp.Tracing;

namespace BpfSharp.Tests.Links;

/// <summary>Link code that needs no kernel: netlink encoding, USDT notes and specs, link info decoding, section names.</summary>
public sealed class LinkPureTests
{
    [Fact]
    public void NetlinkMessagesNestAndPadAttributes()
    {
        byte[] bytes = new NetlinkMessage(RouteNetlink.RtmSetLink, RouteNetlink.FlagRequest | RouteNetlink.FlagAck, new byte[16])
            .BeginNested(43)
            .Int32(1, -1)
            .String(7, "ab")
            .EndNested()
            .Finish(sequence: 77);
        Assert.Equal(bytes.Length, (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes));
        Assert.Equal(RouteNetlink.RtmSetLink, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(77u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        // After the 16-byte header and 16-byte ifinfomsg: the nested attribute (4 + 8 + 8 bytes, "ab\0" padded to 4).
        Span<byte> nested = bytes.AsSpan(32);
        Assert.Equal(20, BinaryPrimitives.ReadUInt16LittleEndian(nested));
        Assert.Equal(43 | 0x8000, BinaryPrimitives.ReadUInt16LittleEndian(nested[2..]));
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(nested[4..]));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(nested[8..]));
        Assert.Equal(7, BinaryPrimitives.ReadUInt16LittleEndian(nested[14..]));
        Assert.Equal("ab\0"u8.ToArray(), nested.Slice(16, 3).ToArray());
        Assert.Equal(52, bytes.Length);
    }

    [Fact]
    public void NetlinkErrorsCarryTheKernelsExtendedAckText()
    {
        byte[] reply = Ack(sequence: 9, error: -(int)Errno.EBUSY, "XDP program already attached");
        var error = Assert.Throws<BpfException>(() => RouteNetlink.TryReadAck(reply, 9, "attaching"));
        Assert.Equal(Errno.EBUSY, error.Errno);
        Assert.Contains("the kernel says: XDP program already attached", error.Message);
        Assert.True(RouteNetlink.TryReadAck(Ack(10, 0, null), 10, "attaching"));
        Assert.False(RouteNetlink.TryReadAck(Ack(10, 0, null), 11, "attaching"));
        Assert.Throws<BpfException>(() => RouteNetlink.TryReadAck(new byte[] { 200, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 1, "x"));
    }

    private static byte[] Ack(uint sequence, int error, string? message)
    {
        var bytes = new List<byte>();
        byte[] header = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2); // NLMSG_ERROR
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), (ushort)(message is null ? 0x100 : 0x300)); // capped, with TLVs
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), sequence);
        bytes.AddRange(header);
        bytes.AddRange(BitConverter.GetBytes(error));
        bytes.AddRange(new byte[16]); // the echoed request header
        if (message is not null)
        {
            byte[] text = System.Text.Encoding.UTF8.GetBytes(message + "\0");
            bytes.AddRange(BitConverter.GetBytes((ushort)(4 + text.Length)));
            bytes.AddRange(BitConverter.GetBytes((ushort)1));
            bytes.AddRange(text);
            while (bytes.Count % 4 != 0)
            {
                bytes.Add(0);
            }
        }
        byte[] result = [.. bytes];
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
        return result;
    }

    [Fact]
    public void UsdtSpecsUseUsdtBpfHLayout()
    {
        IReadOnlyList<UsdtArgument> arguments = UsdtArgument.ParseAll("-4@%ebx 8@-16(%rbp) 2@$7", Architecture.X64);
        byte[] spec = UsdtSpec.Encode(arguments, cookie: 0x1122334455667788);
        Assert.Equal(208, spec.Length);
        // arg 0: register rbx (pt_regs offset 40), signed, 4 bytes -> shift 32.
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(spec.AsSpan(8)));
        Assert.Equal(40, BinaryPrimitives.ReadInt16LittleEndian(spec.AsSpan(12)));
        Assert.Equal(1, spec[14]);
        Assert.Equal(32, spec[15]);
        // arg 1: memory at rbp (offset 32) - 16, unsigned, 8 bytes.
        Assert.Equal(-16L, BinaryPrimitives.ReadInt64LittleEndian(spec.AsSpan(16)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(spec.AsSpan(24)));
        Assert.Equal(32, BinaryPrimitives.ReadInt16LittleEndian(spec.AsSpan(28)));
        Assert.Equal(0, spec[30]);
        Assert.Equal(0, spec[31]);
        // arg 2: the constant 7, 2 bytes.
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(spec.AsSpan(32)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(spec.AsSpan(40)));
        Assert.Equal(48, spec[47]);
        Assert.Equal(0x1122334455667788UL, BinaryPrimitives.ReadUInt64LittleEndian(spec.AsSpan(192)));
        Assert.Equal(3, BinaryPrimitives.ReadInt16LittleEndian(spec.AsSpan(200)));

        var scaled = UsdtArgument.ParseAll("8@8(%rax,%rbx,4)", Architecture.X64);
        Assert.Contains("before libbpf 1.7", Assert.Throws<ArgumentException>(() => UsdtSpec.Encode(scaled, 0)).Message);
        Assert.Contains("not 200", Assert.Throws<ArgumentException>(() => UsdtSpec.Encode(arguments, 0, 200)).Message);
    }

    /// <summary>
    /// libbpf 1.7's usdt.bpf.h packs arg_type into 8 bits followed by 16-bit fields, which the compiler places at
    /// byte 10 (a 12-bit field cannot cross a 16-bit boundary): argument specs grow to 24 bytes and the struct to 304
    /// (offsets measured with gcc and clang -target bpf on that header).
    /// </summary>
    [Fact]
    public void UsdtSpecsUseLibbpf17LayoutWhenTheMapSaysSo()
    {
        IReadOnlyList<UsdtArgument> arguments = UsdtArgument.ParseAll("-4@%ebx -1@-96(%rbp,%rax,8) 2@$7", Architecture.X64);
        byte[] spec = UsdtSpec.Encode(arguments, cookie: 0x1122334455667788, UsdtSpec.SizeWithScaledIndex);
        Assert.Equal(304, spec.Length);
        // arg 0: register rbx (pt_regs offset 40), signed, 4 bytes -> shift 32.
        Assert.Equal(1, spec[8]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(spec.AsSpan(10)));
        Assert.Equal(40, BinaryPrimitives.ReadInt16LittleEndian(spec.AsSpan(14)));
        Assert.Equal((1, 32), (spec[16], spec[17]));
        // arg 1: rbp (32) + rax (80) << 3 - 96, signed byte.
        Span<byte> sib = spec.AsSpan(24, 24);
        Assert.Equal(-96L, BinaryPrimitives.ReadInt64LittleEndian(sib));
        Assert.Equal(3, sib[8]);
        ushort indexAndScale = BinaryPrimitives.ReadUInt16LittleEndian(sib[10..]);
        Assert.Equal((80, 3), (indexAndScale & 0xFFF, indexAndScale >> 12));
        Assert.Equal(32, BinaryPrimitives.ReadInt16LittleEndian(sib[14..]));
        Assert.Equal((1, 56), (sib[16], sib[17]));
        // arg 2: the constant 7, 2 bytes.
        Assert.Equal(7L, BinaryPrimitives.ReadInt64LittleEndian(spec.AsSpan(48)));
        Assert.Equal((0, 48), (spec[56], spec[65]));
        Assert.Equal(0x1122334455667788UL, BinaryPrimitives.ReadUInt64LittleEndian(spec.AsSpan(288)));
        Assert.Equal(3, BinaryPrimitives.ReadInt16LittleEndian(spec.AsSpan(296)));
    }

    [Fact]
    public void UsdtNotesMatchWhatReadelfShows()
    {
        string target = LinkTestSupport.NativeProgram("probe_target");
        IReadOnlyList<UsdtProbe> probes = UsdtProbe.ReadAll(target);
        Assert.Equal(["bpfsharp:args", "bpfsharp:tick"], probes.Select(p => $"{p.Provider}:{p.Name}").Order(StringComparer.Ordinal));
        UsdtProbe probe = Assert.Single(UsdtProbe.Find(target, "bpfsharp", "tick"));
        string readelf = ExternalTool.Run("readelf", "-n", target);
        Assert.Contains($"Location: 0x{probe.Address:x16}", readelf);
        Assert.Contains($"Semaphore: 0x{probe.SemaphoreAddress:x16}", readelf);
        Assert.Contains($"Arguments: {probe.ArgumentText}", readelf);
        Assert.Equal(2, probe.Arguments.Count);
        // The site and the semaphore map to file offsets through their segments.
        using ElfFile elf = ElfFile.Open(target);
        Assert.True(elf.TryGetFileOffset(probe.Address, out ulong siteOffset));
        Assert.Equal(siteOffset, probe.FileOffset);
        Assert.NotEqual(0UL, probe.SemaphoreFileOffset);
        Assert.Empty(UsdtProbe.Find(target, "bpfsharp", "missing"));

        // The args probe: every argument form gcc emits for probe_target.c (frame pointers on), each with its own semaphore.
        UsdtProbe args = Assert.Single(UsdtProbe.Find(target, "bpfsharp", "args"));
        Assert.Contains($"Arguments: {args.ArgumentText}", readelf);
        Assert.NotEqual(probe.SemaphoreFileOffset, args.SemaphoreFileOffset);
        Assert.Equal(
            [UsdtArgumentKind.Constant, UsdtArgumentKind.Constant, UsdtArgumentKind.Register, UsdtArgumentKind.RegisterDereference,
             UsdtArgumentKind.RegisterDereference, UsdtArgumentKind.Register, UsdtArgumentKind.Register, UsdtArgumentKind.RegisterDereference],
            args.Arguments.Select(a => a.Kind));
        Assert.Equal([4, 4, 1, 2, 4, 8, 1, 8], args.Arguments.Select(a => a.Size));
        Assert.Equal([true, true, true, false, true, true, false, true], args.Arguments.Select(a => a.IsSigned));
    }

    [Fact]
    public void FunctionOffsetsAgreeWithTheSymbolTableAndSegments()
    {
        string target = LinkTestSupport.NativeProgram("probe_target");
        string symbols = ExternalTool.Run("readelf", "-Ws", target);
        string line = symbols.Split('\n').First(l => l.TrimEnd().EndsWith(" bpfsharp_add", StringComparison.Ordinal));
        ulong address = Convert.ToUInt64(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], 16);
        // A non-PIE executable maps its text at 0x400000 + file offset.
        Assert.Equal(address - 0x400000, UprobeLink.FunctionFileOffset(target, "bpfsharp_add"));
        var missing = Assert.Throws<BpfException>(() => UprobeLink.FunctionFileOffset(target, "no_such_function"));
        Assert.Contains("is not a function defined in", missing.Message);
    }

    [Fact]
    public unsafe void LinkInfoDecodesEachUnionMember()
    {
        var layout = new LinkInfoLayout { Type = (uint)LinkType.Netfilter, Id = 5, ProgId = 9 };
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(layout.Union, 48), 2);
        BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(layout.Union + 4, 44), 1);
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(layout.Union + 8, 40), -100);
        var netfilter = Assert.IsType<NetfilterLinkInfo>(LinkInfo.Decode(in layout, []));
        Assert.Equal(new NetfilterLinkInfo(5, 9, 2, 1, -100, 0), netfilter);

        layout = new LinkInfoLayout { Type = (uint)LinkType.PerfEvent, Id = 6, ProgId = 10 };
        Span<byte> union = new(layout.Union, 48);
        BinaryPrimitives.WriteUInt32LittleEndian(union, (uint)PerfEventLinkKind.Uretprobe);
        BinaryPrimitives.WriteUInt32LittleEndian(union[20..], 0x1234);    // offset
        BinaryPrimitives.WriteUInt64LittleEndian(union[24..], 42);        // cookie
        BinaryPrimitives.WriteUInt64LittleEndian(union[32..], 0x4028);    // ref_ctr_offset
        var uprobe = Assert.IsType<PerfEventLinkInfo>(LinkInfo.Decode(in layout, "/bin/true"u8));
        Assert.Equal(PerfEventLinkKind.Uretprobe, uprobe.Kind);
        Assert.Equal("/bin/true", uprobe.Name);
        Assert.Equal(0x1234u, uprobe.Offset);
        Assert.Equal(42UL, uprobe.Cookie);
        Assert.Equal(0x4028UL, uprobe.ReferenceCounterOffset);

        layout = new LinkInfoLayout { Type = 999, Id = 7, ProgId = 11 };
        Assert.Equal(new LinkInfo((LinkType)999, 7, 11), LinkInfo.Decode(in layout, []));
    }

    [Theory]
    [InlineData("tracepoint/syscalls/sys_enter_openat", true)]
    [InlineData("tp/sched/sched_switch", true)]
    [InlineData("raw_tp/sys_enter", true)]
    [InlineData("kprobe/do_sys_openat2+0x10", true)]
    [InlineData("uprobe/libc.so.6:malloc", true)]
    [InlineData("usdt/./app:prov:name", true)]
    [InlineData("iter/task", true)]
    [InlineData("fentry/vfs_read", true)]
    [InlineData("lsm/file_open", true)]
    [InlineData("kprobe", false)]
    [InlineData("uprobe", false)]
    [InlineData("xdp", false)]
    [InlineData("cgroup/connect4", false)]
    [InlineData("socket", false)]
    [InlineData("not_a_section", false)]
    public void AutoAttachKnowsWhichSectionsItAttaches(string section, bool attaches) =>
        Assert.Equal(attaches, AutoAttach.CanAttach(section));

    [Fact]
    public void SyscallFunctionsFollowTheArchitecture()
    {
        string expected = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? "__x64_sys_openat" : "__arm64_sys_openat";
        Assert.Equal(expected, KprobeLink.SyscallFunction("openat"));
    }
}
