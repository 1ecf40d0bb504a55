using System.Buffers.Binary;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Programs;

namespace BpfSharp.Specs;

/// <summary>
/// A program's code ready for the kernel: its own instructions followed by every subprogram it calls
/// (transitively, each once, in the order first called), calls and callback loads resolved to slot distances,
/// and the BTF function and line records of every function placed at the slots where it now lies.
/// References to maps and externs are still names (<see cref="Instruction.Reference"/>): the collection fills them in when it loads.
/// </summary>
public sealed class LinkedProgram
{
    internal LinkedProgram()
    {
    }

    /// <summary>The instructions: the program, then each subprogram (the first instruction of each carries its name as <see cref="Instruction.Symbol"/>).</summary>
    public required List<Instruction> Instructions { get; init; }

    /// <summary>The first slot and BTF FUNC type id of each function; empty when some function has no func_info.</summary>
    public required List<(int Slot, int TypeId)> Functions { get; init; }

    /// <summary>The BTF line records, their <see cref="BtfLineInfo.InstructionIndex"/> being slots of <see cref="Instructions"/>; empty without line info.</summary>
    public required List<BtfLineInfo> Lines { get; init; }

    /// <summary>Where each function of the object was placed: its first slot in <see cref="Instructions"/>, in order.</summary>
    internal IReadOnlyList<(ObjectFunction Function, int Slot)> Placements { get; init; } = [];

    /// <summary>The function placed over slot <paramref name="slot"/> and the slot's offset inside it, or null.</summary>
    internal (ObjectFunction Function, int Offset)? FunctionAt(int slot)
    {
        for (int i = Placements.Count - 1; i >= 0; i--)
        {
            if (Placements[i].Slot <= slot)
            {
                return (Placements[i].Function, slot - Placements[i].Slot);
            }
        }
        return null;
    }

    /// <summary>The kernel's bpf_func_info records (8 bytes each), or null.</summary>
    internal byte[]? EncodeFunctionInfo()
    {
        if (Functions.Count == 0)
        {
            return null;
        }
        byte[] records = new byte[Functions.Count * 8];
        for (int i = 0; i < Functions.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(records.AsSpan(i * 8), (uint)Functions[i].Slot);
            BinaryPrimitives.WriteUInt32LittleEndian(records.AsSpan(i * 8 + 4), (uint)Functions[i].TypeId);
        }
        return records;
    }

    /// <summary>The kernel's bpf_line_info records (16 bytes each), with string offsets from <paramref name="strings"/>, or null.</summary>
    internal byte[]? EncodeLineInfo(IReadOnlyDictionary<string, uint> strings)
    {
        if (Lines.Count == 0 || Functions.Count == 0)
        {
            return null;
        }
        byte[] records = new byte[Lines.Count * 16];
        for (int i = 0; i < Lines.Count; i++)
        {
            BtfLineInfo line = Lines[i];
            Span<byte> record = records.AsSpan(i * 16, 16);
            BinaryPrimitives.WriteUInt32LittleEndian(record, line.InstructionIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], strings.GetValueOrDefault(line.FileName));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], strings.GetValueOrDefault(line.SourceLine));
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)(line.Line << 10 | (line.Column & 0x3ff)));
        }
        return records;
    }

    /// <summary>The source line covering instruction slot <paramref name="slot"/>: the last line record at or before it.</summary>
    public BtfLineInfo? LineAt(int slot)
    {
        BtfLineInfo? found = null;
        foreach (BtfLineInfo line in Lines)
        {
            if (line.InstructionIndex > (uint)slot)
            {
                break;
            }
            found = line;
        }
        return found;
    }
}

/// <summary>Links a program of a <see cref="CollectionSpec"/> with the subprograms it calls.</summary>
internal static class ProgramLinker
{
    /// <param name="spec">The collection the program belongs to.</param>
    /// <param name="program">The program.</param>
    /// <param name="codeOf">The current instructions of a function (after CO-RE relocation, when it applies).</param>
    public static LinkedProgram Link(CollectionSpec spec, ProgramSpec program, Func<ObjectFunction, IReadOnlyList<Instruction>> codeOf)
    {
        var byLabel = new Dictionary<string, ObjectFunction>(StringComparer.Ordinal);
        ObjectFunction? entry = null;
        foreach (ObjectFunction function in spec.FunctionList)
        {
            byLabel.TryAdd(function.Label, function);
            if (ReferenceEquals(function.Program, program))
            {
                entry = function;
            }
        }
        if (entry is null)
        {
            // A program built in code and added to the spec: nothing to append.
            return new LinkedProgram { Instructions = [.. Assembler.ResolveLabels(program.Instructions)], Functions = [], Lines = [] };
        }

        var order = new List<ObjectFunction> { entry };
        var included = new HashSet<ObjectFunction> { entry };
        for (int next = 0; next < order.Count; next++)
        {
            foreach (Instruction instruction in codeOf(order[next]))
            {
                if (instruction.Reference is { } label && (instruction.IsSubprogramCall || instruction.IsLoadImm64 && instruction.PseudoSource == PseudoSource.Function)
                    && byLabel.TryGetValue(label, out ObjectFunction? callee) && included.Add(callee))
                {
                    order.Add(callee);
                }
            }
        }

        var code = new List<Instruction>();
        var functions = new List<(int, int)>();
        var lines = new List<BtfLineInfo>();
        var placements = new List<(ObjectFunction, int)>();
        bool complete = true;
        int slot = 0;
        foreach (ObjectFunction function in order)
        {
            IReadOnlyList<Instruction> body = codeOf(function);
            if (body.Count == 0)
            {
                throw new InvalidOperationException($"{function} has no instructions");
            }
            for (int i = 0; i < body.Count; i++)
            {
                Instruction instruction = body[i];
                // Each function's first instruction carries its label, whatever the caller did to the list.
                code.Add(i == 0 ? instruction with { Symbol = function.Label } : instruction.Symbol is null ? instruction : instruction with { Symbol = null });
            }
            if (function.FunctionTypeId == 0)
            {
                complete = false;
            }
            functions.Add((slot, function.FunctionTypeId));
            placements.Add((function, slot));
            foreach (BtfLineInfo line in function.Lines)
            {
                lines.Add(line with { InstructionIndex = line.InstructionIndex + (uint)slot });
            }
            slot += InstructionEncoding.CountSlots(body);
        }
        return new LinkedProgram
        {
            Instructions = [.. Assembler.ResolveLabels(code)],
            // The kernel wants a FUNC record for every function or none at all, and line records only with them.
            Functions = complete ? functions : [],
            Lines = complete ? lines : [],
            Placements = placements,
        };
    }
}
