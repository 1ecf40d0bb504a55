using System.Buffers;
using System.Collections.Concurrent;
using BpfSharp.Kernel;

namespace BpfSharp.Btf;

/// <summary>
/// The running kernel's BTF, from <c>/sys/kernel/btf</c>: vmlinux and each loaded module's split
/// BTF on top of it. Parsed once and cached for the process; the vmlinux blob is memory-mapped
/// where the kernel allows it (6.16 and later), so it is neither copied nor counted against the heap.
/// </summary>
public static class KernelBtf
{
    /// <summary>Where the kernel exposes its BTF.</summary>
    public const string Directory = "/sys/kernel/btf";

    /// <summary>The vmlinux BTF file.</summary>
    public const string VmlinuxPath = Directory + "/vmlinux";

    private static readonly Lazy<BtfSpec> s_vmlinux = new(() => LoadKernelFile(VmlinuxPath, null), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly ConcurrentDictionary<string, Lazy<BtfSpec>> s_modules = new(StringComparer.Ordinal);

    /// <summary>The kernel's own BTF (<c>/sys/kernel/btf/vmlinux</c>), parsed on first use and kept for the process.</summary>
    /// <exception cref="BtfException">The kernel has no BTF (CONFIG_DEBUG_INFO_BTF is off) or it cannot be read.</exception>
    public static BtfSpec Vmlinux => s_vmlinux.Value;

    /// <summary>A loaded module's BTF (split BTF on top of <see cref="Vmlinux"/>), parsed on first use and cached.</summary>
    /// <param name="module">The module name as in <c>/sys/kernel/btf/NAME</c>, for example <c>nf_conntrack</c>.</param>
    /// <exception cref="BtfException">The module is not loaded, or has no BTF.</exception>
    public static BtfSpec Module(string module)
    {
        ArgumentException.ThrowIfNullOrEmpty(module);
        if (module == "vmlinux")
        {
            return Vmlinux;
        }
        if (module.Contains('/') || module is "." or "..")
        {
            throw new ArgumentException($"'{module}' is not a module name", nameof(module));
        }
        Lazy<BtfSpec> entry = s_modules.GetOrAdd(module, name =>
            new Lazy<BtfSpec>(() => LoadKernelFile(Path.Combine(Directory, name), Vmlinux), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return entry.Value;
        }
        catch (BtfException)
        {
            // Do not cache a failure: the module may be loaded later.
            s_modules.TryRemove(new KeyValuePair<string, Lazy<BtfSpec>>(module, entry));
            throw;
        }
    }

    /// <summary>Names of the modules that expose BTF right now (vmlinux excluded).</summary>
    public static IReadOnlyList<string> ModuleNames()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }
        return System.IO.Directory.EnumerateFiles(Directory)
            .Select(Path.GetFileName)
            .Where(name => name is not null and not "vmlinux")
            .Order(StringComparer.Ordinal)
            .ToList()!;
    }

    /// <summary>
    /// The BTF in the file at <paramref name="path"/>, read the way its place asks: <see cref="VmlinuxPath"/> is the
    /// running kernel's (<see cref="Vmlinux"/>, mapped once and shared), a module's file under <see cref="Directory"/>
    /// its split BTF on top of vmlinux (<see cref="Module"/>), anything else a raw BTF blob or an ELF file with a
    /// <c>.BTF</c> section (<see cref="BtfSpec.Load"/>).
    /// </summary>
    /// <exception cref="BtfException">The file cannot be read or holds no valid BTF.</exception>
    public static BtfSpec Open(string path)
    {
        string full = Path.GetFullPath(path);
        if (full == VmlinuxPath)
        {
            return Vmlinux;
        }
        return Path.GetDirectoryName(full) == Directory ? Module(Path.GetFileName(full)) : BtfSpec.Load(path);
    }

    private static BtfSpec LoadKernelFile(string path, BtfSpec? baseSpec)
    {
        if (!File.Exists(path))
        {
            throw new BtfException(baseSpec is null
                ? $"{path} does not exist: this kernel was built without BTF (CONFIG_DEBUG_INFO_BTF), so CO-RE and BTF-typed features are unavailable"
                : $"{path} does not exist: the module is not loaded, or was built without BTF (CONFIG_DEBUG_INFO_BTF_MODULES)");
        }
        ReadOnlyMemory<byte>? mapped = TryMapReadOnly(path);
        if (mapped is null)
        {
            return BtfSpec.Load(path, baseSpec);
        }
        try
        {
            return BtfSpec.Parse(mapped.Value, baseSpec);
        }
        catch (BtfException e)
        {
            throw new BtfException($"{path}: {e.Message}", e);
        }
    }

    // The mapping is never unmapped: it backs a spec cached for the life of the process.
    private static unsafe ReadOnlyMemory<byte>? TryMapReadOnly(string path)
    {
        int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            return null;
        }
        try
        {
            long length = new FileInfo(path).Length;
            if (length <= 0 || length > int.MaxValue)
            {
                return null;
            }
            // MAP_PRIVATE: the kernel refuses shared mappings of its BTF.
            nint address = LibC.Mmap(0, (nuint)length, LibC.PROT_READ, LibC.MAP_PRIVATE, fd, 0);
            if (address == -1)
            {
                return null;
            }
            return new PermanentMapping((byte*)address, (int)length).Memory;
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>Exposes a mapping that lives until the process exits as memory.</summary>
    private sealed unsafe class PermanentMapping(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
