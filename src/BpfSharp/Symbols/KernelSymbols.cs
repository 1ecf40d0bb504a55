using System.Globalization;

namespace BpfSharp.Symbols;

/// <summary>A kernel symbol from /proc/kallsyms.</summary>
/// <param name="Address">The symbol's address (0 when the kernel hides addresses from this user).</param>
/// <param name="Name">The symbol name.</param>
/// <param name="Type">The nm-style type letter: T/t text, D/d data, B/b bss, R/r read-only, W/w weak, ...</param>
/// <param name="Module">The module the symbol belongs to, or null for the kernel image.</param>
public readonly record struct KernelSymbol(ulong Address, string Name, char Type, string? Module)
{
    /// <summary>True for code (text) symbols.</summary>
    public bool IsFunction => Type is 'T' or 't' or 'W' or 'w';
}

/// <summary>
/// The kernel's symbol table (/proc/kallsyms), for turning kernel stack addresses into function
/// names and for resolving <c>.ksyms</c> externs. Read once and indexed for binary search.
/// </summary>
public sealed class KernelSymbols
{
    private static readonly Lazy<KernelSymbols> Running = new(() => Load("/proc/kallsyms"));

    private readonly KernelSymbol[] _byAddress;
    private readonly Lazy<Dictionary<string, int>> _byName;

    private KernelSymbols(KernelSymbol[] symbols)
    {
        // Sort by address, code before data at equal addresses, so lookups prefer a function name.
        Array.Sort(symbols, static (a, b) =>
        {
            int order = a.Address.CompareTo(b.Address);
            return order != 0 ? order : b.IsFunction.CompareTo(a.IsFunction);
        });
        _byAddress = symbols;
        _byName = new Lazy<Dictionary<string, int>>(() =>
        {
            var index = new Dictionary<string, int>(_byAddress.Length, StringComparer.Ordinal);
            for (int i = 0; i < _byAddress.Length; i++)
            {
                index.TryAdd(_byAddress[i].Name, i); // the lowest address wins for duplicate static names
            }
            return index;
        });
    }

    /// <summary>The running kernel's symbols, read once per process.</summary>
    public static KernelSymbols Current => Running.Value;

    /// <summary>Every symbol, in address order (what kprobe.multi patterns are matched against).</summary>
    public IReadOnlyList<KernelSymbol> Symbols => _byAddress;

    /// <summary>How many symbols there are.</summary>
    public int Count => _byAddress.Length;

    /// <summary>False when the kernel shows every address as 0 (kptr_restrict, or not root).</summary>
    public bool HasAddresses => _byAddress.Length > 0 && _byAddress[^1].Address != 0;

    /// <summary>Reads a kallsyms-format file.</summary>
    public static KernelSymbols Load(string path)
    {
        var symbols = new List<KernelSymbol>(capacity: 200_000);
        foreach (string line in File.ReadLines(path))
        {
            if (TryParseLine(line, out KernelSymbol symbol))
            {
                symbols.Add(symbol);
            }
        }
        return new KernelSymbols(symbols.ToArray());
    }

    /// <summary>Builds a table from symbols (tests, or symbols read elsewhere).</summary>
    public static KernelSymbols From(IEnumerable<KernelSymbol> symbols) => new(symbols.ToArray());

    /// <summary>The symbol named <paramref name="name"/>, or null.</summary>
    public KernelSymbol? Find(string name) => _byName.Value.TryGetValue(name, out int i) ? _byAddress[i] : null;

    /// <summary>
    /// The symbol containing <paramref name="address"/>: the last symbol at or below it, and the
    /// offset into it. False when the address is below every symbol or addresses are hidden.
    /// </summary>
    public bool TryResolve(ulong address, out KernelSymbol symbol, out ulong offset)
    {
        // The preferred (function) entry comes first among equal addresses.
        int found = SortedAddresses.Floor(_byAddress, address, s => s.Address);
        if (found < 0 || _byAddress[found].Address == 0)
        {
            symbol = default;
            offset = 0;
            return false;
        }
        symbol = _byAddress[found];
        offset = address - symbol.Address;
        return true;
    }

    /// <summary>The address as <c>function+0xoffset [module]</c>, or as hex when unknown.</summary>
    public string Describe(ulong address)
    {
        if (!TryResolve(address, out KernelSymbol symbol, out ulong offset))
        {
            return $"0x{address:x}";
        }
        string text = offset == 0 ? symbol.Name : $"{symbol.Name}+0x{offset:x}";
        return symbol.Module is null ? text : $"{text} [{symbol.Module}]";
    }

    internal static bool TryParseLine(ReadOnlySpan<char> line, out KernelSymbol symbol)
    {
        // "ffffffff81000000 T _stext" or "ffffffffc0201000 t name\t[module]"
        symbol = default;
        int firstSpace = line.IndexOf(' ');
        if (firstSpace <= 0 || line.Length < firstSpace + 4 || line[firstSpace + 2] != ' ')
        {
            return false;
        }
        if (!ulong.TryParse(line[..firstSpace], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
        {
            return false;
        }
        char type = line[firstSpace + 1];
        ReadOnlySpan<char> rest = line[(firstSpace + 3)..];
        string? module = null;
        int tab = rest.IndexOf('\t');
        if (tab >= 0)
        {
            ReadOnlySpan<char> tail = rest[(tab + 1)..].Trim();
            if (tail.Length > 2 && tail[0] == '[' && tail[^1] == ']')
            {
                module = tail[1..^1].ToString();
            }
            rest = rest[..tab];
        }
        if (rest.IsEmpty)
        {
            return false;
        }
        symbol = new KernelSymbol(address, rest.ToString(), type, module);
        return true;
    }
}
