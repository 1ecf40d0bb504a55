using System.Runtime.CompilerServices;
using BpfSharp.Kernel;

namespace BpfSharp.Tests.Kernel;

/// <summary>The bpf_attr and info layouts must match the kernel UAPI byte for byte.</summary>
public class LayoutTests
{
    [Theory]
    [InlineData(nameof(MapCreateAttr), 80)]
    [InlineData(nameof(MapElemAttr), 32)]
    [InlineData(nameof(MapBatchAttr), 56)]
    [InlineData(nameof(ProgLoadAttr), 152)]
    [InlineData(nameof(ObjAttr), 24)]
    [InlineData(nameof(ProgAttachAttr), 32)]
    [InlineData(nameof(TestRunAttr), 80)]
    [InlineData(nameof(GetIdAttr), 16)]
    [InlineData(nameof(InfoAttr), 16)]
    [InlineData(nameof(QueryAttr), 64)]
    [InlineData(nameof(RawTracepointAttr), 24)]
    [InlineData(nameof(BtfLoadAttr), 40)]
    [InlineData(nameof(TaskFdQueryAttr), 48)]
    [InlineData(nameof(LinkCreateAttr), 64)]
    [InlineData(nameof(ProgInfoLayout), 232)]
    [InlineData(nameof(MapInfoLayout), 104)]
    [InlineData(nameof(BtfInfoLayout), 32)]
    [InlineData(nameof(LinkInfoLayout), 64)]
    [InlineData(nameof(PerfEventAttr), 136)]
    public void StructSizeMatchesUapi(string name, int expected)
    {
        int actual = name switch
        {
            nameof(MapCreateAttr) => Unsafe.SizeOf<MapCreateAttr>(),
            nameof(MapElemAttr) => Unsafe.SizeOf<MapElemAttr>(),
            nameof(MapBatchAttr) => Unsafe.SizeOf<MapBatchAttr>(),
            nameof(ProgLoadAttr) => Unsafe.SizeOf<ProgLoadAttr>(),
            nameof(ObjAttr) => Unsafe.SizeOf<ObjAttr>(),
            nameof(ProgAttachAttr) => Unsafe.SizeOf<ProgAttachAttr>(),
            nameof(TestRunAttr) => Unsafe.SizeOf<TestRunAttr>(),
            nameof(GetIdAttr) => Unsafe.SizeOf<GetIdAttr>(),
            nameof(InfoAttr) => Unsafe.SizeOf<InfoAttr>(),
            nameof(QueryAttr) => Unsafe.SizeOf<QueryAttr>(),
            nameof(RawTracepointAttr) => Unsafe.SizeOf<RawTracepointAttr>(),
            nameof(BtfLoadAttr) => Unsafe.SizeOf<BtfLoadAttr>(),
            nameof(TaskFdQueryAttr) => Unsafe.SizeOf<TaskFdQueryAttr>(),
            nameof(LinkCreateAttr) => Unsafe.SizeOf<LinkCreateAttr>(),
            nameof(ProgInfoLayout) => Unsafe.SizeOf<ProgInfoLayout>(),
            nameof(MapInfoLayout) => Unsafe.SizeOf<MapInfoLayout>(),
            nameof(BtfInfoLayout) => Unsafe.SizeOf<BtfInfoLayout>(),
            nameof(LinkInfoLayout) => Unsafe.SizeOf<LinkInfoLayout>(),
            nameof(PerfEventAttr) => Unsafe.SizeOf<PerfEventAttr>(),
            _ => throw new ArgumentException(name),
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ProgLoadFieldOffsetsMatchUapi()
    {
        var attr = new ProgLoadAttr();
        unsafe
        {
            byte* b = (byte*)&attr;
            Assert.Equal(48, (int)(attr.ProgName - b));
            Assert.Equal(108, (int)((byte*)&attr.AttachBtfId - b));
            Assert.Equal(120, (int)((byte*)&attr.FdArray - b));
            Assert.Equal(140, (int)((byte*)&attr.LogTrueSize - b));
        }
    }

    [Theory]
    [InlineData(BpfCommand.MapCreate, "BPF_MAP_CREATE")]
    [InlineData(BpfCommand.ObjGetInfoByFd, "BPF_OBJ_GET_INFO_BY_FD")]
    [InlineData(BpfCommand.MapLookupAndDeleteElem, "BPF_MAP_LOOKUP_AND_DELETE_ELEM")]
    [InlineData(BpfCommand.BtfGetFdById, "BPF_BTF_GET_FD_BY_ID")]
    public void CommandNamesAreTheUapiNames(BpfCommand command, string name)
    {
        Assert.Equal(name, BpfCommands.Name(command));
        Assert.Equal(command, BpfCommands.Parse(name));
    }

    [Theory]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-1,4,6-7\n", new[] { 0, 1, 4, 6, 7 })]
    public void CpuListsParse(string text, int[] expected) => Assert.Equal(expected, Cpus.ParseList(text));
}
