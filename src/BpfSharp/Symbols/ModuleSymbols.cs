using BpfSharp.Elf;

namespace BpfSharp.Symbols;

/// <summary>A function symbol of an executable or shared library.</summary>
/// <param name="Name">The symbol name, as in the file (not demangled).</param>
/// <param name="Address">Its virtual address in the file (<c>st_value</c>), before any load bias.</param>
/// <param name="Size">Its size in bytes; 0 when the file does not say.</param>
public readonly record struct FunctionSymbol(string Name, ulong Address, ulong Size);

/// <summary>
/// The function symbols of one ELF file (an executable or shared library), indexed by address, and its PT_LOAD
/// segments, so that a file offset (what a process mapping tells) becomes the virtual address symbols are given at.
/// Symbols come from <c>.symtab</c> when the file has one and from <c>.dynsym</c> (the exported functions, which
/// stripped files keep). The file is read once and closed; the table is plain data.
/// </summary>
public sealed class ModuleSymbols
{
    private readonly FunctionSymbol[] _functions;
    private readonly ElfSegment[] _segments; // the PT_LOAD headers, without their data (the file is closed)

    private ModuleSymbols(string path, FunctionSymbol[] functions, ElfSegment[] segments, bool isPositionIndependent)
    {
        Path = path;
        _functions = functions;
        _segments = segments;
        IsPositionIndependent = isPositionIndependent;
    }

    /// <summary>The file the symbols were read from.</summary>
    public string Path { get; }

    /// <summary>The file name, what frames without a symbol are labelled with (<c>libc.so.6+0x29d90</c>).</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>True for a shared object or position-independent executable (ET_DYN): loaded at a base chosen at run time.</summary>
    public bool IsPositionIndependent { get; }

    /// <summary>The function symbols in address order.</summary>
    public IReadOnlyList<FunctionSymbol> Functions => _functions;

    /// <summary>Reads the function symbols and load segments of the ELF file at <paramref name="path"/>.</summary>
    /// <exception cref="ElfException">The file is not a well-formed ELF64 file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ModuleSymbols Load(string path)
    {
        using ElfFile elf = ElfFile.Open(path);
        return FromElf(elf, path);
    }

    /// <summary>Reads the function symbols and load segments of an ELF file already open.</summary>
    /// <param name="elf">The file.</param>
    /// <param name="path">Its path, for <see cref="Path"/> and <see cref="Name"/>.</param>
    public static ModuleSymbols FromElf(ElfFile elf, string path)
    {
        ArgumentNullException.ThrowIfNull(elf);
        var functions = new List<FunctionSymbol>();
        var seen = new HashSet<(string, ulong)>();
        foreach (ElfSymbolTable? table in new[] { elf.SymbolTable, elf.DynamicSymbolTable })
        {
            if (table is null)
            {
                continue;
            }
            foreach (ElfSymbol symbol in table)
            {
                if ((symbol.Type is ElfSymbolType.Function or ElfSymbolType.GnuIndirectFunction) && !symbol.IsUndefined && symbol.Value != 0
                    && symbol.Name.Length > 0 && seen.Add((symbol.Name, symbol.Value)))
                {
                    functions.Add(new FunctionSymbol(symbol.Name, symbol.Value, symbol.Size));
                }
            }
        }
        // Address order; at one address (aliases such as __libc_malloc and malloc) the sized one first, then the shortest name.
        functions.Sort(static (a, b) =>
        {
            int order = a.Address.CompareTo(b.Address);
            if (order != 0)
            {
                return order;
            }
            order = (b.Size != 0).CompareTo(a.Size != 0);
            if (order != 0)
            {
                return order;
            }
            order = a.Name.Length.CompareTo(b.Name.Length);
            return order != 0 ? order : string.CompareOrdinal(a.Name, b.Name);
        });
        ElfSegment[] segments = [.. elf.Segments.Where(s => s.Type == ElfSegmentType.Load).Select(s => s with { Data = default })];
        return new ModuleSymbols(path, functions.ToArray(), segments, elf.Header.Type == ElfType.SharedObject);
    }

    /// <summary>
    /// The virtual address (as symbols give it) of the byte at <paramref name="fileOffset"/>: through the PT_LOAD
    /// segment holding that offset, <c>p_vaddr + (offset - p_offset)</c>.
    /// </summary>
    public bool TryGetVirtualAddress(ulong fileOffset, out ulong virtualAddress)
    {
        foreach (ElfSegment segment in _segments)
        {
            if (segment.TryGetVirtualAddress(fileOffset, out virtualAddress))
            {
                return true;
            }
        }
        virtualAddress = 0;
        return false;
    }

    /// <summary>
    /// The function containing <paramref name="virtualAddress"/> and the offset into it. A symbol with a size must
    /// contain the address; one without a size (hand-written assembly) is taken as reaching to the next symbol.
    /// </summary>
    public bool TryResolve(ulong virtualAddress, out FunctionSymbol function, out ulong offset)
    {
        // From the preferred alias at the last address at or below it, a sized symbol that contains the address wins
        // (nested or overlapping symbols are rare, but a zero-size label can sit inside a function).
        int found = SortedAddresses.Floor(_functions, virtualAddress, f => f.Address);
        for (int i = found; i >= 0 && i > found - 4; i--)
        {
            FunctionSymbol candidate = _functions[i];
            if (candidate.Size == 0 ? i == found : virtualAddress - candidate.Address < candidate.Size)
            {
                function = candidate;
                offset = virtualAddress - candidate.Address;
                return true;
            }
        }
        function = default;
        offset = 0;
        return false;
    }
}
