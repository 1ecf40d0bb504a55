using BpfSharp.Cli.Output;

namespace BpfSharp.Tests.Cli;

public sealed class BarChartTests
{
    [Fact]
    public void Log2HistogramTrimsEmptySlotsAndScalesBars()
    {
        var writer = new StringWriter { NewLine = "\n" };
        BarChart.WriteLog2(writer, [0, 0, 2, 8, 0, 1, 0, 0], "usecs");
        string[] lines = writer.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(5, lines.Length); // header + slots 2..5
        Assert.Contains("usecs : count    distribution", lines[0]);
        Assert.Matches(@"^\s+2 -> 3\s+:\s+2    \|\*{10}\s{30}\|$", lines[1]);
        Assert.Matches(@"^\s+4 -> 7\s+:\s+8    \|\*{40}\|$", lines[2]);
        Assert.Matches(@"^\s+8 -> 15\s+:\s+0    \|\s{40}\|$", lines[3]);
        Assert.Matches(@"^\s+16 -> 31\s+:\s+1    \|\*{5}\s{35}\|$", lines[4]);
    }

    [Fact]
    public void EmptyHistogramPrintsNothingAndSmallCountsStillShow()
    {
        var writer = new StringWriter();
        BarChart.WriteLog2(writer, [0, 0, 0], "usecs");
        Assert.Equal("", writer.ToString());
        BarChart.Write(writer, [("big", 1000), ("tiny", 1)], "key");
        Assert.Contains("|*|", writer.ToString().Replace(" ", ""));
    }

    [Theory]
    [InlineData(0, 0UL, 0UL)]
    [InlineData(1, 1UL, 1UL)]
    [InlineData(2, 2UL, 3UL)]
    [InlineData(10, 512UL, 1023UL)]
    [InlineData(64, 1UL << 63, ulong.MaxValue)]
    public void Log2RangesFollowTheSlotConvention(int slot, ulong low, ulong high)
    {
        Assert.Equal((low, high), BarChart.Log2Range(slot));
    }
}
