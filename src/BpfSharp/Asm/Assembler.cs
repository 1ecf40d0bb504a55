namespace BpfSharp.Asm;

/// <summary>
/// Writes BPF programs in C#: emits instructions, names positions with labels and resolves jumps,
/// subprogram calls and callback loads that refer to labels into slot distances (an ld_imm64 counts
/// two slots).
/// </summary>
/// <example>
/// <code>
/// var a = new Assembler();
/// a.Mov(Register.R0, 0);
/// a.JumpIf(JumpOperation.Equal, Register.R1, 0, "out");
/// a.Call("bpf_ktime_get_ns");
/// a.Label("out");
/// a.Exit();
/// IReadOnlyList&lt;Instruction&gt; program = a.Build();
/// </code>
/// </example>
/// <remarks>
/// References to names that are not labels (maps, globals, kfuncs) stay on the instructions'
/// <see cref="Instruction.Reference"/> for a loader to resolve.
/// </remarks>
public sealed class Assembler
{
    private readonly List<Instruction> _instructions = [];
    // Every label, also the second and later names of one position, by instruction index.
    private readonly Dictionary<string, int> _labels = new(StringComparer.Ordinal);
    private readonly List<string> _pendingLabels = [];

    /// <summary>How many instructions have been emitted.</summary>
    public int Count => _instructions.Count;

    /// <summary>Names the position of the next emitted instruction, for jumps and calls to refer to.</summary>
    /// <exception cref="ArgumentException">The name is empty or already a label.</exception>
    public Assembler Label(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_labels.ContainsKey(name) || _pendingLabels.Contains(name))
        {
            throw new ArgumentException($"label '{name}' is defined twice", nameof(name));
        }
        _pendingLabels.Add(name);
        return this;
    }

    /// <summary>
    /// Appends an instruction as is. An instruction carrying a <see cref="Instruction.Symbol"/> defines
    /// that label; a branch, subprogram call or <see cref="PseudoSource.Function"/> load carrying a
    /// <see cref="Instruction.Reference"/> is resolved to that label by <see cref="Build"/>.
    /// </summary>
    public Assembler Emit(Instruction instruction)
    {
        int index = _instructions.Count;
        if (instruction.Symbol is not null)
        {
            if (_pendingLabels.Contains(instruction.Symbol) || !_labels.TryAdd(instruction.Symbol, index))
            {
                throw new ArgumentException($"label '{instruction.Symbol}' is defined twice", nameof(instruction));
            }
        }
        foreach (string label in _pendingLabels)
        {
            _labels.Add(label, index);
        }
        if (_pendingLabels.Count > 0 && instruction.Symbol is null)
        {
            instruction = instruction with { Symbol = _pendingLabels[0] };
        }
        _pendingLabels.Clear();
        _instructions.Add(instruction);
        return this;
    }

    /// <summary><c>dst = constant</c> (64-bit, sign-extended from 32 bits).</summary>
    // An int overload keeps Mov(reg, 0) unambiguous: a literal 0 also converts to Register.
    public Assembler Mov(Register dst, int constant) => Emit(Instruction.Move64(dst, constant));

    /// <summary><c>dst = constant</c>: a 64-bit move of an immediate when it fits in 32 signed bits, else an ld_imm64.</summary>
    public Assembler Mov(Register dst, long constant) =>
        Emit(constant is >= int.MinValue and <= int.MaxValue ? Instruction.Move64(dst, (int)constant) : Instruction.LoadImm64(dst, constant));

    /// <summary><c>dst = src</c> (64-bit).</summary>
    public Assembler Mov(Register dst, Register src) => Emit(Instruction.Move64(dst, src));

    /// <summary><c>wdst = constant</c> (32-bit, zero-extended).</summary>
    public Assembler Mov32(Register dst, int constant) => Emit(Instruction.Move32(dst, constant));

    /// <summary><c>wdst = wsrc</c> (32-bit, zero-extended).</summary>
    public Assembler Mov32(Register dst, Register src) => Emit(Instruction.Move32(dst, src));

    /// <summary>A 64-bit ALU operation with an immediate: <c>dst op= constant</c>.</summary>
    public Assembler Alu(AluOperation operation, Register dst, int constant) => Emit(Instruction.Alu64(operation, dst, constant));

    /// <summary>A 64-bit ALU operation with a register: <c>dst op= src</c>.</summary>
    public Assembler Alu(AluOperation operation, Register dst, Register src) => Emit(Instruction.Alu64(operation, dst, src));

    /// <summary>A 32-bit ALU operation with an immediate: <c>wdst op= constant</c>.</summary>
    public Assembler Alu32(AluOperation operation, Register dst, int constant) => Emit(Instruction.Alu32(operation, dst, constant));

    /// <summary>A 32-bit ALU operation with a register: <c>wdst op= wsrc</c>.</summary>
    public Assembler Alu32(AluOperation operation, Register dst, Register src) => Emit(Instruction.Alu32(operation, dst, src));

    /// <summary><c>dst = *(size *)(src + offset)</c>.</summary>
    public Assembler Load(AccessSize size, Register dst, Register src, short offset) => Emit(Instruction.LoadMemory(size, dst, src, offset));

    /// <summary><c>*(size *)(dst + offset) = src</c>.</summary>
    public Assembler Store(AccessSize size, Register dst, short offset, Register src) => Emit(Instruction.StoreMemory(size, dst, offset, src));

    /// <summary><c>*(size *)(dst + offset) = constant</c>.</summary>
    public Assembler Store(AccessSize size, Register dst, short offset, int constant) => Emit(Instruction.StoreImmediate(size, dst, offset, constant));

    /// <summary>An atomic operation on <c>dst + offset</c> (see <see cref="Instruction.Atomic"/>).</summary>
    public Assembler Atomic(AtomicOperation operation, AccessSize size, Register dst, short offset, Register src) =>
        Emit(Instruction.Atomic(operation, size, dst, offset, src));

    /// <summary>Loads the address of the map behind an open file descriptor.</summary>
    public Assembler LoadMapFd(Register dst, int mapFd) => Emit(Instruction.LoadMapFd(dst, mapFd));

    /// <summary>Loads the address of the map named <paramref name="mapName"/>, which a loader resolves (the instruction's <see cref="Instruction.Reference"/>).</summary>
    public Assembler LoadMap(Register dst, string mapName)
    {
        ArgumentException.ThrowIfNullOrEmpty(mapName);
        return Emit(Instruction.LoadImm64(dst, 0, PseudoSource.MapFd) with { Reference = mapName });
    }

    /// <summary>Loads the address of byte <paramref name="valueOffset"/> of the value of the map named <paramref name="mapName"/> (a global variable's section), which a loader resolves.</summary>
    public Assembler LoadMapValue(Register dst, string mapName, int valueOffset)
    {
        ArgumentException.ThrowIfNullOrEmpty(mapName);
        ArgumentOutOfRangeException.ThrowIfNegative(valueOffset);
        return Emit(Instruction.LoadImm64(dst, (long)valueOffset << 32, PseudoSource.MapValue) with { Reference = mapName });
    }

    /// <summary>Loads the address of the subprogram at <paramref name="label"/> (<c>BPF_PSEUDO_FUNC</c>), for helpers taking callbacks such as bpf_loop.</summary>
    public Assembler LoadFunction(Register dst, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        return Emit(Instruction.LoadImm64(dst, 0, PseudoSource.Function) with { Reference = label });
    }

    /// <summary><c>if dst op constant goto label</c> (64-bit compare).</summary>
    public Assembler JumpIf(JumpOperation operation, Register dst, int constant, string label) =>
        Emit(Instruction.Jump64(operation, dst, constant, 0) with { Reference = CheckLabel(label) });

    /// <summary><c>if dst op src goto label</c> (64-bit compare).</summary>
    public Assembler JumpIf(JumpOperation operation, Register dst, Register src, string label) =>
        Emit(Instruction.Jump64(operation, dst, src, 0) with { Reference = CheckLabel(label) });

    /// <summary><c>if wdst op constant goto label</c> (32-bit compare).</summary>
    public Assembler JumpIf32(JumpOperation operation, Register dst, int constant, string label) =>
        Emit(Instruction.Jump32(operation, dst, constant, 0) with { Reference = CheckLabel(label) });

    /// <summary><c>if wdst op wsrc goto label</c> (32-bit compare).</summary>
    public Assembler JumpIf32(JumpOperation operation, Register dst, Register src, string label) =>
        Emit(Instruction.Jump32(operation, dst, src, 0) with { Reference = CheckLabel(label) });

    /// <summary><c>goto label</c>; becomes <c>gotol</c> when the distance does not fit in 16 bits.</summary>
    public Assembler Goto(string label) => Emit(Instruction.Goto(0) with { Reference = CheckLabel(label) });

    /// <summary><c>may_goto label</c>.</summary>
    public Assembler MayGoto(string label) => Emit(Instruction.MayGoto(0) with { Reference = CheckLabel(label) });

    /// <summary>Calls a helper function.</summary>
    public Assembler Call(HelperFunction helper) => Emit(Instruction.Call(helper));

    /// <summary>
    /// Calls a helper by its C name (<c>bpf_ktime_get_ns</c>), or else the subprogram at the label
    /// <paramref name="name"/>.
    /// </summary>
    public Assembler Call(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        // Only a bpf_-prefixed name means a helper, so subprograms named like "loop" stay local.
        if (name.StartsWith("bpf_", StringComparison.Ordinal) && HelperFunctions.TryParse(name, out HelperFunction helper))
        {
            return Call(helper);
        }
        return Emit(Instruction.CallSubprogram(0) with { Reference = name });
    }

    /// <summary>Calls the kernel function <paramref name="name"/>; a loader resolves its BTF id.</summary>
    public Assembler CallKfunc(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Emit(Instruction.CallKfunc(0) with { Reference = name });
    }

    /// <summary><c>exit</c>.</summary>
    public Assembler Exit() => Emit(Instruction.Exit());

    /// <summary>
    /// The program with every label reference resolved. The assembler stays usable: more
    /// instructions can follow and <see cref="Build"/> can run again.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A label marks no instruction, a reference names no label, or a conditional jump is too far
    /// for its 16-bit offset.
    /// </exception>
    public IReadOnlyList<Instruction> Build()
    {
        if (_pendingLabels.Count > 0)
        {
            throw new InvalidOperationException($"label '{_pendingLabels[0]}' is at the end of the program and marks no instruction");
        }
        return ResolveLabels(_instructions, _labels);
    }

    /// <summary>
    /// Resolves, in a sequence of instructions, every branch, subprogram call and
    /// <see cref="PseudoSource.Function"/> load whose <see cref="Instruction.Reference"/> names an
    /// instruction's <see cref="Instruction.Symbol"/>: sets its distance in slots. Other references
    /// (maps, globals, kfuncs) are left as they are.
    /// </summary>
    /// <exception cref="InvalidOperationException">A symbol is defined twice, a reference names no symbol, or a conditional jump is too far for its 16-bit offset.</exception>
    public static IReadOnlyList<Instruction> ResolveLabels(IReadOnlyList<Instruction> instructions)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < instructions.Count; i++)
        {
            if (instructions[i].Symbol is { } symbol && !labels.TryAdd(symbol, i))
            {
                throw new InvalidOperationException($"symbol '{symbol}' labels both instruction {labels[symbol]} and instruction {i}");
            }
        }
        return ResolveLabels(instructions, labels);
    }

    private static Instruction[] ResolveLabels(IReadOnlyList<Instruction> instructions, Dictionary<string, int> labels)
    {
        var slots = new int[instructions.Count + 1];
        for (int i = 0; i < instructions.Count; i++)
        {
            slots[i + 1] = slots[i] + instructions[i].Slots;
        }
        var resolved = new Instruction[instructions.Count];
        for (int i = 0; i < instructions.Count; i++)
        {
            Instruction instruction = instructions[i];
            if (instruction.Reference is { } reference && RefersToLabel(instruction))
            {
                if (!labels.TryGetValue(reference, out int target))
                {
                    string what = instruction.IsCall ? "calls" : instruction.IsLoadImm64 ? "loads the address of" : "jumps to";
                    throw new InvalidOperationException($"instruction {i} ({instruction}) {what} '{reference}', which is not a label of this program");
                }
                // Distances count from the slot after the instruction's first slot, also for a
                // two-slot ld_imm64 of a function: the kernel finds its target at i + imm + 1.
                instruction = WithDistance(instruction, slots[target] - slots[i] - 1, i);
            }
            resolved[i] = instruction;
        }
        return resolved;
    }

    private static bool RefersToLabel(Instruction instruction) =>
        instruction.IsBranch || instruction.IsSubprogramCall || (instruction.IsLoadImm64 && instruction.PseudoSource == PseudoSource.Function);

    private static Instruction WithDistance(Instruction instruction, int distance, int index)
    {
        if (instruction.IsSubprogramCall || instruction.IsLoadImm64 || instruction.IsLongJump)
        {
            return instruction with { Constant = distance };
        }
        if (distance is >= short.MinValue and <= short.MaxValue)
        {
            return instruction with { Offset = (short)distance };
        }
        if (instruction.OpCode == OpCodes.Goto)
        {
            // Only an unconditional jump has a 32-bit form.
            return instruction with { OpCode = OpCodes.GotoLong, Offset = 0, Constant = distance };
        }
        throw new InvalidOperationException(
            $"instruction {index} ({instruction}) jumps {distance} slots to '{instruction.Reference}', beyond the 16-bit offset of a conditional jump; " +
            "invert the condition to jump over a Goto, which becomes gotol for long distances");
    }

    private static string CheckLabel(string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(label);
        return label;
    }
}
