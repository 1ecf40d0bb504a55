using System.Buffers.Binary;
using BpfSharp.Kernel;

namespace BpfSharp.Features;

/// <summary>The smallest useful BTF: one type, a signed 32-bit <c>int</c>, for maps that insist on BTF.</summary>
internal static unsafe class ProbeBtf
{
    /// <summary>The type id of <c>int</c> in the blob.</summary>
    internal const uint IntTypeId = 1;

    /// <summary>The blob: a 24-byte header, one INT type (16 bytes) and the string table "\0int\0".</summary>
    internal static byte[] IntTypeBlob()
    {
        byte[] strings = "\0int\0"u8.ToArray();
        byte[] blob = new byte[24 + 16 + strings.Length];
        Span<byte> header = blob;
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0xeb9f); // magic
        header[2] = 1;                                              // version
        header[3] = 0;                                              // flags
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], 24);  // hdr_len
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], 0);   // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 16); // type_len
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16); // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)strings.Length);
        Span<byte> type = blob.AsSpan(24);
        BinaryPrimitives.WriteUInt32LittleEndian(type, 1);                  // name_off: "int"
        BinaryPrimitives.WriteUInt32LittleEndian(type[4..], 1u << 24);      // info: kind INT
        BinaryPrimitives.WriteUInt32LittleEndian(type[8..], 4);             // size in bytes
        BinaryPrimitives.WriteUInt32LittleEndian(type[12..], 1u << 24 | 32); // BTF_INT_SIGNED, offset 0, 32 bits
        strings.CopyTo(blob.AsSpan(40));
        return blob;
    }

    /// <summary>Loads <see cref="IntTypeBlob"/> into the kernel (BPF_BTF_LOAD).</summary>
    internal static FileDescriptor LoadIntType()
    {
        byte[] blob = IntTypeBlob();
        fixed (byte* pointer = blob)
        {
            var attr = new BtfLoadAttr { Btf = (ulong)pointer, BtfSize = (uint)blob.Length };
            return Bpf.CallForFd(BpfCommand.BtfLoad, ref attr, "probe BTF");
        }
    }
}
