using System.Buffers.Binary;

namespace BpfSharp.Btf;

/// <summary>
/// A decoded <c>.BTF.ext</c> section: for each program section of an object, the BTF function of
/// each subprogram (func_info), the source line of each instruction range (line_info) and the
/// CO-RE relocations (core_relo). Names and source text are strings of the object's <c>.BTF</c>.
/// Record sizes are taken from the section (<c>rec_size</c>), so newer, longer records still read.
/// </summary>
public sealed class BtfExt
{
    /// <summary>The <c>.BTF.ext</c> magic number, the same as <c>.BTF</c>'s.</summary>
    public const ushort Magic = 0xEB9F;

    private const int MinimumHeaderLength = 24;
    private const int HeaderWithCoreLength = 32;
    private const int FunctionInfoLength = 8;
    private const int LineInfoLength = 16;
    private const int CoreRelocationLength = 16;
    // Object files record instruction offsets in bytes; one BPF instruction is 8 bytes.
    private const int InstructionSize = 8;

    private BtfExt(
        IReadOnlyDictionary<string, IReadOnlyList<BtfFunctionInfo>> functions,
        IReadOnlyDictionary<string, IReadOnlyList<BtfLineInfo>> lines,
        IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelocation>> relocations)
    {
        FunctionInfos = functions;
        LineInfos = lines;
        CoreRelocations = relocations;
    }

    /// <summary>func_info records by ELF section name (<c>xdp</c>, <c>.text</c>, ...).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfFunctionInfo>> FunctionInfos { get; }

    /// <summary>line_info records by ELF section name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfLineInfo>> LineInfos { get; }

    /// <summary>CO-RE relocation records by ELF section name (empty when the object has none).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<BtfCoreRelocation>> CoreRelocations { get; }

    /// <summary>
    /// The source line an instruction came from: the last line_info record of
    /// <paramref name="section"/> at or before <paramref name="instructionIndex"/> (the compiler
    /// records a line where it changes, not for every instruction), or null when there is none.
    /// </summary>
    /// <param name="section">The ELF section of the program (<c>xdp</c>, <c>.text</c>, ...).</param>
    /// <param name="instructionIndex">The instruction, counted in 8-byte instructions from the section start.</param>
    public BtfLineInfo? FindLine(string section, uint instructionIndex)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (!LineInfos.TryGetValue(section, out IReadOnlyList<BtfLineInfo>? lines))
        {
            return null;
        }
        // Records are sorted by instruction (see ReadSubsection); find the last one not after it.
        int low = 0, high = lines.Count - 1, found = -1;
        while (low <= high)
        {
            int middle = low + (high - low) / 2;
            if (lines[middle].InstructionIndex <= instructionIndex)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return found < 0 ? null : lines[found];
    }

    /// <summary>Decodes a <c>.BTF.ext</c> section.</summary>
    /// <param name="section">The section's bytes.</param>
    /// <param name="btf">The object's <c>.BTF</c>, whose string table the records refer to.</param>
    /// <exception cref="BtfException">The section is malformed or refers to strings the BTF lacks.</exception>
    public static BtfExt Parse(ReadOnlyMemory<byte> section, BtfSpec btf)
    {
        ArgumentNullException.ThrowIfNull(btf);
        ReadOnlySpan<byte> data = section.Span;
        if (data.Length < MinimumHeaderLength)
        {
            throw new BtfException($".BTF.ext is truncated: {data.Length} bytes is shorter than its {MinimumHeaderLength}-byte header");
        }
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(data);
        if (magic != Magic)
        {
            throw new BtfException($"not .BTF.ext: magic is 0x{magic:x4}, expected 0x{Magic:x4}");
        }
        if (data[2] != 1)
        {
            throw new BtfException($".BTF.ext version {data[2]} is not supported (only version 1 exists)");
        }
        uint headerLength = U32(data, 4);
        if (headerLength < MinimumHeaderLength || headerLength > (uint)data.Length)
        {
            throw new BtfException($".BTF.ext header length {headerLength} is invalid for a {data.Length}-byte section");
        }
        var functions = ReadSubsection(data, headerLength, U32(data, 8), U32(data, 12), "func_info", FunctionInfoLength, btf,
            (span, _) => new BtfFunctionInfo(U32(span, 0) / InstructionSize, (int)U32(span, 4)), r => r.InstructionIndex);
        var lines = ReadSubsection(data, headerLength, U32(data, 16), U32(data, 20), "line_info", LineInfoLength, btf,
            (span, spec) =>
            {
                uint lineColumn = U32(span, 12);
                return new BtfLineInfo(U32(span, 0) / InstructionSize, spec.GetString(U32(span, 4)), spec.GetString(U32(span, 8)),
                    (int)(lineColumn >> 10), (int)(lineColumn & 0x3ff));
            }, r => r.InstructionIndex);
        var relocations = headerLength >= HeaderWithCoreLength
            ? ReadSubsection(data, headerLength, U32(data, 24), U32(data, 28), "core_relo", CoreRelocationLength, btf,
                (span, spec) => new BtfCoreRelocation(U32(span, 0) / InstructionSize, (int)U32(span, 4), spec.GetString(U32(span, 8)),
                    (BtfCoreRelocationKind)U32(span, 12)), r => r.InstructionIndex)
            : new Dictionary<string, IReadOnlyList<BtfCoreRelocation>>();
        return new BtfExt(functions, lines, relocations);
    }

    private delegate T RecordReader<out T>(ReadOnlySpan<byte> record, BtfSpec btf);

    private static bool IsSorted<T>(T[] records, Func<T, uint> order)
    {
        for (int i = 1; i < records.Length; i++)
        {
            if (order(records[i - 1]) > order(records[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static Dictionary<string, IReadOnlyList<T>> ReadSubsection<T>(ReadOnlySpan<byte> data, uint headerLength, uint offset, uint length,
        string what, int minimumRecordLength, BtfSpec btf, RecordReader<T> read, Func<T, uint> order)
    {
        var result = new Dictionary<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        if (length == 0)
        {
            return result;
        }
        ulong start = headerLength + (ulong)offset;
        ulong end = start + length;
        if (end > (ulong)data.Length)
        {
            throw new BtfException($".BTF.ext {what} is truncated: it ends at byte {end} but the section has {data.Length} bytes");
        }
        ReadOnlySpan<byte> body = data[(int)start..(int)end];
        if (body.Length < 4)
        {
            throw new BtfException($".BTF.ext {what} is too short to hold its record size");
        }
        uint recordLength = U32(body, 0);
        if (recordLength < minimumRecordLength || recordLength % 4 != 0 || recordLength > 1024)
        {
            throw new BtfException($".BTF.ext {what} record size {recordLength} is invalid (at least {minimumRecordLength}, a multiple of 4)");
        }
        int position = 4;
        while (position < body.Length)
        {
            if (body.Length - position < 8)
            {
                throw new BtfException($".BTF.ext {what} is truncated at byte {start + (ulong)position}: a section header needs 8 bytes");
            }
            string section = btf.GetString(U32(body, position));
            uint count = U32(body, position + 4);
            position += 8;
            if (count == 0)
            {
                throw new BtfException($".BTF.ext {what} for section '{section}' has no records");
            }
            ulong needed = count * (ulong)recordLength;
            if (needed > (ulong)(body.Length - position))
            {
                throw new BtfException($".BTF.ext {what} for section '{section}' claims {count} records of {recordLength} bytes, more than the {body.Length - position} bytes left");
            }
            var records = new T[count];
            for (int i = 0; i < records.Length; i++)
            {
                records[i] = read(body.Slice(position, (int)recordLength), btf);
                position += (int)recordLength;
            }
            if (result.TryGetValue(section, out IReadOnlyList<T>? earlier))
            {
                records = [.. earlier, .. records];
            }
            result[section] = records;
        }
        // Lookups by instruction rely on order; compilers write it sorted, a hand-made section may not.
        foreach (string section in result.Keys.ToList())
        {
            if (result[section] is T[] array && !IsSorted(array, order))
            {
                T[] sorted = [.. array];
                Array.Sort(sorted, (x, y) => order(x).CompareTo(order(y)));
                result[section] = sorted;
            }
        }
        return result;
    }

    private static uint U32(ReadOnlySpan<byte> data, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(offset, 4));
}

/// <summary>Which BTF function a subprogram is (<c>struct bpf_func_info</c>).</summary>
/// <param name="InstructionIndex">The subprogram's first instruction, counted in 8-byte instructions from the section start.</param>
/// <param name="TypeId">The FUNC type in the object's BTF.</param>
public readonly record struct BtfFunctionInfo(uint InstructionIndex, int TypeId);

/// <summary>The source position of an instruction (<c>struct bpf_line_info</c>).</summary>
/// <param name="InstructionIndex">The instruction, counted in 8-byte instructions from the section start.</param>
/// <param name="FileName">The source file.</param>
/// <param name="SourceLine">The text of the source line, as the compiler recorded it.</param>
/// <param name="Line">The line number (1-based).</param>
/// <param name="Column">The column (1-based; 0 when unknown).</param>
public readonly record struct BtfLineInfo(uint InstructionIndex, string FileName, string SourceLine, int Line, int Column);

/// <summary>A CO-RE relocation (<c>struct bpf_core_relo</c>).</summary>
/// <param name="InstructionIndex">The instruction to patch, counted in 8-byte instructions from the section start.</param>
/// <param name="TypeId">The root type in the object's BTF.</param>
/// <param name="AccessString">The access path: member and array indices such as <c>0:1:2</c>.</param>
/// <param name="Kind">What the relocation computes.</param>
public readonly record struct BtfCoreRelocation(uint InstructionIndex, int TypeId, string AccessString, BtfCoreRelocationKind Kind);
