using BpfSharp.Elf;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Symbols;

namespace BpfSharp.Links;

/// <summary>Where and how a uprobe attaches, beyond its binary and function.</summary>
public sealed record UprobeOptions
{
    /// <summary>Probe the function's return (uretprobe).</summary>
    public bool IsReturn { get; init; }

    /// <summary>Only this process triggers the probe (and a bare library name resolves to the file it mapped); null for every process.</summary>
    public int? Pid { get; init; }

    /// <summary>Bytes past the function's start (or past the file offset when no function is named).</summary>
    public ulong Offset { get; init; }

    /// <summary>A BPF cookie for bpf_get_attach_cookie.</summary>
    public ulong Cookie { get; init; }

    /// <summary>The file offset of a USDT semaphore the kernel increments while the probe is attached (<c>ref_ctr_offset</c>), or 0.</summary>
    public ulong ReferenceCounterOffset { get; init; }
}

/// <summary>
/// A kprobe-type program attached to a user-space location (uprobe) or a function's return
/// (uretprobe): a file and an offset in it. Functions are found by name in the file's .symtab or
/// .dynsym, their addresses turned into file offsets through its PT_LOAD segments; libraries by
/// bare name through ld.so.cache or the mapped files of a process.
/// </summary>
public sealed class UprobeLink : PerfEventLink
{
    private UprobeLink(FileDescriptor perfEvent, FileDescriptor? link, string description, ulong cookie, Action? afterClose,
        string path, ulong fileOffset, bool isReturn, int? pid)
        : base(perfEvent, link, description, cookie, afterClose)
    {
        Path = path;
        FileOffset = fileOffset;
        IsReturn = isReturn;
        Pid = pid;
    }

    /// <summary>The probed file.</summary>
    public string Path { get; }

    /// <summary>The probed location as a file offset.</summary>
    public ulong FileOffset { get; }

    /// <summary>True for a uretprobe.</summary>
    public bool IsReturn { get; }

    /// <summary>The process filter, or null.</summary>
    public int? Pid { get; }

    /// <summary>Attaches <paramref name="program"/> to <paramref name="function"/> in <paramref name="binary"/>.</summary>
    /// <param name="program">A kprobe program (sleepable ones, loaded with <see cref="ProgramFlags"/> sleepable, work the same way).</param>
    /// <param name="binary">A path, or a library or executable name (<c>libc.so.6</c>, <c>bash</c>).</param>
    /// <param name="function">The function's symbol, or null to probe <see cref="UprobeOptions.Offset"/> as a file offset.</param>
    /// <param name="options">Return probe, process filter, offset, cookie, semaphore.</param>
    /// <exception cref="BpfException">The file or function cannot be found, or the kernel refused the probe.</exception>
    public static UprobeLink Attach(Program program, string binary, string? function, UprobeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        options ??= new UprobeOptions();
        string path = SharedLibraries.Resolve(binary, options.Pid);
        ulong fileOffset = (function is null ? 0 : FunctionFileOffset(path, function)) + options.Offset;
        string where = function is null ? $"{path}:0x{fileOffset:x}" : $"{path}:{function}{(options.Offset == 0 ? "" : $"+0x{options.Offset:x}")}";
        return AttachAtOffset(program, path, fileOffset, options, where);
    }

    /// <summary>Attaches at a file offset in a resolved path; <paramref name="where"/> describes it.</summary>
    internal static UprobeLink AttachAtOffset(Program program, string path, ulong fileOffset, UprobeOptions options, string where)
    {
        string kind = options.IsReturn ? "uretprobe" : "uprobe";
        string description = $"{kind} link {where}{(options.Pid is int p ? $" (pid {p})" : "")}";
        int pid = options.Pid ?? -1;
        // LegacyAttach forces the tracefs path, so tests reach it on kernels with the PMU.
        if (!LegacyAttach.IsForced && DynamicPmuType("uprobe") is uint pmuType)
        {
            FileDescriptor perfEvent = OpenProbeEvent(pmuType, "uprobe", options.IsReturn, path, fileOffset, pid,
                options.ReferenceCounterOffset, $"{kind} {where} perf event");
            return Attach(program, perfEvent, options.Cookie, description, null,
                (fd, link, text) => new UprobeLink(fd, link, text, options.Cookie, null, path, fileOffset, options.IsReturn, options.Pid));
        }
        if (TracefsProbeEvent.Available("uprobe"))
        {
            TracefsProbeEvent probe = TracefsProbeEvent.Create("uprobe", options.IsReturn, $"{path}:0x{fileOffset:x}", options.ReferenceCounterOffset);
            FileDescriptor perfEvent;
            try
            {
                // The process filter goes on the perf event, as on the PMU path: the kernel then
                // installs the probe only in that process and runs the program only for it.
                perfEvent = TracepointLink.OpenTracepointEvent(probe.EventId, $"{kind} {where} perf event", options.Pid);
            }
            catch
            {
                probe.Remove();
                throw;
            }
            return Attach(program, perfEvent, options.Cookie, description, probe.Remove,
                (fd, link, text) => new UprobeLink(fd, link, text, options.Cookie, probe.Remove, path, fileOffset, options.IsReturn, options.Pid));
        }
        throw new BpfException($"cannot attach {program} as a {kind} on {where}: {KernelSupport.For(HookKind.Uprobe).Detail}");
    }

    /// <summary>
    /// The file offset of a function in an ELF file: its symbol (from .symtab, else .dynsym),
    /// through the PT_LOAD segment that maps it.
    /// </summary>
    /// <exception cref="BpfException">No defined function of that name, or its address is not file-backed.</exception>
    public static ulong FunctionFileOffset(string path, string function)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(function);
        using ElfFile elf = ElfFile.Open(path);
        ElfSymbol? found = FindFunction(elf.SymbolTable, function) ?? FindFunction(elf.DynamicSymbolTable, function);
        if (found is not ElfSymbol symbol)
        {
            throw new BpfException($"'{function}' is not a function defined in {path} (neither .symtab nor .dynsym has it; a stripped binary keeps only exported functions)");
        }
        return VirtualAddressToFileOffset(elf, path, symbol.Value, function);
    }

    /// <summary>Turns a virtual address of an ELF file into the file offset the kernel's uprobes take.</summary>
    internal static ulong VirtualAddressToFileOffset(ElfFile elf, string path, ulong address, string what)
    {
        if (elf.Header.Type == ElfType.Relocatable)
        {
            return address; // not linked: there is no address space to map through
        }
        if (elf.TryGetFileOffset(address, out ulong offset))
        {
            return offset;
        }
        throw new BpfException($"{what} at 0x{address:x} in {path} is not inside a loadable segment, so it has no file offset to probe");
    }

    private static ElfSymbol? FindFunction(ElfSymbolTable? table, string name)
    {
        if (table is null)
        {
            return null;
        }
        if (table.TryFind(name, out ElfSymbol first) && IsDefinedFunction(first))
        {
            return first;
        }
        foreach (ElfSymbol symbol in table)
        {
            if (IsDefinedFunction(symbol) && symbol.Name == name)
            {
                return symbol;
            }
        }
        return null;
    }

    private static bool IsDefinedFunction(ElfSymbol symbol) =>
        !symbol.IsUndefined && symbol.Value != 0 && symbol.Type is ElfSymbolType.Function or ElfSymbolType.GnuIndirectFunction;
}
