using BpfSharp.Symbols;

namespace BpfSharp.Tests.Symbols;

public class ProcessMapsTests
{
    private const string Sample = """
        55927fff3000-55927fff5000 r--p 00000000 fe:00 247629                     /usr/bin/head
        55927fff5000-55927fffb000 r-xp 00002000 fe:00 247629                     /usr/bin/head
        56377d788000-56377d7cb000 rw-p 00000000 00:00 0                          [heap]
        7f2936000000-7f2936021000 rw-p 00000000 00:00 0
        7f2936fb3000-7f2936fb5000 r-xp 00000000 00:00 0                          [vdso]
        7f2937000000-7f2937001000 rw-s 00000000 00:05 1234                       /dev/shm/my file (deleted)
        7fffcd706000-7fffcd727000 rw-p 00000000 00:00 0                          [stack]
        """;

    [Fact]
    public void ParsesRegionsWithKindsPermissionsAndPaths()
    {
        ProcessMaps maps = ProcessMaps.Parse(Sample);
        Assert.Equal(7, maps.Regions.Count);
        MemoryRegion text = maps.Regions[1];
        Assert.Equal((0x55927fff5000UL, 0x55927fffb000UL, 0x2000UL, 247629UL), (text.Start, text.End, text.FileOffset, text.Inode));
        Assert.True(text.CanExecute && text.CanRead && !text.CanWrite);
        Assert.Equal(MemoryRegionKind.File, text.Kind);
        Assert.Equal(MemoryRegionKind.Heap, maps.Regions[2].Kind);
        Assert.Equal((MemoryRegionKind.Anonymous, "[anon]"), (maps.Regions[3].Kind, maps.Regions[3].Label));
        Assert.Equal(MemoryRegionKind.Special, maps.Regions[4].Kind);
        Assert.Equal("/dev/shm/my file (deleted)", maps.Regions[5].Path);
        Assert.Equal(MemoryRegionKind.Stack, maps.Regions[6].Kind);
    }

    [Theory]
    [InlineData(0x55927fff5010UL, "/usr/bin/head", 0x2010UL)]
    [InlineData(0x56377d788000UL, "[heap]", 0UL)]
    [InlineData(0x7fffcd726fffUL, "[stack]", 0x20fffUL)]
    public void FindsTheRegionOfAnAddress(ulong address, string label, ulong fileOffset)
    {
        MemoryRegion region = ProcessMaps.Parse(Sample).Find(address)!;
        Assert.Equal(label, region.Label);
        Assert.Equal(fileOffset, region.FileOffsetOf(address));
    }

    [Fact]
    public void AddressesOutsideAnyRegionFindNothing()
    {
        ProcessMaps maps = ProcessMaps.Parse(Sample);
        Assert.Null(maps.Find(0x1000));
        Assert.Null(maps.Find(0x55927fffb000)); // End is exclusive, and the next region starts later
    }

    [Fact]
    public void ReadsThisProcessAndFindsItsOwnStackAndRuntime()
    {
        ProcessMaps maps = ProcessMaps.Read(Environment.ProcessId);
        Assert.Contains(maps.Regions, r => r.Kind == MemoryRegionKind.Stack);
        Assert.Contains(maps.Regions, r => r.Path.EndsWith("libcoreclr.so", StringComparison.Ordinal));
        var missing = Assert.Throws<BpfException>(() => ProcessMaps.Read(int.MaxValue));
        Assert.Contains("does not exist", missing.Message);
        Assert.Throws<FormatException>(() => MemoryRegion.Parse("nonsense line"));
    }
}
