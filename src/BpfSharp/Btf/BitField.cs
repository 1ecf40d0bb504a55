using System.Buffers.Binary;

namespace BpfSharp.Btf;

/// <summary>
/// Reads and writes C bitfields in place, as BTF places them: <c>bitOffset</c> counts bits from the start of
/// the struct, least significant bit first (the little-endian layout of x86-64 and arm64). Generated skeleton
/// structs use it for their bitfield members, which C# has no way to declare, and <see cref="BtfValue"/> to print them.
/// </summary>
public static class BitField
{
    /// <summary>The <paramref name="bitSize"/>-bit unsigned value at <paramref name="bitOffset"/>.</summary>
    /// <param name="bytes">The struct's bytes.</param>
    /// <param name="bitOffset">The member's bit offset from BTF.</param>
    /// <param name="bitSize">The member's width, 1 to 64 bits.</param>
    public static ulong Read(ReadOnlySpan<byte> bytes, uint bitOffset, int bitSize)
    {
        Check(bytes.Length, bitOffset, bitSize);
        int first = (int)(bitOffset / 8);
        int shift = (int)(bitOffset % 8);
        int count = (shift + bitSize + 7) / 8; // up to 9 bytes
        Span<byte> window = stackalloc byte[16];
        bytes.Slice(first, count).CopyTo(window);
        UInt128 all = BinaryPrimitives.ReadUInt128LittleEndian(window);
        return (ulong)(all >> shift) & Mask(bitSize);
    }

    /// <summary>The <paramref name="bitSize"/>-bit signed value at <paramref name="bitOffset"/>, sign-extended.</summary>
    /// <param name="bytes">The struct's bytes.</param>
    /// <param name="bitOffset">The member's bit offset from BTF.</param>
    /// <param name="bitSize">The member's width, 1 to 64 bits.</param>
    public static long ReadSigned(ReadOnlySpan<byte> bytes, uint bitOffset, int bitSize)
    {
        ulong value = Read(bytes, bitOffset, bitSize);
        int unused = 64 - bitSize;
        return (long)(value << unused) >> unused;
    }

    /// <summary>Stores the low <paramref name="bitSize"/> bits of <paramref name="value"/> at <paramref name="bitOffset"/>, leaving the bits around it as they are.</summary>
    /// <param name="bytes">The struct's bytes.</param>
    /// <param name="bitOffset">The member's bit offset from BTF.</param>
    /// <param name="bitSize">The member's width, 1 to 64 bits.</param>
    /// <param name="value">The value; bits above the width are dropped, as C drops them.</param>
    public static void Write(Span<byte> bytes, uint bitOffset, int bitSize, ulong value)
    {
        Check(bytes.Length, bitOffset, bitSize);
        int first = (int)(bitOffset / 8);
        int shift = (int)(bitOffset % 8);
        int count = (shift + bitSize + 7) / 8;
        Span<byte> window = stackalloc byte[16];
        window.Clear();
        Span<byte> target = bytes.Slice(first, count);
        target.CopyTo(window);
        UInt128 mask = (UInt128)Mask(bitSize) << shift;
        UInt128 all = BinaryPrimitives.ReadUInt128LittleEndian(window);
        all = (all & ~mask) | (((UInt128)value << shift) & mask);
        BinaryPrimitives.WriteUInt128LittleEndian(window, all);
        window[..count].CopyTo(target);
    }

    private static ulong Mask(int bitSize) => bitSize == 64 ? ulong.MaxValue : (1UL << bitSize) - 1;

    private static void Check(int length, uint bitOffset, int bitSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bitSize, 64);
        if ((ulong)bitOffset + (ulong)bitSize > (ulong)length * 8)
        {
            throw new ArgumentOutOfRangeException(nameof(bitOffset), $"a {bitSize}-bit field at bit {bitOffset} does not fit in {length} bytes");
        }
    }
}
