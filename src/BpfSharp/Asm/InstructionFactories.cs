namespace BpfSharp.Asm;

// Factories for every instruction form. Each validates what the encoding cannot hold, so an
// instruction built here always encodes to what its name says.
public readonly partial record struct Instruction
{
    /// <summary>A 64-bit ALU operation with an immediate: <c>dst op= constant</c>.</summary>
    public static Instruction Alu64(AluOperation operation, Register dst, int constant) =>
        Alu(InstructionClass.Alu64, operation, dst, constant);

    /// <summary>A 64-bit ALU operation with a register: <c>dst op= src</c>.</summary>
    public static Instruction Alu64(AluOperation operation, Register dst, Register src) =>
        Alu(InstructionClass.Alu64, operation, dst, src);

    /// <summary>A 32-bit ALU operation with an immediate: <c>wdst op= constant</c> (zero-extends into dst).</summary>
    public static Instruction Alu32(AluOperation operation, Register dst, int constant) =>
        Alu(InstructionClass.Alu, operation, dst, constant);

    /// <summary>A 32-bit ALU operation with a register: <c>wdst op= wsrc</c> (zero-extends into dst).</summary>
    public static Instruction Alu32(AluOperation operation, Register dst, Register src) =>
        Alu(InstructionClass.Alu, operation, dst, src);

    /// <summary>Signed division or modulo (v4): <c>dst s/= src</c> or <c>dst s%= src</c>, 64 or 32 bits.</summary>
    public static Instruction SignedAlu(AluOperation operation, Register dst, Register src, bool wide = true)
    {
        CheckSigned(operation);
        return new() { OpCode = OpCodes.Compose(Width(wide), operation, OperandSource.Register), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = 1 };
    }

    /// <summary>Signed division or modulo by an immediate (v4): <c>dst s/= constant</c>, 64 or 32 bits.</summary>
    public static Instruction SignedAlu(AluOperation operation, Register dst, int constant, bool wide = true)
    {
        CheckSigned(operation);
        return new() { OpCode = OpCodes.Compose(Width(wide), operation, OperandSource.Constant), Dst = CheckRegister(dst), Constant = constant, Offset = 1 };
    }

    /// <summary><c>dst = constant</c> (64-bit, sign-extended from 32 bits).</summary>
    public static Instruction Move64(Register dst, int constant) => Alu64(AluOperation.Move, dst, constant);

    /// <summary><c>dst = src</c> (64-bit).</summary>
    public static Instruction Move64(Register dst, Register src) => Alu64(AluOperation.Move, dst, src);

    /// <summary><c>wdst = constant</c> (32-bit, zero-extended into dst).</summary>
    public static Instruction Move32(Register dst, int constant) => Alu32(AluOperation.Move, dst, constant);

    /// <summary><c>wdst = wsrc</c> (32-bit, zero-extended into dst).</summary>
    public static Instruction Move32(Register dst, Register src) => Alu32(AluOperation.Move, dst, src);

    /// <summary>
    /// Sign-extending move (v4): <c>dst = (s8/s16/s32)src</c> when <paramref name="wide"/>, else
    /// <c>wdst = (s8/s16)wsrc</c>.
    /// </summary>
    /// <param name="dst">The destination register.</param>
    /// <param name="src">The source register.</param>
    /// <param name="fromBits">The width to sign-extend from: 8, 16, or (64-bit only) 32.</param>
    /// <param name="wide">True for the 64-bit form.</param>
    public static Instruction MoveSignExtend(Register dst, Register src, int fromBits, bool wide = true)
    {
        if (fromBits is not (8 or 16) && !(wide && fromBits == 32))
        {
            throw new ArgumentOutOfRangeException(nameof(fromBits), fromBits, wide
                ? "a 64-bit sign-extending move extends from 8, 16 or 32 bits"
                : "a 32-bit sign-extending move extends from 8 or 16 bits");
        }
        return Alu(Width(wide), AluOperation.Move, dst, src) with { Offset = (short)fromBits };
    }

    /// <summary><c>dst = -dst</c>, 64 or 32 bits.</summary>
    public static Instruction Negate(Register dst, bool wide = true) =>
        new() { OpCode = OpCodes.Compose(Width(wide), AluOperation.Negate, OperandSource.Constant), Dst = CheckRegister(dst) };

    /// <summary>Byte order conversion (<c>dst = be16 dst</c>, <c>le32</c>, ...): BPF_ALU | BPF_END.</summary>
    /// <param name="order">The byte order to convert to (from the host's).</param>
    /// <param name="dst">The register converted in place.</param>
    /// <param name="bits">16, 32 or 64.</param>
    public static Instruction ToByteOrder(ByteOrder order, Register dst, int bits) =>
        new()
        {
            OpCode = (byte)((byte)InstructionClass.Alu | (byte)AluOperation.ByteSwap | (byte)order),
            Dst = CheckRegister(dst),
            Constant = CheckSwapWidth(bits),
        };

    /// <summary>Unconditional byte swap (v4, <c>dst = bswap16 dst</c>, ...): BPF_ALU64 | BPF_END.</summary>
    /// <param name="dst">The register swapped in place.</param>
    /// <param name="bits">16, 32 or 64.</param>
    public static Instruction ByteSwap(Register dst, int bits) =>
        new()
        {
            OpCode = OpCodes.Compose(InstructionClass.Alu64, AluOperation.ByteSwap, OperandSource.Constant),
            Dst = CheckRegister(dst),
            Constant = CheckSwapWidth(bits),
        };

    /// <summary>The two-slot 64-bit immediate load: <c>dst = value ll</c>, or a pseudo load given by <paramref name="source"/>.</summary>
    public static Instruction LoadImm64(Register dst, long value, PseudoSource source = PseudoSource.None)
    {
        if (source > PseudoSource.MapIndexValue)
        {
            throw new ArgumentOutOfRangeException(nameof(source), source, "not a BPF_PSEUDO_* source of ld_imm64");
        }
        return new() { OpCode = OpCodes.LoadImm64, Dst = CheckRegister(dst), Src = (Register)source, Constant = value };
    }

    /// <summary>Loads the address of the map behind <paramref name="mapFd"/> (<c>BPF_PSEUDO_MAP_FD</c>).</summary>
    public static Instruction LoadMapFd(Register dst, int mapFd) =>
        LoadImm64(dst, (uint)CheckFd(mapFd), PseudoSource.MapFd);

    /// <summary>Loads the address of byte <paramref name="valueOffset"/> of the value of the single-element map behind <paramref name="mapFd"/> (<c>BPF_PSEUDO_MAP_VALUE</c>: globals).</summary>
    public static Instruction LoadMapValue(Register dst, int mapFd, int valueOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(valueOffset);
        return LoadImm64(dst, (long)((ulong)(uint)CheckFd(mapFd) | (ulong)(uint)valueOffset << 32), PseudoSource.MapValue);
    }

    /// <summary><c>dst = *(size *)(src + offset)</c>: BPF_LDX | BPF_MEM (zero-extending).</summary>
    public static Instruction LoadMemory(AccessSize size, Register dst, Register src, short offset) =>
        new() { OpCode = OpCodes.Compose(InstructionClass.LoadX, size, AccessMode.Memory), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = offset };

    /// <summary><c>dst = *(s8/s16/s32 *)(src + offset)</c>: BPF_LDX | BPF_MEMSX (v4, sign-extending).</summary>
    public static Instruction LoadMemorySignExtend(AccessSize size, Register dst, Register src, short offset)
    {
        if (size == AccessSize.DoubleWord)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a sign-extending load reads 1, 2 or 4 bytes");
        }
        return new() { OpCode = OpCodes.Compose(InstructionClass.LoadX, size, AccessMode.MemorySignExtend), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = offset };
    }

    /// <summary><c>*(size *)(dst + offset) = src</c>: BPF_STX | BPF_MEM.</summary>
    public static Instruction StoreMemory(AccessSize size, Register dst, short offset, Register src) =>
        new() { OpCode = OpCodes.Compose(InstructionClass.StoreX, size, AccessMode.Memory), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = offset };

    /// <summary><c>*(size *)(dst + offset) = constant</c>: BPF_ST | BPF_MEM (sign-extended for 8-byte stores).</summary>
    public static Instruction StoreImmediate(AccessSize size, Register dst, short offset, int constant) =>
        new() { OpCode = OpCodes.Compose(InstructionClass.Store, size, AccessMode.Memory), Dst = CheckRegister(dst), Offset = offset, Constant = constant };

    /// <summary>Legacy packet load <c>r0 = *(size *)skb[offset]</c>: BPF_LD | BPF_ABS (socket filters; R6 holds the skb).</summary>
    public static Instruction LoadAbsolute(AccessSize size, int offset) =>
        new() { OpCode = OpCodes.Compose(InstructionClass.Load, CheckPacketSize(size), AccessMode.Absolute), Constant = offset };

    /// <summary>Legacy packet load <c>r0 = *(size *)skb[src + offset]</c>: BPF_LD | BPF_IND.</summary>
    public static Instruction LoadIndirect(AccessSize size, Register src, int offset) =>
        new() { OpCode = OpCodes.Compose(InstructionClass.Load, CheckPacketSize(size), AccessMode.Indirect), Src = CheckRegister(src), Constant = offset };

    /// <summary>
    /// An atomic operation: BPF_STX | BPF_ATOMIC. Read-modify-write operations take 4 or 8 bytes at
    /// <c>dst + offset</c> with operand <paramref name="src"/> (fetching forms return the old value in
    /// src; compare-exchange compares with and returns into R0). <see cref="AtomicOperation.LoadAcquire"/>
    /// loads <c>dst = *(src + offset)</c>; <see cref="AtomicOperation.StoreRelease"/> stores
    /// <c>*(dst + offset) = src</c>; both take any width.
    /// </summary>
    public static Instruction Atomic(AtomicOperation operation, AccessSize size, Register dst, short offset, Register src)
    {
        if (!Enum.IsDefined(operation))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "not a BPF atomic operation");
        }
        if (operation is not (AtomicOperation.LoadAcquire or AtomicOperation.StoreRelease) && size is not (AccessSize.Word or AccessSize.DoubleWord))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"atomic {operation} works on 4 or 8 bytes");
        }
        return new() { OpCode = OpCodes.Compose(InstructionClass.StoreX, size, AccessMode.Atomic), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = offset, Constant = (int)operation };
    }

    /// <summary>A conditional 64-bit jump on an immediate: <c>if dst op constant goto +offset</c>.</summary>
    public static Instruction Jump64(JumpOperation operation, Register dst, int constant, short offset) =>
        Jump(InstructionClass.Jump, operation, dst, constant, offset);

    /// <summary>A conditional 64-bit jump on a register: <c>if dst op src goto +offset</c>.</summary>
    public static Instruction Jump64(JumpOperation operation, Register dst, Register src, short offset) =>
        Jump(InstructionClass.Jump, operation, dst, src, offset);

    /// <summary>A conditional 32-bit jump on an immediate: <c>if wdst op constant goto +offset</c>.</summary>
    public static Instruction Jump32(JumpOperation operation, Register dst, int constant, short offset) =>
        Jump(InstructionClass.Jump32, operation, dst, constant, offset);

    /// <summary>A conditional 32-bit jump on a register: <c>if wdst op wsrc goto +offset</c>.</summary>
    public static Instruction Jump32(JumpOperation operation, Register dst, Register src, short offset) =>
        Jump(InstructionClass.Jump32, operation, dst, src, offset);

    /// <summary><c>goto +offset</c> (BPF_JMP | BPF_JA).</summary>
    public static Instruction Goto(short offset) => new() { OpCode = OpCodes.Goto, Offset = offset };

    /// <summary><c>gotol +distance</c> (v4, BPF_JMP32 | BPF_JA): an unconditional jump with a 32-bit distance.</summary>
    public static Instruction GotoLong(int distance) => new() { OpCode = OpCodes.GotoLong, Constant = distance };

    /// <summary><c>may_goto +offset</c> (BPF_JMP | BPF_JCOND): the verifier-bounded loop escape.</summary>
    public static Instruction MayGoto(short offset) => new() { OpCode = OpCodes.MayGoto, Offset = offset };

    /// <summary>Calls a helper function: <c>call id</c>.</summary>
    public static Instruction Call(HelperFunction helper) => new() { OpCode = OpCodes.Call, Constant = (int)helper };

    /// <summary>Calls a BPF subprogram whose entry is <paramref name="relativeOffset"/> slots after the call's own slot plus one (<c>BPF_PSEUDO_CALL</c>).</summary>
    public static Instruction CallSubprogram(int relativeOffset) =>
        new() { OpCode = OpCodes.Call, Src = (Register)CallSource.Subprogram, Constant = relativeOffset };

    /// <summary>Calls the kernel function with BTF id <paramref name="btfId"/> (<c>BPF_PSEUDO_KFUNC_CALL</c>); <paramref name="moduleBtfIndex"/> selects a module BTF from fd_array (0: vmlinux).</summary>
    public static Instruction CallKfunc(int btfId, short moduleBtfIndex = 0) =>
        new() { OpCode = OpCodes.Call, Src = (Register)CallSource.Kfunc, Constant = btfId, Offset = moduleBtfIndex };

    /// <summary><c>exit</c>: returns R0 from the (sub)program.</summary>
    public static Instruction Exit() => new() { OpCode = OpCodes.Exit };

    private static InstructionClass Width(bool wide) => wide ? InstructionClass.Alu64 : InstructionClass.Alu;

    private static Instruction Alu(InstructionClass @class, AluOperation operation, Register dst, int constant)
    {
        CheckAluOperand(operation);
        return new() { OpCode = OpCodes.Compose(@class, operation, OperandSource.Constant), Dst = CheckRegister(dst), Constant = constant };
    }

    private static Instruction Alu(InstructionClass @class, AluOperation operation, Register dst, Register src)
    {
        CheckAluOperand(operation);
        return new() { OpCode = OpCodes.Compose(@class, operation, OperandSource.Register), Dst = CheckRegister(dst), Src = CheckRegister(src) };
    }

    private static void CheckAluOperand(AluOperation operation)
    {
        if (operation is AluOperation.Negate or AluOperation.ByteSwap || !Enum.IsDefined(operation))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation,
                "not a two-operand ALU operation; use Negate, ToByteOrder or ByteSwap");
        }
    }

    private static void CheckSigned(AluOperation operation)
    {
        if (operation is not (AluOperation.Div or AluOperation.Mod))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation, "only Div and Mod have signed forms");
        }
    }

    private static Instruction Jump(InstructionClass @class, JumpOperation operation, Register dst, int constant, short offset)
    {
        CheckCondition(operation);
        return new() { OpCode = OpCodes.Compose(@class, operation, OperandSource.Constant), Dst = CheckRegister(dst), Constant = constant, Offset = offset };
    }

    private static Instruction Jump(InstructionClass @class, JumpOperation operation, Register dst, Register src, short offset)
    {
        CheckCondition(operation);
        return new() { OpCode = OpCodes.Compose(@class, operation, OperandSource.Register), Dst = CheckRegister(dst), Src = CheckRegister(src), Offset = offset };
    }

    private static void CheckCondition(JumpOperation operation)
    {
        if (operation is JumpOperation.Always or JumpOperation.Call or JumpOperation.Exit or JumpOperation.Conditional || !Enum.IsDefined(operation))
        {
            throw new ArgumentOutOfRangeException(nameof(operation), operation,
                "not a comparison; use Goto, GotoLong, MayGoto, Call or Exit");
        }
    }

    private static Register CheckRegister(Register register) =>
        register <= Register.R10
            ? register
            : throw new ArgumentOutOfRangeException(nameof(register), register, "BPF has registers R0 to R10");

    private static int CheckSwapWidth(int bits) =>
        bits is 16 or 32 or 64 ? bits : throw new ArgumentOutOfRangeException(nameof(bits), bits, "byte swaps work on 16, 32 or 64 bits");

    private static AccessSize CheckPacketSize(AccessSize size) =>
        size != AccessSize.DoubleWord ? size : throw new ArgumentOutOfRangeException(nameof(size), size, "legacy packet loads read 1, 2 or 4 bytes");

    private static int CheckFd(int fd) =>
        fd >= 0 ? fd : throw new ArgumentOutOfRangeException(nameof(fd), fd, "a map file descriptor is not negative");
}
