namespace BpfSharp.Asm;

/// <summary>The instruction class: the low 3 bits of the opcode (<c>BPF_CLASS</c>).</summary>
public enum InstructionClass : byte
{
    /// <summary><c>BPF_LD</c>: 64-bit immediate loads and the legacy packet loads (abs/ind).</summary>
    Load = 0x00,
    /// <summary><c>BPF_LDX</c>: loads from memory into a register.</summary>
    LoadX = 0x01,
    /// <summary><c>BPF_ST</c>: stores of an immediate into memory.</summary>
    Store = 0x02,
    /// <summary><c>BPF_STX</c>: stores of a register into memory, and atomic operations.</summary>
    StoreX = 0x03,
    /// <summary><c>BPF_ALU</c>: 32-bit arithmetic (the upper half of the destination is zeroed).</summary>
    Alu = 0x04,
    /// <summary><c>BPF_JMP</c>: 64-bit compares and jumps, calls and exit.</summary>
    Jump = 0x05,
    /// <summary><c>BPF_JMP32</c>: 32-bit compares and jumps, and <c>gotol</c>.</summary>
    Jump32 = 0x06,
    /// <summary><c>BPF_ALU64</c>: 64-bit arithmetic.</summary>
    Alu64 = 0x07,
}

/// <summary>Where the second operand of an ALU or jump instruction comes from (<c>BPF_SRC</c>, bit 3).</summary>
public enum OperandSource : byte
{
    /// <summary><c>BPF_K</c>: the 32-bit immediate.</summary>
    Constant = 0x00,
    /// <summary><c>BPF_X</c>: the source register.</summary>
    Register = 0x08,
}

/// <summary>The operation of an ALU or ALU64 instruction (<c>BPF_OP</c>, bits 4-7).</summary>
public enum AluOperation : byte
{
    /// <summary><c>BPF_ADD</c>: dst += src.</summary>
    Add = 0x00,
    /// <summary><c>BPF_SUB</c>: dst -= src.</summary>
    Sub = 0x10,
    /// <summary><c>BPF_MUL</c>: dst *= src.</summary>
    Mul = 0x20,
    /// <summary><c>BPF_DIV</c>: dst /= src, unsigned; signed (<c>s/=</c>) when the offset is 1 (v4).</summary>
    Div = 0x30,
    /// <summary><c>BPF_OR</c>: dst |= src.</summary>
    Or = 0x40,
    /// <summary><c>BPF_AND</c>: dst &amp;= src.</summary>
    And = 0x50,
    /// <summary><c>BPF_LSH</c>: dst &lt;&lt;= src.</summary>
    LeftShift = 0x60,
    /// <summary><c>BPF_RSH</c>: dst &gt;&gt;= src, logical.</summary>
    RightShift = 0x70,
    /// <summary><c>BPF_NEG</c>: dst = -dst.</summary>
    Negate = 0x80,
    /// <summary><c>BPF_MOD</c>: dst %= src, unsigned; signed (<c>s%=</c>) when the offset is 1 (v4).</summary>
    Mod = 0x90,
    /// <summary><c>BPF_XOR</c>: dst ^= src.</summary>
    Xor = 0xa0,
    /// <summary><c>BPF_MOV</c>: dst = src; sign-extending from 8/16/32 bits when the offset says so (v4).</summary>
    Move = 0xb0,
    /// <summary><c>BPF_ARSH</c>: dst s&gt;&gt;= src, arithmetic.</summary>
    ArithmeticRightShift = 0xc0,
    /// <summary><c>BPF_END</c>: byte order conversion (ALU) or unconditional byte swap (ALU64, v4); the width is the immediate.</summary>
    ByteSwap = 0xd0,
}

/// <summary>The operation of a JMP or JMP32 instruction (<c>BPF_OP</c>, bits 4-7).</summary>
public enum JumpOperation : byte
{
    /// <summary><c>BPF_JA</c>: unconditional jump (<c>goto</c>; in JMP32 <c>gotol</c> with a 32-bit distance).</summary>
    Always = 0x00,
    /// <summary><c>BPF_JEQ</c>: jump if dst == src.</summary>
    Equal = 0x10,
    /// <summary><c>BPF_JGT</c>: jump if dst &gt; src, unsigned.</summary>
    Greater = 0x20,
    /// <summary><c>BPF_JGE</c>: jump if dst &gt;= src, unsigned.</summary>
    GreaterOrEqual = 0x30,
    /// <summary><c>BPF_JSET</c>: jump if dst &amp; src is not zero.</summary>
    BitsSet = 0x40,
    /// <summary><c>BPF_JNE</c>: jump if dst != src.</summary>
    NotEqual = 0x50,
    /// <summary><c>BPF_JSGT</c>: jump if dst &gt; src, signed.</summary>
    SignedGreater = 0x60,
    /// <summary><c>BPF_JSGE</c>: jump if dst &gt;= src, signed.</summary>
    SignedGreaterOrEqual = 0x70,
    /// <summary><c>BPF_CALL</c>: call a helper, a subprogram or a kfunc (see <see cref="CallSource"/>).</summary>
    Call = 0x80,
    /// <summary><c>BPF_EXIT</c>: return from the (sub)program with R0.</summary>
    Exit = 0x90,
    /// <summary><c>BPF_JLT</c>: jump if dst &lt; src, unsigned.</summary>
    Less = 0xa0,
    /// <summary><c>BPF_JLE</c>: jump if dst &lt;= src, unsigned.</summary>
    LessOrEqual = 0xb0,
    /// <summary><c>BPF_JSLT</c>: jump if dst &lt; src, signed.</summary>
    SignedLess = 0xc0,
    /// <summary><c>BPF_JSLE</c>: jump if dst &lt;= src, signed.</summary>
    SignedLessOrEqual = 0xd0,
    /// <summary><c>BPF_JCOND</c>: a conditional pseudo jump decided by the verifier (<c>may_goto</c>).</summary>
    Conditional = 0xe0,
}

/// <summary>The width of a memory access (<c>BPF_SIZE</c>, bits 3-4).</summary>
public enum AccessSize : byte
{
    /// <summary><c>BPF_W</c>: 4 bytes.</summary>
    Word = 0x00,
    /// <summary><c>BPF_H</c>: 2 bytes.</summary>
    Half = 0x08,
    /// <summary><c>BPF_B</c>: 1 byte.</summary>
    Byte = 0x10,
    /// <summary><c>BPF_DW</c>: 8 bytes.</summary>
    DoubleWord = 0x18,
}

/// <summary>The addressing mode of a load or store (<c>BPF_MODE</c>, bits 5-7).</summary>
public enum AccessMode : byte
{
    /// <summary><c>BPF_IMM</c>: the 64-bit immediate load (with <see cref="AccessSize.DoubleWord"/>).</summary>
    Immediate = 0x00,
    /// <summary><c>BPF_ABS</c>: legacy packet load at a constant offset into R0.</summary>
    Absolute = 0x20,
    /// <summary><c>BPF_IND</c>: legacy packet load at src + constant into R0.</summary>
    Indirect = 0x40,
    /// <summary><c>BPF_MEM</c>: load or store at register + offset.</summary>
    Memory = 0x60,
    /// <summary><c>BPF_MEMSX</c>: sign-extending load at register + offset (v4).</summary>
    MemorySignExtend = 0x80,
    /// <summary><c>BPF_ATOMIC</c>: atomic operation on memory; the operation is the immediate.</summary>
    Atomic = 0xc0,
}

/// <summary>The atomic operation of a <c>BPF_STX | BPF_ATOMIC</c> instruction, held in its immediate.</summary>
public enum AtomicOperation : int
{
    /// <summary><c>lock *(dst + off) += src</c>.</summary>
    Add = 0x00,
    /// <summary><c>lock *(dst + off) |= src</c>.</summary>
    Or = 0x40,
    /// <summary><c>lock *(dst + off) &amp;= src</c>.</summary>
    And = 0x50,
    /// <summary><c>lock *(dst + off) ^= src</c>.</summary>
    Xor = 0xa0,
    /// <summary><c>src = atomic_fetch_add(dst + off, src)</c>: adds and returns the old value.</summary>
    FetchAdd = 0x01,
    /// <summary><c>src = atomic_fetch_or(dst + off, src)</c>.</summary>
    FetchOr = 0x41,
    /// <summary><c>src = atomic_fetch_and(dst + off, src)</c>.</summary>
    FetchAnd = 0x51,
    /// <summary><c>src = atomic_fetch_xor(dst + off, src)</c>.</summary>
    FetchXor = 0xa1,
    /// <summary><c>BPF_XCHG</c>: src = xchg(dst + off, src).</summary>
    Exchange = 0xe1,
    /// <summary><c>BPF_CMPXCHG</c>: r0 = cmpxchg(dst + off, r0, src): stores src if the old value equals R0, and returns the old value in R0.</summary>
    CompareExchange = 0xf1,
    /// <summary><c>BPF_LOAD_ACQ</c>: dst = load_acquire(src + off).</summary>
    LoadAcquire = 0x100,
    /// <summary><c>BPF_STORE_REL</c>: store_release(dst + off, src).</summary>
    StoreRelease = 0x110,
}

/// <summary>What the immediate of a 64-bit immediate load means (its source register field, <c>BPF_PSEUDO_*</c>).</summary>
public enum PseudoSource : byte
{
    /// <summary>A plain 64-bit constant.</summary>
    None = 0,
    /// <summary><c>BPF_PSEUDO_MAP_FD</c>: the immediate is a map file descriptor; the register gets the map's address.</summary>
    MapFd = 1,
    /// <summary><c>BPF_PSEUDO_MAP_VALUE</c>: the low half is a map fd, the high half an offset into its value (globals).</summary>
    MapValue = 2,
    /// <summary><c>BPF_PSEUDO_BTF_ID</c>: the immediate is a kernel BTF id of a variable (ksym).</summary>
    BtfId = 3,
    /// <summary><c>BPF_PSEUDO_FUNC</c>: the immediate is the relative slot offset of a subprogram (callbacks).</summary>
    Function = 4,
    /// <summary><c>BPF_PSEUDO_MAP_IDX</c>: like <see cref="MapFd"/>, but an index into the program's fd_array.</summary>
    MapIndex = 5,
    /// <summary><c>BPF_PSEUDO_MAP_IDX_VALUE</c>: like <see cref="MapValue"/>, but with an fd_array index.</summary>
    MapIndexValue = 6,
}

/// <summary>What a call instruction calls (its source register field).</summary>
public enum CallSource : byte
{
    /// <summary>A helper function; the immediate is its <see cref="HelperFunction"/> id.</summary>
    Helper = 0,
    /// <summary><c>BPF_PSEUDO_CALL</c>: a BPF subprogram; the immediate is the relative slot offset of its entry.</summary>
    Subprogram = 1,
    /// <summary><c>BPF_PSEUDO_KFUNC_CALL</c>: a kernel function; the immediate is its BTF id.</summary>
    Kfunc = 2,
}

/// <summary>The target byte order of a <c>BPF_ALU | BPF_END</c> conversion (its source bit).</summary>
public enum ByteOrder : byte
{
    /// <summary><c>BPF_TO_LE</c>: convert to little-endian (a no-op but for truncation on little-endian hosts).</summary>
    LittleEndian = 0x00,
    /// <summary><c>BPF_TO_BE</c>: convert to big-endian.</summary>
    BigEndian = 0x08,
}

/// <summary>Whole opcodes the code tests by value.</summary>
internal static class OpCodes
{
    /// <summary>BPF_LD | BPF_IMM | BPF_DW.</summary>
    public const byte LoadImm64 = 0x18;
    /// <summary>BPF_JMP | BPF_CALL.</summary>
    public const byte Call = 0x85;
    /// <summary>BPF_JMP | BPF_EXIT.</summary>
    public const byte Exit = 0x95;
    /// <summary>BPF_JMP | BPF_JA.</summary>
    public const byte Goto = 0x05;
    /// <summary>BPF_JMP32 | BPF_JA.</summary>
    public const byte GotoLong = 0x06;
    /// <summary>BPF_JMP | BPF_JCOND.</summary>
    public const byte MayGoto = 0xe5;

    public static byte Compose(InstructionClass @class, AluOperation operation, OperandSource source) =>
        (byte)((byte)@class | (byte)operation | (byte)source);

    public static byte Compose(InstructionClass @class, JumpOperation operation, OperandSource source) =>
        (byte)((byte)@class | (byte)operation | (byte)source);

    public static byte Compose(InstructionClass @class, AccessSize size, AccessMode mode) =>
        (byte)((byte)@class | (byte)size | (byte)mode);
}
