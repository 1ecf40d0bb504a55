using System.Buffers.Binary;
using System.Text;
using BpfSharp.Elf;

namespace BpfSharp.Tracing;

/// <summary>
/// One USDT probe site (a <c>DTRACE_PROBE</c>/<c>STAP_PROBE</c> call site) from an ELF file's
/// <c>.note.stapsdt</c>: provider and name, where it is (address and file offset), its semaphore,
/// and its argument specs. One probe name can have many sites (inlined or repeated calls).
/// </summary>
/// <param name="Provider">The provider, such as <c>libc</c> or <c>python</c>.</param>
/// <param name="Name">The probe name.</param>
/// <param name="Address">The site's address as the note records it, adjusted for prelinking through <c>.stapsdt.base</c>.</param>
/// <param name="FileOffset">The site's file offset: where the uprobe goes.</param>
/// <param name="SemaphoreAddress">The semaphore's address, or 0 when the probe has none.</param>
/// <param name="SemaphoreFileOffset">The semaphore's file offset (the uprobe's <c>ref_ctr_offset</c>), or 0.</param>
/// <param name="ArgumentText">The argument string as written in the note (<c>-4@%edi 8@-16(%rbp)</c>).</param>
public sealed record UsdtProbe(string Provider, string Name, ulong Address, ulong FileOffset, ulong SemaphoreAddress, ulong SemaphoreFileOffset, string ArgumentText)
{
    /// <summary>The note type of a stapsdt probe (NT_STAPSDT).</summary>
    public const uint NoteType = 3;

    /// <summary>The parsed arguments for the running architecture.</summary>
    /// <exception cref="FormatException">The argument string is not in this architecture's syntax.</exception>
    public IReadOnlyList<UsdtArgument> Arguments => UsdtArgument.ParseAll(ArgumentText);

    /// <summary>Every USDT probe site in the ELF file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<UsdtProbe> ReadAll(string path)
    {
        using ElfFile elf = ElfFile.Open(path);
        return ReadAll(elf);
    }

    /// <summary>Every USDT probe site in an ELF file, in note order.</summary>
    /// <exception cref="ElfException">A note is cut short or its strings are not terminated.</exception>
    public static IReadOnlyList<UsdtProbe> ReadAll(ElfFile elf)
    {
        ArgumentNullException.ThrowIfNull(elf);
        var probes = new List<UsdtProbe>();
        if (!elf.TryGetSection(".note.stapsdt", out ElfSection notes))
        {
            return probes;
        }
        ulong? baseSection = elf.TryGetSection(".stapsdt.base", out ElfSection stapsdtBase) ? stapsdtBase.Address : null;
        foreach (ElfNote note in elf.GetNotes(notes))
        {
            if (note.Name != "stapsdt" || note.Type != NoteType)
            {
                continue;
            }
            probes.Add(Parse(elf, note.Descriptor.Span, baseSection));
        }
        return probes;
    }

    /// <summary>Every site of one probe.</summary>
    public static IReadOnlyList<UsdtProbe> Find(string path, string provider, string name) =>
        [.. ReadAll(path).Where(p => p.Provider == provider && p.Name == name)];

    private static UsdtProbe Parse(ElfFile elf, ReadOnlySpan<byte> descriptor, ulong? baseSection)
    {
        if (descriptor.Length < 24 + 3)
        {
            throw new ElfException($"a stapsdt note has a {descriptor.Length}-byte descriptor; it needs three addresses and three strings");
        }
        ulong pc = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
        ulong noteBase = BinaryPrimitives.ReadUInt64LittleEndian(descriptor[8..]);
        ulong semaphore = BinaryPrimitives.ReadUInt64LittleEndian(descriptor[16..]);
        ReadOnlySpan<byte> strings = descriptor[24..];
        string provider = NextString(ref strings), name = NextString(ref strings), arguments = NextString(ref strings);
        // A prelinked file moved its sections after the note was written: .stapsdt.base tells by how much.
        if (baseSection is ulong actualBase && noteBase != 0)
        {
            pc += actualBase - noteBase;
            if (semaphore != 0)
            {
                semaphore += actualBase - noteBase;
            }
        }
        ulong fileOffset = ToFileOffset(elf, pc, $"USDT probe {provider}:{name}");
        ulong semaphoreOffset = semaphore == 0 ? 0 : ToFileOffset(elf, semaphore, $"the semaphore of USDT probe {provider}:{name}");
        return new UsdtProbe(provider, name, pc, fileOffset, semaphore, semaphoreOffset, arguments);
    }

    private static ulong ToFileOffset(ElfFile elf, ulong address, string what)
    {
        if (elf.Header.Type == ElfType.Relocatable)
        {
            return address;
        }
        return elf.TryGetFileOffset(address, out ulong offset)
            ? offset
            : throw new ElfException($"{what} is at 0x{address:x}, outside every loadable segment of the file");
    }

    private static string NextString(ref ReadOnlySpan<byte> strings)
    {
        int end = strings.IndexOf((byte)0);
        if (end < 0)
        {
            throw new ElfException("a stapsdt note's provider, name and argument strings must each end with a NUL byte");
        }
        string text = Encoding.UTF8.GetString(strings[..end]);
        strings = strings[(end + 1)..];
        return text;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Provider}:{Name} at 0x{Address:x} (file offset 0x{FileOffset:x}{(SemaphoreAddress == 0 ? "" : $", semaphore 0x{SemaphoreFileOffset:x}")}) args '{ArgumentText}'";
}

/// <summary>
/// The binary layout of libbpf's <c>struct __bpf_usdt_spec</c> (usdt.bpf.h), the value of the
/// <c>__bpf_usdt_specs</c> map that <c>bpf_usdt_arg()</c> reads: 12 argument specs of 16 bytes
/// (u64 val_off, u32 arg_type, s16 reg_off, bool arg_signed, s8 arg_bitshift), the u64 cookie and the
/// s16 argument count, padded to 208 bytes.
/// </summary>
public static class UsdtSpec
{
    /// <summary>sizeof(struct __bpf_usdt_spec).</summary>
    public const int Size = 208;

    /// <summary>BPF_USDT_MAX_ARG_CNT.</summary>
    public const int MaxArguments = 12;

    /// <summary>Encodes a probe's arguments and a user cookie as usdt.bpf.h reads them.</summary>
    /// <exception cref="ArgumentException">More than 12 arguments, or a scaled-index argument, which usdt.bpf.h cannot read.</exception>
    public static byte[] Encode(IReadOnlyList<UsdtArgument> arguments, ulong cookie)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (arguments.Count > MaxArguments)
        {
            throw new ArgumentException($"a USDT spec holds at most {MaxArguments} arguments, not {arguments.Count}", nameof(arguments));
        }
        byte[] spec = new byte[Size];
        for (int i = 0; i < arguments.Count; i++)
        {
            UsdtArgument argument = arguments[i];
            if (argument.Kind == UsdtArgumentKind.ScaledIndexDereference)
            {
                throw new ArgumentException($"argument {i} uses a scaled index ({argument.Register}, {argument.IndexRegister}), which libbpf's usdt.bpf.h cannot read", nameof(arguments));
            }
            Span<byte> slot = spec.AsSpan(i * 16, 16);
            BinaryPrimitives.WriteInt64LittleEndian(slot, argument.ValueOrOffset);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[8..], (uint)argument.Kind);
            BinaryPrimitives.WriteInt16LittleEndian(slot[12..], argument.Kind == UsdtArgumentKind.Constant ? (short)0 : argument.RegisterOffset);
            slot[14] = argument.IsSigned ? (byte)1 : (byte)0;
            slot[15] = (byte)argument.BitShift;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(spec.AsSpan(192), cookie);
        BinaryPrimitives.WriteInt16LittleEndian(spec.AsSpan(200), (short)arguments.Count);
        return spec;
    }
}
