using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using BpfSharp.Btf;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Specs;
using BpfSharp.Symbols;

namespace BpfSharp.Collections;

/// <summary>Where a <c>__ksym</c> extern resolved to in the running kernel.</summary>
/// <param name="BtfId">The kernel BTF id of the variable or function (0 for an untyped ksym).</param>
/// <param name="Module">The module whose BTF holds it, or null for vmlinux.</param>
/// <param name="Address">The address of an untyped ksym (from /proc/kallsyms).</param>
internal readonly record struct ResolvedKsym(int BtfId, string? Module, ulong Address);

/// <summary>
/// Resolves an object's externs against the running kernel: <c>.kconfig</c> values from the kernel configuration
/// (and libbpf's <c>LINUX_*</c> values), <c>.ksyms</c> from kernel and module BTF or /proc/kallsyms.
/// </summary>
internal sealed class ExternResolver : IDisposable
{
    private readonly Func<string, string?> _config;
    private readonly Dictionary<string, BtfObject> _moduleBtf = new(StringComparer.Ordinal);
    private Dictionary<string, uint>? _moduleIds;

    public ExternResolver(Func<string, string?>? config = null)
    {
        _config = config ?? DefaultConfig;
    }

    /// <summary>The value of the <c>.kconfig</c> map.</summary>
    public byte[] KconfigValue(CollectionSpec spec, uint size)
    {
        byte[] value = new byte[size];
        foreach (ExternSpec extern_ in spec.Externs)
        {
            if (extern_.Kind != ExternKind.Kconfig)
            {
                continue;
            }
            string? text = _config(extern_.Name);
            if (text is null)
            {
                if (!extern_.IsWeak)
                {
                    throw new BpfException(
                        $"kconfig extern '{extern_.Name}' has no value: the kernel configuration ({KernelConfig.Current?.Source ?? "not found: neither /proc/config.gz nor /boot/config-$(uname -r)"}) " +
                        "does not set it; declare it __weak to default to zero");
                }
                continue;
            }
            Encode(extern_, text, value.AsSpan((int)extern_.Offset, (int)extern_.Size));
        }
        return value;
    }

    internal static void Encode(ExternSpec extern_, string text, Span<byte> target)
    {
        BtfType? type = extern_.Type;
        string what = $"kconfig extern '{extern_.Name}' (value '{text}')";
        if (type is BtfType t && t.Kind == BtfKind.Array)
        {
            // A char array holds a string value, without its quotes.
            string unquoted = text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;
            byte[] bytes = Encoding.UTF8.GetBytes(unquoted);
            int length = Math.Min(bytes.Length, target.Length - 1);
            bytes.AsSpan(0, length).CopyTo(target);
            return;
        }
        bool tristate = text is "y" or "m" or "n";
        if (type is BtfType e && e.IsEnum)
        {
            // libbpf's enum libbpf_tristate: TRI_NO 0, TRI_YES 1, TRI_MODULE 2.
            long tri = text switch
            {
                "y" => 1,
                "m" => 2,
                "n" => 0,
                _ => throw new BpfException($"{what} is declared as a tristate enum but the value is not y, m or n"),
            };
            WriteInteger(target, tri);
            return;
        }
        if (type is BtfType i && i.Kind == BtfKind.Int)
        {
            if (i.IntEncoding.HasFlag(BtfIntEncoding.Bool))
            {
                WriteInteger(target, text is "y" or "m" || text == "1" ? 1 : 0);
                return;
            }
            if (i.IntEncoding.HasFlag(BtfIntEncoding.Char) || i.Size == 1 && tristate)
            {
                target[0] = tristate ? (byte)text[0] : (byte)ParseNumber(text, what);
                return;
            }
        }
        if (tristate)
        {
            WriteInteger(target, text is "y" or "m" ? 1 : 0);
            return;
        }
        WriteInteger(target, ParseNumber(text, what));
    }

    private static long ParseNumber(string text, string what)
    {
        string value = text.Trim('"');
        bool parsed = value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long number)
            : long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number);
        return parsed ? number : throw new BpfException($"{what} is not a number; declare it as a char array to receive a string");
    }

    private static void WriteInteger(Span<byte> target, long value)
    {
        switch (target.Length)
        {
            case 1: target[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteInt16LittleEndian(target, (short)value); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(target, (int)value); break;
            case 8: BinaryPrimitives.WriteInt64LittleEndian(target, value); break;
            default: throw new BpfException($"a kconfig integer of {target.Length} bytes cannot be filled; use 1, 2, 4 or 8 bytes");
        }
    }

    internal static string? DefaultConfig(string name)
    {
        switch (name)
        {
            case "LINUX_KERNEL_VERSION":
                return KernelRelease.Current.VersionCode.ToString(CultureInfo.InvariantCulture);
            case "LINUX_HAS_BPF_COOKIE":
                return KernelSupport.For(KernelFeature.BpfCookie).IsSupported ? "y" : "n";
            case "LINUX_HAS_SYSCALL_WRAPPER":
                return HasSyscallWrapper() ? "y" : "n";
        }
        return KernelConfig.Current?[name];
    }

    // Kernels with syscall wrappers (4.17+ on x86-64 and arm64) name the entry points __<arch>_sys_*.
    private static bool HasSyscallWrapper()
    {
        string prefix = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.Arm64 => "__arm64_sys_bpf",
            System.Runtime.InteropServices.Architecture.S390x => "__s390x_sys_bpf",
            _ => "__x64_sys_bpf",
        };
        return KernelSymbols.Current.Find(prefix) is not null
            || KernelBtf.Vmlinux.TryFindType(prefix, BtfKind.Function, out _);
    }

    /// <summary>Finds a ksym in vmlinux, then module BTF; untyped ones in /proc/kallsyms. Null when absent.</summary>
    public ResolvedKsym? ResolveKsym(ExternSpec extern_)
    {
        bool untyped = !extern_.IsFunction && (extern_.Type is null || extern_.Type.Value.Id == 0);
        if (untyped)
        {
            KernelSymbol? symbol = KernelSymbols.Current.Find(extern_.Name);
            return symbol is { } found ? new ResolvedKsym(0, null, found.Address) : null;
        }
        BtfKind kind = extern_.IsFunction ? BtfKind.Function : BtfKind.Variable;
        if (KernelBtf.Vmlinux.TryFindType(extern_.Name, kind, out BtfType type))
        {
            return new ResolvedKsym(type.Id, null, 0);
        }
        foreach (string module in KernelBtf.ModuleNames())
        {
            BtfSpec spec;
            try
            {
                spec = KernelBtf.Module(module);
            }
            catch (BtfException)
            {
                continue;
            }
            if (spec.TryFindType(extern_.Name, kind, out type) && type.Id >= spec.FirstTypeId)
            {
                return new ResolvedKsym(type.Id, module, 0);
            }
        }
        return null;
    }

    /// <summary>The BTF object of a loaded module (kept open until this resolver is disposed).</summary>
    public FileDescriptor ModuleBtf(string module)
    {
        if (_moduleBtf.TryGetValue(module, out BtfObject? loaded))
        {
            return loaded.Fd;
        }
        _moduleIds ??= ModuleBtfIds();
        if (!_moduleIds.TryGetValue(module, out uint id))
        {
            throw new BpfException($"the BTF object of module '{module}' is not loaded (it has no id among the kernel's BTF objects)");
        }
        BtfObject btf = BtfObject.FromId(id);
        _moduleBtf[module] = btf;
        return btf.Fd;
    }

    private static Dictionary<string, uint> ModuleBtfIds()
    {
        var ids = new Dictionary<string, uint>(StringComparer.Ordinal);
        foreach (uint id in BtfObject.AllIds())
        {
            try
            {
                using BtfObject btf = BtfObject.FromId(id);
                BtfObjectInfo info = btf.GetInfo();
                if (info.IsKernel && info.Name.Length > 0)
                {
                    ids.TryAdd(info.Name, id);
                }
            }
            catch (BpfException)
            {
                // Freed between listing and opening.
            }
        }
        return ids;
    }

    public void Dispose()
    {
        foreach (BtfObject btf in _moduleBtf.Values)
        {
            btf.Dispose();
        }
        _moduleBtf.Clear();
    }
}
