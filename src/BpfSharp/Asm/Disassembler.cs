using System.Globalization;
using System.Text;

namespace BpfSharp.Asm;

/// <summary>How the disassembler names registers in 32-bit memory operations.</summary>
public enum DisassemblerSyntax
{
    /// <summary>
    /// As <c>llvm-objdump -d</c> prints by default: loads and stores of 1-4 bytes name 64-bit
    /// registers (<c>r1 = *(u32 *)(r2 + 0)</c>); 32-bit atomics that this view has no form for print in
    /// the <see cref="Alu32"/> form.
    /// </summary>
    Default,

    /// <summary>
    /// As <c>llvm-objdump -d --mattr=+alu32</c> prints (the view of code compiled with <c>-mcpu=v3</c>
    /// and later): loads and stores of 1-4 bytes name 32-bit subregisters (<c>w1 = *(u32 *)(r2 + 0)</c>).
    /// </summary>
    Alu32,
}

/// <summary>
/// Turns instructions into text in LLVM's BPF assembly syntax: what <c>llvm-objdump-14 -d</c> prints
/// for every instruction LLVM 14 knows, and the syntax of newer LLVM for later additions (signed
/// division, sign-extending moves and loads, <c>bswap</c>, <c>gotol</c>, <c>may_goto</c>, stores of
/// immediates, load-acquire and store-release). Opcodes with no meaning print as <c>&lt;unknown&gt;</c>,
/// as llvm-objdump does.
/// </summary>
public static class Disassembler
{
    /// <summary>The text printed for an opcode that has no meaning.</summary>
    public const string Unknown = "<unknown>";

    /// <summary>Formats one instruction, e.g. <c>r1 = *(u64 *)(r10 - 8)</c> or <c>if w1 s&gt; 5 goto -2</c>.</summary>
    public static string Format(Instruction instruction, DisassemblerSyntax syntax = DisassemblerSyntax.Default) =>
        instruction.Class switch
        {
            InstructionClass.Alu or InstructionClass.Alu64 => FormatAlu(instruction),
            InstructionClass.Jump or InstructionClass.Jump32 => FormatJump(instruction),
            InstructionClass.Load => FormatLoad(instruction),
            InstructionClass.LoadX => FormatLoadX(instruction, syntax),
            InstructionClass.Store => FormatStore(instruction),
            _ => FormatStoreX(instruction, syntax),
        };

    /// <summary>
    /// Formats a program as a listing: one line per instruction with its slot number, a <c>name:</c>
    /// line before every instruction that carries a <see cref="Instruction.Symbol"/>, and the
    /// <see cref="Instruction.Reference"/> of jumps, calls and loads as a trailing <c>&lt;name&gt;</c>.
    /// </summary>
    public static string FormatListing(IEnumerable<Instruction> instructions, DisassemblerSyntax syntax = DisassemblerSyntax.Default) =>
        FormatListing(instructions, syntax, null);

    /// <summary>
    /// Formats a program as a listing like <see cref="FormatListing(IEnumerable{Instruction}, DisassemblerSyntax)"/>, with
    /// comment lines (<c>; text</c>, as <c>llvm-objdump -S</c> prints source lines) before the instructions for which
    /// <paramref name="commentAt"/> returns text.
    /// </summary>
    /// <param name="instructions">The program.</param>
    /// <param name="syntax">Register naming.</param>
    /// <param name="commentAt">Given an instruction's slot number, the comment to print before it, or null.</param>
    public static string FormatListing(IEnumerable<Instruction> instructions, DisassemblerSyntax syntax, Func<int, string?>? commentAt)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var text = new StringBuilder();
        int slot = 0;
        foreach (Instruction instruction in instructions)
        {
            if (instruction.Symbol is not null)
            {
                text.Append(instruction.Symbol).Append(":\n");
            }
            if (commentAt?.Invoke(slot) is { } comment)
            {
                foreach (string line in comment.Split('\n'))
                {
                    text.Append("; ").Append(line).Append('\n');
                }
            }
            text.Append(CultureInfo.InvariantCulture, $"{slot,8}:\t").Append(Format(instruction, syntax));
            if (instruction.Reference is not null)
            {
                text.Append(" <").Append(instruction.Reference).Append('>');
            }
            text.Append('\n');
            slot += instruction.Slots;
        }
        return text.ToString();
    }

    private static string FormatAlu(Instruction instruction)
    {
        bool wide = instruction.Class == InstructionClass.Alu64;
        string dst = Reg(instruction.Dst, wide);
        bool fromRegister = instruction.Source == OperandSource.Register;
        string operand = fromRegister ? Reg(instruction.Src, wide) : Imm(instruction);
        switch (instruction.AluOperation)
        {
            case AluOperation.Negate:
                return fromRegister ? Unknown : $"{dst} = -{dst}";
            case AluOperation.ByteSwap:
                return FormatByteSwap(instruction, wide);
            case AluOperation.Move:
                if (instruction.Offset == 0 || !fromRegister)
                {
                    return $"{dst} = {operand}";
                }
                // movsx (v4): the offset is the width to sign-extend from.
                return instruction.Offset is 8 or 16 || (wide && instruction.Offset == 32)
                    ? $"{dst} = (s{instruction.Offset}){operand}"
                    : Unknown;
            case AluOperation.Div or AluOperation.Mod when instruction.Offset != 0:
                // sdiv/smod (v4) are div/mod with offset 1.
                if (instruction.Offset != 1)
                {
                    return Unknown;
                }
                return $"{dst} s{(instruction.AluOperation == AluOperation.Div ? "/" : "%")}= {operand}";
        }
        string? symbol = instruction.AluOperation switch
        {
            AluOperation.Add => "+=",
            AluOperation.Sub => "-=",
            AluOperation.Mul => "*=",
            AluOperation.Div => "/=",
            AluOperation.Or => "|=",
            AluOperation.And => "&=",
            AluOperation.LeftShift => "<<=",
            AluOperation.RightShift => ">>=",
            AluOperation.Mod => "%=",
            AluOperation.Xor => "^=",
            AluOperation.ArithmeticRightShift => "s>>=",
            _ => null,
        };
        return symbol is null ? Unknown : $"{dst} {symbol} {operand}";
    }

    private static string FormatByteSwap(Instruction instruction, bool wide)
    {
        if (instruction.Constant is not (16 or 32 or 64))
        {
            return Unknown;
        }
        string dst = Reg(instruction.Dst, wide: true);
        if (wide)
        {
            // ALU64 | END is the unconditional bswap (v4); its source bit is reserved.
            return instruction.Source == OperandSource.Constant ? $"{dst} = bswap{instruction.Constant} {dst}" : Unknown;
        }
        string order = instruction.ByteOrder == ByteOrder.BigEndian ? "be" : "le";
        return $"{dst} = {order}{instruction.Constant} {dst}";
    }

    private static string FormatJump(Instruction instruction)
    {
        bool wide = instruction.Class == InstructionClass.Jump;
        JumpOperation operation = instruction.JumpOperation;
        switch (operation)
        {
            case JumpOperation.Always:
                return wide ? $"goto {Distance(instruction.Offset)}" : $"gotol {Distance(unchecked((int)instruction.Constant))}";
            case JumpOperation.Call when wide:
                // callx (BPF_X) takes the target from a register; plain calls print their immediate.
                return instruction.Source == OperandSource.Register
                    ? $"callx {Reg(instruction.Dst, wide: true)}"
                    : $"call {Imm(instruction)}";
            case JumpOperation.Exit when wide:
                return "exit";
            case JumpOperation.Conditional when wide:
                return $"may_goto {Distance(instruction.Offset)}";
        }
        string? comparison = operation switch
        {
            JumpOperation.Equal => "==",
            JumpOperation.Greater => ">",
            JumpOperation.GreaterOrEqual => ">=",
            JumpOperation.BitsSet => "&",
            JumpOperation.NotEqual => "!=",
            JumpOperation.SignedGreater => "s>",
            JumpOperation.SignedGreaterOrEqual => "s>=",
            JumpOperation.Less => "<",
            JumpOperation.LessOrEqual => "<=",
            JumpOperation.SignedLess => "s<",
            JumpOperation.SignedLessOrEqual => "s<=",
            _ => null,
        };
        if (comparison is null)
        {
            return Unknown;
        }
        string operand = instruction.Source == OperandSource.Register ? Reg(instruction.Src, wide) : Imm(instruction);
        return $"if {Reg(instruction.Dst, wide)} {comparison} {operand} goto {Distance(instruction.Offset)}";
    }

    private static string FormatLoad(Instruction instruction)
    {
        if (instruction.IsLoadImm64)
        {
            // LLVM prints pseudo loads (map fds, map values, ...) with the first slot's immediate only.
            return instruction.Src == Register.R0
                ? $"{Reg(instruction.Dst, wide: true)} = {instruction.Constant.ToString(CultureInfo.InvariantCulture)} ll"
                : $"ld_pseudo {Reg(instruction.Dst, wide: true)}, {(byte)instruction.Src}, {unchecked((uint)instruction.Constant).ToString(CultureInfo.InvariantCulture)}";
        }
        if (instruction.Size == AccessSize.DoubleWord)
        {
            return Unknown;
        }
        string type = TypeName(instruction.Size, signed: false);
        switch (instruction.Mode)
        {
            case AccessMode.Absolute:
                return $"r0 = *({type} *)skb[{Imm(instruction)}]";
            case AccessMode.Indirect:
                string source = Reg(instruction.Src, wide: true);
                return instruction.Constant == 0
                    ? $"r0 = *({type} *)skb[{source}]"
                    : $"r0 = *({type} *)skb[{source} {Displacement(instruction.Constant)}]";
            default:
                return Unknown;
        }
    }

    private static string FormatLoadX(Instruction instruction, DisassemblerSyntax syntax)
    {
        bool signExtend = instruction.Mode == AccessMode.MemorySignExtend;
        if (!(instruction.Mode == AccessMode.Memory || (signExtend && instruction.Size != AccessSize.DoubleWord)))
        {
            return Unknown;
        }
        // Sign-extending loads fill all 64 bits, so they always name the full register.
        bool wide = signExtend || syntax == DisassemblerSyntax.Default || instruction.Size == AccessSize.DoubleWord;
        return $"{Reg(instruction.Dst, wide)} = {Memory(instruction.Size, signExtend, instruction.Src, instruction.Offset)}";
    }

    private static string FormatStore(Instruction instruction) =>
        instruction.Mode == AccessMode.Memory
            ? $"{Memory(instruction.Size, false, instruction.Dst, instruction.Offset)} = {Imm(instruction)}"
            : Unknown;

    private static string FormatStoreX(Instruction instruction, DisassemblerSyntax syntax)
    {
        bool doubleWord = instruction.Size == AccessSize.DoubleWord;
        if (instruction.Mode == AccessMode.Memory)
        {
            bool wide = doubleWord || syntax == DisassemblerSyntax.Default;
            return $"{Memory(instruction.Size, false, instruction.Dst, instruction.Offset)} = {Reg(instruction.Src, wide)}";
        }
        if (instruction.Mode != AccessMode.Atomic)
        {
            return Unknown;
        }
        string address = $"{Reg(instruction.Dst, wide: true)} {Displacement(instruction.Offset)}";
        string pointer = $"({TypeName(instruction.Size, signed: false)} *)({address})";
        string src = Reg(instruction.Src, doubleWord);
        switch (instruction.AtomicOperation)
        {
            case AtomicOperation.LoadAcquire:
                // Here dst is loaded from src + offset.
                return $"{Reg(instruction.Dst, doubleWord)} = load_acquire(({TypeName(instruction.Size, false)} *)({Reg(instruction.Src, true)} {Displacement(instruction.Offset)}))";
            case AtomicOperation.StoreRelease:
                return $"store_release({pointer}, {src})";
        }
        if (instruction.Size is not (AccessSize.Word or AccessSize.DoubleWord))
        {
            return Unknown;
        }
        switch (instruction.AtomicOperation)
        {
            case AtomicOperation.Add:
                // llvm-objdump's default view names the operand of a 32-bit add with its 64-bit register.
                string addend = Reg(instruction.Src, doubleWord || syntax == DisassemblerSyntax.Default);
                return $"lock *{pointer} += {addend}";
            case AtomicOperation.Or:
                return $"lock *{pointer} |= {src}";
            case AtomicOperation.And:
                return $"lock *{pointer} &= {src}";
            case AtomicOperation.Xor:
                return $"lock *{pointer} ^= {src}";
            case AtomicOperation.FetchAdd:
                return $"{src} = atomic_fetch_add({pointer}, {src})";
            case AtomicOperation.FetchOr:
                return $"{src} = atomic_fetch_or({pointer}, {src})";
            case AtomicOperation.FetchAnd:
                return $"{src} = atomic_fetch_and({pointer}, {src})";
            case AtomicOperation.FetchXor:
                return $"{src} = atomic_fetch_xor({pointer}, {src})";
            case AtomicOperation.Exchange:
                return doubleWord ? $"{src} = xchg_64({address}, {src})" : $"{src} = xchg32_32({address}, {src})";
            case AtomicOperation.CompareExchange:
                string r0 = Reg(Register.R0, doubleWord);
                return doubleWord
                    ? $"{r0} = cmpxchg_64({address}, {r0}, {src})"
                    : $"{r0} = cmpxchg32_32({address}, {r0}, {src})";
            default:
                return Unknown;
        }
    }

    private static string Memory(AccessSize size, bool signed, Register baseRegister, short offset) =>
        $"*({TypeName(size, signed)} *)({Reg(baseRegister, wide: true)} {Displacement(offset)})";

    private static string TypeName(AccessSize size, bool signed) => (signed ? "s" : "u") + size switch
    {
        AccessSize.Byte => "8",
        AccessSize.Half => "16",
        AccessSize.Word => "32",
        _ => "64",
    };

    private static string Reg(Register register, bool wide) =>
        (wide ? "r" : "w") + ((byte)register).ToString(CultureInfo.InvariantCulture);

    private static string Imm(Instruction instruction) =>
        unchecked((int)instruction.Constant).ToString(CultureInfo.InvariantCulture);

    private static string Displacement(long offset) =>
        offset < 0 ? "- " + (-offset).ToString(CultureInfo.InvariantCulture) : "+ " + offset.ToString(CultureInfo.InvariantCulture);

    private static string Distance(int distance) =>
        (distance >= 0 ? "+" : "") + distance.ToString(CultureInfo.InvariantCulture);
}
