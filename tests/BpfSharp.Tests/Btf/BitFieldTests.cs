using BpfSharp.Btf;

namespace BpfSharp.Tests.Btf;

public sealed class BitFieldTests
{
    [Theory]
    [InlineData(0u, 1)]
    [InlineData(3u, 5)]
    [InlineData(7u, 2)]
    [InlineData(5u, 64)] // a full 64-bit field off byte alignment spans nine bytes
    [InlineData(13u, 33)]
    public void WritingAFieldLeavesEveryOtherBitAsItWas(uint offset, int size)
    {
        byte[] bytes = Enumerable.Repeat((byte)0xa5, 16).ToArray();
        byte[] before = (byte[])bytes.Clone();
        ulong value = 0x0123_4567_89ab_cdefUL;
        BitField.Write(bytes, offset, size, value);
        ulong mask = size == 64 ? ulong.MaxValue : (1UL << size) - 1;
        Assert.Equal(value & mask, BitField.Read(bytes, offset, size));
        for (int bit = 0; bit < 128; bit++)
        {
            if (bit < offset || bit >= offset + size)
            {
                Assert.Equal((before[bit / 8] >> (bit % 8)) & 1, (bytes[bit / 8] >> (bit % 8)) & 1);
            }
        }
    }

    [Fact]
    public void SignedFieldsAreSignExtended()
    {
        byte[] bytes = new byte[4];
        BitField.Write(bytes, 3, 7, unchecked((ulong)-17L));
        Assert.Equal(-17, BitField.ReadSigned(bytes, 3, 7));
        Assert.Equal(128u - 17, BitField.Read(bytes, 3, 7));
        BitField.Write(bytes, 3, 7, 63);
        Assert.Equal(63, BitField.ReadSigned(bytes, 3, 7));
    }

    [Fact]
    public void AFieldPastTheEndIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BitField.Read(new byte[2], 10, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitField.Write(new byte[8], 0, 65, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BitField.Read(new byte[8], 0, 0));
    }
}
