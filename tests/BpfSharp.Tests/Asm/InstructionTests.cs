using BpfSharp.Asm;

namespace BpfSharp.Tests.Asm;

public sealed class InstructionTests
{
    public static TheoryData<Instruction, string> V4Forms => new()
    {
        // Text as newer LLVM (17+) prints these instructions, which LLVM 14 cannot.
        { Instruction.SignedAlu(AluOperation.Div, Register.R1, Register.R2), "r1 s/= r2" },
        { Instruction.SignedAlu(AluOperation.Mod, Register.R1, Register.R2), "r1 s%= r2" },
        { Instruction.SignedAlu(AluOperation.Div, Register.R3, -7, wide: false), "w3 s/= -7" },
        { Instruction.SignedAlu(AluOperation.Mod, Register.R3, 5, wide: false), "w3 s%= 5" },
        { Instruction.MoveSignExtend(Register.R1, Register.R2, 8), "r1 = (s8)r2" },
        { Instruction.MoveSignExtend(Register.R1, Register.R2, 16), "r1 = (s16)r2" },
        { Instruction.MoveSignExtend(Register.R1, Register.R2, 32), "r1 = (s32)r2" },
        { Instruction.MoveSignExtend(Register.R4, Register.R5, 8, wide: false), "w4 = (s8)w5" },
        { Instruction.MoveSignExtend(Register.R4, Register.R5, 16, wide: false), "w4 = (s16)w5" },
        { Instruction.LoadMemorySignExtend(AccessSize.Byte, Register.R1, Register.R2, 0), "r1 = *(s8 *)(r2 + 0)" },
        { Instruction.LoadMemorySignExtend(AccessSize.Half, Register.R1, Register.R10, -6), "r1 = *(s16 *)(r10 - 6)" },
        { Instruction.LoadMemorySignExtend(AccessSize.Word, Register.R0, Register.R1, 12), "r0 = *(s32 *)(r1 + 12)" },
        { Instruction.ByteSwap(Register.R1, 16), "r1 = bswap16 r1" },
        { Instruction.ByteSwap(Register.R2, 32), "r2 = bswap32 r2" },
        { Instruction.ByteSwap(Register.R3, 64), "r3 = bswap64 r3" },
        { Instruction.GotoLong(5), "gotol +5" },
        { Instruction.GotoLong(-100000), "gotol -100000" },
        { Instruction.MayGoto(5), "may_goto +5" },
        { Instruction.StoreImmediate(AccessSize.Word, Register.R10, -4, 7), "*(u32 *)(r10 - 4) = 7" },
        { Instruction.StoreImmediate(AccessSize.DoubleWord, Register.R1, 8, -1), "*(u64 *)(r1 + 8) = -1" },
        { Instruction.Atomic(AtomicOperation.LoadAcquire, AccessSize.Byte, Register.R0, 0, Register.R1), "w0 = load_acquire((u8 *)(r1 + 0))" },
        { Instruction.Atomic(AtomicOperation.LoadAcquire, AccessSize.DoubleWord, Register.R0, 8, Register.R1), "r0 = load_acquire((u64 *)(r1 + 8))" },
        { Instruction.Atomic(AtomicOperation.StoreRelease, AccessSize.Half, Register.R1, 0, Register.R2), "store_release((u16 *)(r1 + 0), w2)" },
        { Instruction.Atomic(AtomicOperation.StoreRelease, AccessSize.DoubleWord, Register.R1, -8, Register.R2), "store_release((u64 *)(r1 - 8), r2)" },
        { Instruction.Jump64(JumpOperation.BitsSet, Register.R1, 4, 2), "if r1 & 4 goto +2" },
        { Instruction.Jump32(JumpOperation.BitsSet, Register.R1, Register.R2, -3), "if w1 & w2 goto -3" },
        { Instruction.Alu64(AluOperation.Mod, Register.R1, 10), "r1 %= 10" },
        { Instruction.CallKfunc(12345), "call 12345" },
        { Instruction.LoadIndirect(AccessSize.Word, Register.R2, 14), "r0 = *(u32 *)skb[r2 + 14]" },
    };

    [Theory]
    [MemberData(nameof(V4Forms))]
    public void FormatsNewerInstructionsInNewerLlvmSyntax(Instruction instruction, string expected)
    {
        Assert.Equal(expected, Disassembler.Format(instruction));
        Assert.Equal(instruction, RoundTrip(instruction));
    }

    [Fact]
    public void FactoriesEncodeTheKernelFields()
    {
        Instruction sdiv = Instruction.SignedAlu(AluOperation.Div, Register.R1, Register.R2);
        Assert.Equal(0x3f, sdiv.OpCode);
        Assert.Equal(1, sdiv.Offset);
        Instruction movsx = Instruction.MoveSignExtend(Register.R1, Register.R2, 16);
        Assert.Equal(0xbf, movsx.OpCode);
        Assert.Equal(16, movsx.Offset);
        Assert.Equal(0xd7, Instruction.ByteSwap(Register.R1, 64).OpCode);
        Assert.Equal(0xdc, Instruction.ToByteOrder(ByteOrder.BigEndian, Register.R1, 16).OpCode);
        Assert.Equal(0x06, Instruction.GotoLong(1).OpCode);
        Assert.Equal(0xe5, Instruction.MayGoto(1).OpCode);
        Assert.Equal(0x91, Instruction.LoadMemorySignExtend(AccessSize.Byte, Register.R1, Register.R2, 0).OpCode);
        Instruction acquire = Instruction.Atomic(AtomicOperation.LoadAcquire, AccessSize.Word, Register.R0, 0, Register.R1);
        Assert.Equal(0xc3, acquire.OpCode);
        Assert.Equal(0x100, acquire.Constant);
        Assert.Equal(0xdb, Instruction.Atomic(AtomicOperation.CompareExchange, AccessSize.DoubleWord, Register.R1, 0, Register.R2).OpCode);
        Assert.Equal(0xf1, Instruction.Atomic(AtomicOperation.CompareExchange, AccessSize.DoubleWord, Register.R1, 0, Register.R2).Constant);

        Instruction mapValue = Instruction.LoadMapValue(Register.R1, 7, 16);
        Assert.Equal(PseudoSource.MapValue, mapValue.PseudoSource);
        byte[] bytes = InstructionEncoding.Encode([mapValue]);
        Assert.Equal(new byte[] { 0x18, 0x21, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0 }, bytes);

        Instruction call = Instruction.CallSubprogram(-5);
        Assert.True(call.IsSubprogramCall);
        Assert.Equal(-5, call.RelativeTarget);
        Assert.True(Instruction.CallKfunc(99).IsKfuncCall);
        Assert.True(Instruction.Call(HelperFunction.KtimeGetNs).IsHelperCall);
    }

    [Fact]
    public void AccessorsDecodeOpcodeParts()
    {
        var load = new Instruction { OpCode = 0x79, Dst = Register.R1, Src = Register.R10, Offset = -8 };
        Assert.Equal(InstructionClass.LoadX, load.Class);
        Assert.Equal(AccessSize.DoubleWord, load.Size);
        Assert.Equal(AccessMode.Memory, load.Mode);
        Assert.Equal(8, load.AccessBytes);

        var jump = new Instruction { OpCode = 0x6e, Dst = Register.R1, Src = Register.R2, Offset = -2 };
        Assert.Equal(InstructionClass.Jump32, jump.Class);
        Assert.Equal(JumpOperation.SignedGreater, jump.JumpOperation);
        Assert.Equal(OperandSource.Register, jump.Source);
        Assert.True(jump.IsBranch);
        Assert.Equal(-2, jump.RelativeTarget);

        var alu = new Instruction { OpCode = 0xcc };
        Assert.Equal(AluOperation.ArithmeticRightShift, alu.AluOperation);
        Assert.Equal(InstructionClass.Alu, alu.Class);
        Assert.Throws<InvalidOperationException>(() => alu.RelativeTarget);

        var fetch = new Instruction { OpCode = 0xdb, Constant = 0xa1 };
        Assert.Equal(AtomicOperation.FetchXor, fetch.AtomicOperation);
        Assert.False(Instruction.Exit().IsBranch);
        Assert.True(Instruction.Exit().IsExit);
    }

    [Fact]
    public void FactoriesRejectWhatTheEncodingCannotHold()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.MoveSignExtend(Register.R1, Register.R2, 32, wide: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.MoveSignExtend(Register.R1, Register.R2, 12));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.ByteSwap(Register.R1, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.LoadMemorySignExtend(AccessSize.DoubleWord, Register.R1, Register.R2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Atomic(AtomicOperation.FetchAdd, AccessSize.Byte, Register.R1, 0, Register.R2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Atomic((AtomicOperation)0x33, AccessSize.Word, Register.R1, 0, Register.R2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Alu64(AluOperation.Negate, Register.R1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Jump64(JumpOperation.Call, Register.R1, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.SignedAlu(AluOperation.Add, Register.R1, Register.R2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Move64((Register)11, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.LoadAbsolute(AccessSize.DoubleWord, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.LoadMapFd(Register.R1, -1));
    }

    [Fact]
    public void EncodingRejectsImmediatesWiderThan32Bits()
    {
        var tooWide = new Instruction { OpCode = 0xb7, Dst = Register.R1, Constant = 1L << 33 };
        ArgumentException error = Assert.Throws<ArgumentException>(() => InstructionEncoding.Encode([tooWide]));
        Assert.Contains("does not fit in 32 bits", error.Message);
        // The unsigned view of 32 bits is accepted and reads back sign-extended.
        var unsigned = new Instruction { OpCode = 0xb7, Dst = Register.R1, Constant = 0xffffffff };
        Assert.Equal(-1, RoundTrip(unsigned).Constant);
    }

    [Fact]
    public void DecodingRejectsMalformedLoadImm64()
    {
        byte[] truncated = [0x18, 0x01, 0, 0, 1, 0, 0, 0];
        Assert.Throws<FormatException>(() => InstructionEncoding.Decode(truncated));
        byte[] secondSlotOpcode = [0x18, 0x01, 0, 0, 1, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0];
        Assert.Throws<FormatException>(() => InstructionEncoding.Decode(secondSlotOpcode));
        Assert.Throws<FormatException>(() => InstructionEncoding.Decode(new byte[12]));
    }

    [Fact]
    public void EveryEncodingRoundTrips()
    {
        // Decode then encode every opcode with varied fields: the wire form must survive unchanged,
        // and decoding the result again must give an equal instruction.
        var random = new Random(1234);
        Span<byte> slot = stackalloc byte[16];
        for (int opcode = 0; opcode < 256; opcode++)
        {
            for (int trial = 0; trial < 50; trial++)
            {
                random.NextBytes(slot);
                slot[0] = (byte)opcode;
                slot[8] = slot[9] = slot[10] = slot[11] = 0;
                Instruction decoded = InstructionEncoding.Decode(slot, out int size);
                byte[] encoded = new byte[size];
                InstructionEncoding.Encode(decoded, encoded);
                Assert.Equal(slot[..size].ToArray(), encoded);
                Assert.Equal(decoded, RoundTrip(decoded));
                Assert.False(string.IsNullOrEmpty(Disassembler.Format(decoded)));
            }
        }
    }

    [Fact]
    public void MetadataDoesNotChangeTheEncoding()
    {
        Instruction plain = Instruction.Jump64(JumpOperation.Equal, Register.R1, 0, 3);
        Instruction labelled = plain with { Symbol = "entry", Reference = "out" };
        Assert.Equal(InstructionEncoding.Encode([plain]), InstructionEncoding.Encode([labelled]));
        Assert.Equal("if r1 == 0 goto +3", labelled.ToString());
    }

    [Fact]
    public void HelperNamesMapOntoTheGeneratedEnum()
    {
        Assert.Equal(HelperFunction.KtimeGetNs, HelperFunctions.Parse("bpf_ktime_get_ns"));
        Assert.Equal(HelperFunction.MapLookupPerCpuElem, HelperFunctions.Parse("bpf_map_lookup_percpu_elem"));
        Assert.Equal(HelperFunction.RingBufOutput, HelperFunctions.Parse("bpf_ringbuf_output"));
        Assert.Equal(HelperFunction.GetCurrentPidTgid, HelperFunctions.Parse("get_current_pid_tgid"));
        Assert.Equal(HelperFunction.TailCall, HelperFunctions.Parse("TailCall"));
        Assert.False(HelperFunctions.TryParse("bpf_no_such_helper", out _));
        Assert.False(HelperFunctions.TryParse("bpf_unspec", out _));
        ArgumentException error = Assert.Throws<ArgumentException>(() => HelperFunctions.Parse("bpf_nope"));
        Assert.Contains("bpf_nope", error.Message);
        // The normalization must not merge two helpers into one name.
        Assert.Equal(Enum.GetValues<HelperFunction>().Length,
            Enum.GetNames<HelperFunction>().Select(n => n.ToLowerInvariant()).Distinct().Count());
    }

    private static Instruction RoundTrip(Instruction instruction)
    {
        byte[] bytes = InstructionEncoding.Encode([instruction]);
        List<Instruction> decoded = InstructionEncoding.Decode(bytes);
        return Assert.Single(decoded);
    }
}
