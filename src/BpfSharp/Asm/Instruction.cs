namespace BpfSharp.Asm;

/// <summary>
/// One BPF instruction. The encoding is 8 bytes (opcode, dst/src registers, 16-bit offset, 32-bit
/// immediate); the 64-bit immediate load (<c>ld_imm64</c>, opcode 0x18) takes two slots and keeps
/// its whole 64-bit value in <see cref="Constant"/>.
/// </summary>
public readonly record struct Instruction
{
    /// <summary>The opcode byte: class in the low 3 bits, then source and operation (or size and mode) bits.</summary>
    public byte OpCode { get; init; }

    /// <summary>The destination register.</summary>
    public Register Dst { get; init; }

    /// <summary>The source register (for ld_imm64 and calls: the pseudo source kind).</summary>
    public Register Src { get; init; }

    /// <summary>The signed 16-bit offset: a jump distance in slots, or a memory offset.</summary>
    public short Offset { get; init; }

    /// <summary>The immediate, sign-extended from 32 bits; for ld_imm64 the full 64-bit value.</summary>
    public long Constant { get; init; }

    /// <summary>True for the two-slot 64-bit immediate load.</summary>
    public bool IsLoadImm64 => OpCode == 0x18;

    /// <summary>How many 8-byte slots the instruction occupies (2 for ld_imm64, else 1).</summary>
    public int Slots => IsLoadImm64 ? 2 : 1;
}
