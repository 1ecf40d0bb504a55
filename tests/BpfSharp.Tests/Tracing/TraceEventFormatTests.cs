using BpfSharp.Tracing;

namespace BpfSharp.Tests.Tracing;

public class TraceEventFormatTests
{
    // The format of exceptions:page_fault_user, as the seed notes show it.
    private const string PageFaultUser = """
        name: page_fault_user
        ID: 119
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
        	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:unsigned long address;	offset:8;	size:8;	signed:0;
        	field:unsigned long ip;	offset:16;	size:8;	signed:0;
        	field:unsigned long error_code;	offset:24;	size:8;	signed:0;

        print fmt: "address=%ps ip=%ps error_code=0x%lx", (void *)REC->address, (void *)REC->ip, REC->error_code
        """;

    [Fact]
    public void ParsesPageFaultUserFieldsWithOffsetsSizesAndSignedness()
    {
        TraceEventFormat format = TraceEventFormat.Parse(PageFaultUser);

        Assert.Equal("page_fault_user", format.Name);
        Assert.Equal(119UL, format.Id);
        Assert.Equal(new[] { "common_type", "common_flags", "common_preempt_count", "common_pid" }, format.CommonFields.Select(f => f.Name));
        Assert.Equal(new[] { "address", "ip", "error_code" }, format.Fields.Select(f => f.Name));
        TraceEventField errorCode = format.Field("error_code")!;
        Assert.Equal(("unsigned long", 24, 8, false), (errorCode.Type, errorCode.Offset, errorCode.Size, errorCode.IsSigned));
        Assert.True(format.Field("common_pid")!.IsSigned);
        Assert.Equal(32, format.RecordSize);
        Assert.StartsWith("\"address=%ps", format.PrintFormat);
    }

    [Theory]
    [InlineData("field:char comm[16];\toffset:8;\tsize:16;\tsigned:0;", "comm", "char[16]", 16, false)]
    [InlineData("field:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;", "filename", "char[]", 0, true)]
    [InlineData("field:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;", "argv", "const char *const *", 0, false)]
    [InlineData("field:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;", "pid", "pid_t", 0, false)]
    public void ParsesDeclarationsOfEveryShape(string line, string name, string type, int arrayLength, bool dynamic)
    {
        TraceEventField field = TraceEventField.Parse(line);
        Assert.Equal(name, field.Name);
        Assert.Equal(type, field.Type);
        Assert.Equal(arrayLength, field.ArrayLength);
        Assert.Equal(dynamic, field.IsDynamic);
    }

    [Fact]
    public void RejectsTextThatIsNotAFormatFile()
    {
        var error = Assert.Throws<FormatException>(() => TraceEventFormat.Parse("hello\nworld"));
        Assert.Contains("name:", error.Message);
        Assert.Throws<FormatException>(() => TraceEventField.Parse("field:int x;\toffset:zz;"));
    }
}
