namespace BpfSharp.Asm;

/// <summary>
/// One BPF instruction. The encoding is 8 bytes (opcode, dst/src registers, 16-bit offset, 32-bit
/// immediate); the 64-bit immediate load (<c>ld_imm64</c>, opcode 0x18) takes two slots and keeps
/// its whole 64-bit value in <see cref="Constant"/>. Besides the wire fields an instruction can carry
/// a <see cref="Symbol"/> (a label naming it) and a <see cref="Reference"/> (a name it refers to),
/// which assemblers and loaders use to resolve jumps, calls, maps and globals; they are not encoded.
/// </summary>
public readonly partial record struct Instruction
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

    /// <summary>A name labelling this instruction: a function entry or a jump target. Not encoded.</summary>
    public string? Symbol { get; init; }

    /// <summary>
    /// A name this instruction refers to: a jump or call target label, a map, a global variable or a
    /// kfunc, to be resolved by an assembler or loader. Not encoded.
    /// </summary>
    public string? Reference { get; init; }

    /// <summary>True for the two-slot 64-bit immediate load.</summary>
    public bool IsLoadImm64 => OpCode == OpCodes.LoadImm64;

    /// <summary>How many 8-byte slots the instruction occupies (2 for ld_imm64, else 1).</summary>
    public int Slots => IsLoadImm64 ? 2 : 1;

    /// <summary>The instruction class (low 3 bits of the opcode).</summary>
    public InstructionClass Class => (InstructionClass)(OpCode & 0x07);

    /// <summary>For ALU and jump classes: whether the second operand is the immediate or the source register.</summary>
    public OperandSource Source => (OperandSource)(OpCode & 0x08);

    /// <summary>For ALU classes: the arithmetic operation.</summary>
    public AluOperation AluOperation => (AluOperation)(OpCode & 0xf0);

    /// <summary>For jump classes: the jump operation.</summary>
    public JumpOperation JumpOperation => (JumpOperation)(OpCode & 0xf0);

    /// <summary>For load and store classes: the access width.</summary>
    public AccessSize Size => (AccessSize)(OpCode & 0x18);

    /// <summary>For load and store classes: the addressing mode.</summary>
    public AccessMode Mode => (AccessMode)(OpCode & 0xe0);

    /// <summary>For atomic instructions: the atomic operation (held in the immediate).</summary>
    public AtomicOperation AtomicOperation => (AtomicOperation)unchecked((int)Constant);

    /// <summary>For ld_imm64: what its immediate means (the source register field).</summary>
    public PseudoSource PseudoSource => (PseudoSource)Src;

    /// <summary>For calls: what is called (the source register field).</summary>
    public CallSource CallSource => (CallSource)Src;

    /// <summary>For <c>BPF_ALU | BPF_END</c>: the target byte order (the source bit).</summary>
    public ByteOrder ByteOrder => (ByteOrder)(OpCode & 0x08);

    /// <summary>True for ALU and ALU64 instructions.</summary>
    public bool IsAlu => Class is InstructionClass.Alu or InstructionClass.Alu64;

    /// <summary>True for JMP and JMP32 instructions (including calls and exit).</summary>
    public bool IsJumpClass => Class is InstructionClass.Jump or InstructionClass.Jump32;

    /// <summary>True for a call of a helper, subprogram or kfunc.</summary>
    public bool IsCall => OpCode == OpCodes.Call;

    /// <summary>True for a call of a helper function.</summary>
    public bool IsHelperCall => IsCall && CallSource == CallSource.Helper;

    /// <summary>True for a call of a BPF subprogram (<c>BPF_PSEUDO_CALL</c>).</summary>
    public bool IsSubprogramCall => IsCall && CallSource == CallSource.Subprogram;

    /// <summary>True for a call of a kernel function (<c>BPF_PSEUDO_KFUNC_CALL</c>).</summary>
    public bool IsKfuncCall => IsCall && CallSource == CallSource.Kfunc;

    /// <summary>True for <c>exit</c>.</summary>
    public bool IsExit => OpCode == OpCodes.Exit;

    /// <summary>True for <c>gotol</c> (JMP32 | JA), whose distance is the 32-bit immediate.</summary>
    public bool IsLongJump => OpCode == OpCodes.GotoLong;

    /// <summary>
    /// True for an instruction that transfers control within the program to a slot given by a
    /// relative distance: conditional jumps, <c>goto</c>, <c>gotol</c> and <c>may_goto</c> (not calls or exit).
    /// </summary>
    public bool IsBranch => IsJumpClass && JumpOperation is not (JumpOperation.Call or JumpOperation.Exit);

    /// <summary>
    /// For branches, subprogram calls and <c>BPF_PSEUDO_FUNC</c> loads: the distance in slots to the
    /// target from the slot after this instruction's first slot (the offset, or the immediate for
    /// gotol, calls and function loads). For the two-slot function load that is its second slot, as
    /// the kernel computes the target as <c>index + imm + 1</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The instruction has no relative target.</exception>
    public int RelativeTarget
    {
        get
        {
            if (IsLongJump || IsSubprogramCall || (IsLoadImm64 && PseudoSource == PseudoSource.Function))
            {
                return unchecked((int)Constant);
            }
            if (IsBranch)
            {
                return Offset;
            }
            throw new InvalidOperationException($"opcode 0x{OpCode:x2} has no relative target");
        }
    }

    /// <summary>For memory accesses: the width in bytes (1, 2, 4 or 8).</summary>
    public int AccessBytes => Size switch
    {
        AccessSize.Byte => 1,
        AccessSize.Half => 2,
        AccessSize.Word => 4,
        _ => 8,
    };

    /// <summary>The instruction in llvm-objdump syntax (see <see cref="Disassembler"/>).</summary>
    public override string ToString() => Disassembler.Format(this);
}
