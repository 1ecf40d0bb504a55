using BpfSharp.Btf;
using BpfSharp.Kernel;

namespace BpfSharp.Features;

/// <summary>The smallest useful BTF: one type, a signed 32-bit <c>int</c>, for maps that insist on BTF.</summary>
internal static unsafe class ProbeBtf
{
    /// <summary>The type id of <c>int</c> in the blob.</summary>
    internal const uint IntTypeId = 1;

    /// <summary>The blob: a header, one INT type and the string table "\0int\0".</summary>
    internal static byte[] IntTypeBlob()
    {
        var builder = new BtfBuilder();
        builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed, 32));
        return builder.Build();
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
