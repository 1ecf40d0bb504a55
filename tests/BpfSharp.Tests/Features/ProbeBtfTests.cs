using BpfSharp.Features;

namespace BpfSharp.Tests.Features;

public class ProbeBtfTests
{
    [Fact]
    public void BlobHasAHeaderOneIntTypeAndItsName()
    {
        byte[] blob = ProbeBtf.IntTypeBlob();
        Assert.Equal(new byte[] { 0x9f, 0xeb, 1, 0 }, blob[..4]);
        Assert.Equal(24 + 16 + 5, blob.Length);
        Assert.Equal("int"u8.ToArray(), blob[41..44]);
        // The scanner walks the blob and finds no function in it.
        Assert.Null(VmlinuxFunctions.FindFunction(blob, "int"u8));
    }

    [Fact]
    public void ScannerRejectsWhatIsNotBtf()
    {
        Assert.Throws<FormatException>(() => VmlinuxFunctions.FindFunction(new byte[32], "x"u8));
        byte[] truncated = ProbeBtf.IntTypeBlob()[..30];
        Assert.Throws<FormatException>(() => VmlinuxFunctions.FindFunction(truncated, "x"u8));
    }

    [KernelFact]
    [Trait("Category", "Kernel")]
    public void KernelAcceptsTheBlob()
    {
        using var btf = ProbeBtf.LoadIntType();
        Assert.True(btf.Value > 2);
    }
}
