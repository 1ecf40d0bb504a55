using BpfSharp.Symbols;

namespace BpfSharp.Tests.Symbols;

public class KernelSymbolsTests
{
    private static readonly KernelSymbols Sample = KernelSymbols.From(
    [
        new KernelSymbol(0xffffffff81000000, "_stext", 'T', null),
        new KernelSymbol(0xffffffff81000000, "_text", 'D', null),
        new KernelSymbol(0xffffffff81001000, "do_sys_open", 'T', null),
        new KernelSymbol(0xffffffff81002000, "vfs_write", 'T', null),
        new KernelSymbol(0xffffffffc0201000, "veth_xmit", 't', "veth"),
    ]);

    [Theory]
    [InlineData(0xffffffff81001010UL, "do_sys_open+0x10")]
    [InlineData(0xffffffff81002000UL, "vfs_write")]
    [InlineData(0xffffffff81000004UL, "_stext+0x4")] // a code symbol is preferred at a shared address
    [InlineData(0xffffffffc0201020UL, "veth_xmit+0x20 [veth]")]
    [InlineData(0x1000UL, "0x1000")]
    public void DescribesAddresses(ulong address, string expected) => Assert.Equal(expected, Sample.Describe(address));

    [Fact]
    public void FindsByName()
    {
        Assert.Equal(0xffffffff81002000UL, Sample.Find("vfs_write")!.Value.Address);
        Assert.Null(Sample.Find("no_such_symbol"));
    }

    [Theory]
    [InlineData("ffffffff81000000 T _stext", 0xffffffff81000000UL, "_stext", 'T', null)]
    [InlineData("ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]", 0xffffffffc0201000UL, "ftrace_trampoline", 't', "__builtin__ftrace")]
    public void ParsesKallsymsLines(string line, ulong address, string name, char type, string? module)
    {
        Assert.True(KernelSymbols.TryParseLine(line, out KernelSymbol symbol));
        Assert.Equal(new KernelSymbol(address, name, type, module), symbol);
        Assert.False(KernelSymbols.TryParseLine("garbage", out _));
    }

    [KernelFact]
    [Trait("Category", "Kernel")]
    public void RunningKernelResolvesItsOwnFunctions()
    {
        KernelSymbols symbols = KernelSymbols.Current;
        Assert.True(symbols.HasAddresses, "root should see kallsyms addresses");
        KernelSymbol vfsWrite = symbols.Find("vfs_write")!.Value;
        Assert.True(vfsWrite.IsFunction);
        Assert.Equal("vfs_write+0x4", symbols.Describe(vfsWrite.Address + 4));
        Assert.True(symbols.Count > 50_000);
    }
}
