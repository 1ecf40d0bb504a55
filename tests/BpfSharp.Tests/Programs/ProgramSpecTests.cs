using BpfSharp.Asm;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Programs;

public class ProgramSpecTests
{
    [Fact]
    public void CopyIsIndependentOfTheOriginal()
    {
        var spec = new ProgramSpec
        {
            Name = "original",
            Type = ProgramType.Xdp,
            Instructions = Returning(2),
            License = "GPL",
            FuncInfo = [1, 2, 3, 4, 5, 6, 7, 8],
            FuncInfoRecordSize = 8,
        };
        ProgramSpec copy = spec.Copy();
        copy.Name = "copy";
        copy.Instructions = [.. copy.Instructions, Instruction.Exit()];
        copy.FuncInfo![0] = 99;
        Assert.Equal("original", spec.Name);
        Assert.Equal(2, spec.Instructions.Count);
        Assert.Equal(1, spec.FuncInfo[0]);
        Assert.Equal(ProgramType.Xdp, copy.Type);
        Assert.Equal("GPL", copy.License);
    }

    [Theory]
    [InlineData("count_runs", "count_runs")]
    [InlineData("a-very-long-program-name", "a_very_long_pro")]
    [InlineData("xdp/ingress", "xdp_ingress")]
    [InlineData("", "")]
    public void KernelNameKeepsWhatTheKernelAccepts(string name, string kernelName)
    {
        Assert.Equal(kernelName, Program.KernelName(name));
    }

    [Fact]
    public void RecordsThatAreNotWholeAreBadInput()
    {
        var spec = new ProgramSpec
        {
            Name = "bad_records",
            Type = ProgramType.Xdp,
            Instructions = Returning(2),
            LineInfo = new byte[20],
            LineInfoRecordSize = 16,
        };
        var error = Assert.Throws<ArgumentException>(() => Program.Load(spec));
        Assert.Contains("LineInfo is 20 bytes, not a whole number of 16-byte records", error.Message);
    }

    [Fact]
    public void LineInfoWithoutBtfIsBadInput()
    {
        var spec = new ProgramSpec
        {
            Name = "no_btf",
            Type = ProgramType.Xdp,
            Instructions = Returning(2),
            LineInfo = new byte[16],
            LineInfoRecordSize = 16,
        };
        var error = Assert.Throws<ArgumentException>(() => Program.Load(spec));
        Assert.Contains("ProgramSpec.Btf", error.Message);
    }

    /// <summary>r0 = value; exit.</summary>
    private static Instruction[] Returning(int value) => [Instruction.Move64(Register.R0, value), Instruction.Exit()];
}
