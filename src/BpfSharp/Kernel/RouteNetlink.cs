using System.Buffers.Binary;
using System.Text;

namespace BpfSharp.Kernel;

/// <summary>
/// A small rtnetlink client (socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)): sends one request at a
/// time and waits for the kernel's acknowledgement, turning an error into a
/// <see cref="BpfException"/> that carries the kernel's extended-ack message ("Exclusivity flag
/// on, cannot modify"). Used for what has no bpf(2) command: XDP on kernels without XDP links,
/// the clsact qdisc and cls_bpf filters.
/// </summary>
internal sealed unsafe class RouteNetlink : IDisposable
{
    internal const ushort RtmSetLink = 19, RtmNewQdisc = 36, RtmDelQdisc = 37, RtmNewFilter = 44, RtmDelFilter = 45;
    internal const ushort FlagRequest = 0x1, FlagAck = 0x4, FlagExclusive = 0x200, FlagCreate = 0x400, FlagReplace = 0x100;
    private const ushort MessageError = 2, FlagAckTlvs = 0x200, AttributeNested = 0x8000;
    private const int ErrorAttributeMessage = 1;

    private readonly FileDescriptor _socket;
    private uint _sequence = (uint)Environment.TickCount;

    private RouteNetlink(FileDescriptor socket)
    {
        _socket = socket;
    }

    /// <summary>Opens a route netlink socket with extended acks on.</summary>
    internal static RouteNetlink Open()
    {
        int fd = LibC.Socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw Errors.FromLastError("socket(AF_NETLINK)", "opening a route netlink socket");
        }
        var socket = new FileDescriptor(fd, "route netlink socket");
        int one = 1;
        // Both are best effort: without them errors lose their text or acks grow, nothing else.
        LibC.SetSockOpt(fd, LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, &one, sizeof(int));
        LibC.SetSockOpt(fd, LibC.SOL_NETLINK, LibC.NETLINK_CAP_ACK, &one, sizeof(int));
        Span<byte> address = stackalloc byte[12]; // sockaddr_nl: family, pad, pid 0 (the kernel assigns), groups 0
        address.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(address, LibC.AF_NETLINK);
        fixed (byte* a = address)
        {
            if (LibC.Bind(fd, a, 12) < 0)
            {
                socket.Dispose();
                throw Errors.FromLastError("bind(AF_NETLINK)", "binding a route netlink socket");
            }
        }
        return new RouteNetlink(socket);
    }

    /// <summary>Sends <paramref name="message"/> and waits for its acknowledgement.</summary>
    /// <exception cref="BpfException">The kernel answered with an error; the message carries its extended-ack text.</exception>
    internal void Execute(NetlinkMessage message, string what)
    {
        uint sequence = ++_sequence;
        byte[] bytes = message.Finish(sequence);
        using FileDescriptor.Lease lease = _socket.Borrow();
        fixed (byte* p = bytes)
        {
            if (LibC.Send(lease.Fd, p, (nuint)bytes.Length, 0) < 0)
            {
                throw Errors.FromLastError("send(netlink)", what);
            }
        }
        byte[] buffer = new byte[32 * 1024];
        while (true)
        {
            nint received;
            fixed (byte* p = buffer)
            {
                received = LibC.Recv(lease.Fd, p, (nuint)buffer.Length, 0);
            }
            if (received < 0)
            {
                if (Errors.LastErrno == Errno.EINTR)
                {
                    continue;
                }
                throw Errors.FromLastError("recv(netlink)", what);
            }
            if (TryReadAck(buffer.AsSpan(0, (int)received), sequence, what))
            {
                return;
            }
        }
    }

    /// <summary>True when the datagram held the acknowledgement of <paramref name="sequence"/>; throws on a negative one.</summary>
    internal static bool TryReadAck(ReadOnlySpan<byte> datagram, uint sequence, string what)
    {
        while (datagram.Length >= 16)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < 16 || length > datagram.Length)
            {
                throw new BpfException($"{what}: the kernel sent a malformed netlink message ({length} bytes in a {datagram.Length}-byte datagram)");
            }
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(datagram[6..]);
            uint messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(datagram[8..]);
            ReadOnlySpan<byte> payload = datagram[16..(int)length];
            if (type == MessageError && messageSequence == sequence && payload.Length >= 4)
            {
                int error = BinaryPrimitives.ReadInt32LittleEndian(payload);
                if (error == 0)
                {
                    return true;
                }
                string? text = null;
                if ((flags & FlagAckTlvs) != 0 && payload.Length >= 20)
                {
                    // With NETLINK_CAP_ACK the echoed request is its header only (16 bytes).
                    uint echoedLength = (flags & 0x100) != 0 ? 16 : BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
                    int start = 4 + Align((int)Math.Min(echoedLength, (uint)(payload.Length - 4)));
                    text = ReadErrorMessage(payload[Math.Min(start, payload.Length)..]);
                }
                var errno = (Errno)(-error);
                throw new BpfException("netlink", errno, what, text is null ? Errors.GenericHint(errno) : $"the kernel says: {text}");
            }
            datagram = datagram[Math.Min(Align((int)length), datagram.Length)..];
        }
        return false;
    }

    private static string? ReadErrorMessage(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
            if (length < 4 || length > attributes.Length)
            {
                return null;
            }
            if ((type & 0x3fff) == ErrorAttributeMessage)
            {
                ReadOnlySpan<byte> text = attributes[4..length];
                int end = text.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? text : text[..end]);
            }
            attributes = attributes[Math.Min(Align(length), attributes.Length)..];
        }
        return null;
    }

    internal static int Align(int length) => (length + 3) & ~3;

    /// <summary>Closes the socket.</summary>
    public void Dispose() => _socket.Dispose();

    /// <summary>The attribute type bit that marks a nested attribute.</summary>
    internal static ushort Nested(ushort type) => (ushort)(type | AttributeNested);
}

/// <summary>One netlink request under construction: header, fixed family header, attributes (nestable).</summary>
internal sealed class NetlinkMessage
{
    private readonly List<byte> _bytes = new(256);
    private readonly Stack<int> _open = new();

    internal NetlinkMessage(ushort type, ushort flags, ReadOnlySpan<byte> familyHeader)
    {
        Span<byte> header = stackalloc byte[16];
        header.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        _bytes.AddRange(header);
        _bytes.AddRange(familyHeader);
        Pad();
    }

    internal NetlinkMessage Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(header, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        _bytes.AddRange(header);
        _bytes.AddRange(value);
        Pad();
        return this;
    }

    internal NetlinkMessage UInt32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return Attribute(type, bytes);
    }

    internal NetlinkMessage Int32(ushort type, int value) => UInt32(type, (uint)value);

    internal NetlinkMessage String(ushort type, string value) => Attribute(type, Encoding.UTF8.GetBytes(value + "\0"));

    internal NetlinkMessage BeginNested(ushort type)
    {
        _open.Push(_bytes.Count);
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], RouteNetlink.Nested(type));
        _bytes.AddRange(header);
        return this;
    }

    internal NetlinkMessage EndNested()
    {
        int start = _open.Pop();
        ushort length = (ushort)(_bytes.Count - start);
        _bytes[start] = (byte)length;
        _bytes[start + 1] = (byte)(length >> 8);
        return this;
    }

    internal byte[] Finish(uint sequence)
    {
        if (_open.Count != 0)
        {
            throw new InvalidOperationException("a nested netlink attribute was not closed");
        }
        byte[] bytes = [.. _bytes];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), sequence);
        return bytes;
    }

    private void Pad()
    {
        while (_bytes.Count % 4 != 0)
        {
            _bytes.Add(0);
        }
    }
}
