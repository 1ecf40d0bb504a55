using System.Runtime.InteropServices;
using BpfSharp.Tracing;

namespace BpfSharp.Tests.Tracing;

public class UsdtArgumentTests
{
    [Fact]
    public void ParsesPythonLineProbeArguments()
    {
        // python3.11's python:line probe on x86-64, from its .note.stapsdt.
        var args = UsdtArgument.ParseAll("8@%r14 8@%rax -4@%ebp", Architecture.X64);
        Assert.Equal(3, args.Count);
        Assert.Equal(new UsdtArgument(8, false, UsdtArgumentKind.Register, 0, "r14", 8), args[0]);
        Assert.Equal(new UsdtArgument(8, false, UsdtArgumentKind.Register, 0, "rax", 80), args[1]);
        Assert.Equal(new UsdtArgument(4, true, UsdtArgumentKind.Register, 0, "ebp", 32), args[2]);
        Assert.Equal(32, args[2].BitShift);
    }

    [Theory]
    [InlineData("-4@112(%rsp)", 4, true, UsdtArgumentKind.RegisterDereference, 112L, "rsp", 152)]
    [InlineData("8@-80(%rbx)", 8, false, UsdtArgumentKind.RegisterDereference, -80L, "rbx", 40)]
    [InlineData("4@(%rdi)", 4, false, UsdtArgumentKind.RegisterDereference, 0L, "rdi", 112)]
    [InlineData("-8@$5", 8, true, UsdtArgumentKind.Constant, 5L, null, 0)]
    [InlineData("1@$-1", 1, false, UsdtArgumentKind.Constant, -1L, null, 0)]
    [InlineData("2@%si", 2, false, UsdtArgumentKind.Register, 0L, "si", 104)]
    [InlineData("1@%dil", 1, false, UsdtArgumentKind.Register, 0L, "dil", 112)]
    [InlineData("8@0x10(%r9)", 8, false, UsdtArgumentKind.RegisterDereference, 16L, "r9", 64)]
    public void ParsesEveryX64Form(string text, int size, bool signed, UsdtArgumentKind kind, long value, string? register, int registerOffset)
    {
        UsdtArgument arg = Assert.Single(UsdtArgument.ParseAll(text, Architecture.X64));
        Assert.Equal((size, signed, kind, value, register, (short)registerOffset), (arg.Size, arg.IsSigned, arg.Kind, arg.ValueOrOffset, arg.Register, arg.RegisterOffset));
    }

    [Fact]
    public void ParsesX64ScaledIndex()
    {
        UsdtArgument arg = Assert.Single(UsdtArgument.ParseAll("-4@-8(%rbp,%rax,4)", Architecture.X64));
        Assert.Equal(UsdtArgumentKind.ScaledIndexDereference, arg.Kind);
        Assert.Equal((-8L, "rbp", (short)32, "rax", (short)80, 2), (arg.ValueOrOffset, arg.Register, arg.RegisterOffset, arg.IndexRegister, arg.IndexRegisterOffset, arg.ScaleShift));
        Assert.Equal(0, Assert.Single(UsdtArgument.ParseAll("8@(%rdi,%rsi)", Architecture.X64)).ScaleShift);
    }

    [Fact]
    public void ParsesArm64Forms()
    {
        var args = UsdtArgument.ParseAll("-4@[x29, -12] 8@x0 4@5 -8@[sp] 8@[x1, #16]", Architecture.Arm64);
        Assert.Equal(5, args.Count);
        Assert.Equal((UsdtArgumentKind.RegisterDereference, -12L, (short)(29 * 8)), (args[0].Kind, args[0].ValueOrOffset, args[0].RegisterOffset));
        Assert.True(args[0].IsSigned);
        Assert.Equal((UsdtArgumentKind.Register, (short)0), (args[1].Kind, args[1].RegisterOffset));
        Assert.Equal((UsdtArgumentKind.Constant, 5L), (args[2].Kind, args[2].ValueOrOffset));
        Assert.Equal((short)248, args[3].RegisterOffset);
        Assert.Equal(16L, args[4].ValueOrOffset);
    }

    [Theory]
    [InlineData("3@%rax", "size 3")]
    [InlineData("8@%ah", "%ah")]
    [InlineData("8@-8(%rbp,%rax,3)", "scale 3")]
    [InlineData("8@foo(%rip)", "expected a number")]
    [InlineData("8%rax", "expected '@'")]
    public void RejectsMalformedOrUnsupportedArguments(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => UsdtArgument.ParseAll(text, Architecture.X64));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void EmptyArgumentStringMeansNoArguments() => Assert.Empty(UsdtArgument.ParseAll("", Architecture.X64));
}
