using BpfSharp.Asm;

namespace BpfSharp.Tests.Programs;

/// <summary>
/// Raw instructions for program tests, written with their opcodes until the assembler lands;
/// each method is one BPF instruction form.
/// </summary>
internal static class Insn
{
    public static Instruction MovImm(Register dst, int value) => new() { OpCode = 0xb7, Dst = dst, Constant = value };
    public static Instruction MovReg(Register dst, Register src) => new() { OpCode = 0xbf, Dst = dst, Src = src };
    public static Instruction AddImm(Register dst, int value) => new() { OpCode = 0x07, Dst = dst, Constant = value };
    public static Instruction AddReg(Register dst, Register src) => new() { OpCode = 0x0f, Dst = dst, Src = src };
    public static Instruction MulImm(Register dst, int value) => new() { OpCode = 0x27, Dst = dst, Constant = value };
    public static Instruction SubImm(Register dst, int value) => new() { OpCode = 0x17, Dst = dst, Constant = value };
    public static Instruction LoadWord(Register dst, Register src, short offset) => new() { OpCode = 0x61, Dst = dst, Src = src, Offset = offset };
    public static Instruction LoadDouble(Register dst, Register src, short offset) => new() { OpCode = 0x79, Dst = dst, Src = src, Offset = offset };
    public static Instruction StoreWord(Register dst, short offset, Register src) => new() { OpCode = 0x63, Dst = dst, Src = src, Offset = offset };
    public static Instruction StoreDoubleImm(Register dst, short offset, int value) => new() { OpCode = 0x7a, Dst = dst, Offset = offset, Constant = value };
    public static Instruction AtomicAddWord(Register dst, short offset, Register src) => new() { OpCode = 0xc3, Dst = dst, Src = src, Offset = offset };
    public static Instruction JumpIfEqual(Register dst, int value, short offset) => new() { OpCode = 0x15, Dst = dst, Constant = value, Offset = offset };
    public static Instruction LoadMapFd(Register dst, int fd) => new() { OpCode = 0x18, Dst = dst, Src = (Register)1, Constant = fd };
    public static Instruction Call(HelperFunction helper) => new() { OpCode = 0x85, Constant = (int)helper };
    public static Instruction Exit() => new() { OpCode = 0x95 };

    /// <summary>r0 = value; exit.</summary>
    public static Instruction[] Return(int value) => [MovImm(Register.R0, value), Exit()];
}
