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
/// The binary layouts of libbpf's <c>struct __bpf_usdt_spec</c> (usdt.bpf.h), the value of the
/// <c>__bpf_usdt_specs</c> map that <c>bpf_usdt_arg()</c> reads: 12 argument specs, the u64 cookie and
/// the s16 argument count. usdt.bpf.h changed it in libbpf 1.7, so the map's value size tells which
/// header a program was compiled with:
/// <list type="bullet">
/// <item>before 1.7, 208 bytes: argument specs of 16 bytes (u64 val_off, u32 arg_type, s16 reg_off, bool
/// arg_signed, s8 arg_bitshift); cookie at 192, count at 200;</item>
/// <item>from 1.7, 304 bytes: argument specs of 24 bytes (u64 val_off; arg_type in the low byte of the next
/// 32 bits, then the 12-bit idx_reg_off and 4-bit scale_bitshift in bits 16..31; an 8-bit reserved field;
/// s16 reg_off at 14, bool arg_signed at 16, s8 arg_bitshift at 17), which can describe scaled-index (SIB)
/// arguments; cookie at 288, count at 296.</item>
/// </list>
/// </summary>
public static class UsdtSpec
{
    /// <summary>sizeof(struct __bpf_usdt_spec) in usdt.bpf.h before libbpf 1.7.</summary>
    public const int Size = 208;

    /// <summary>sizeof(struct __bpf_usdt_spec) in usdt.bpf.h from libbpf 1.7 on, whose arguments may use a scaled index.</summary>
    public const int SizeWithScaledIndex = 304;

    /// <summary>BPF_USDT_MAX_ARG_CNT.</summary>
    public const int MaxArguments = 12;

    /// <summary>Encodes a probe's arguments and a user cookie in the layout before libbpf 1.7 (<see cref="Size"/> bytes).</summary>
    /// <exception cref="ArgumentException">More than 12 arguments, or a scaled-index argument, which that layout cannot describe.</exception>
    public static byte[] Encode(IReadOnlyList<UsdtArgument> arguments, ulong cookie) => Encode(arguments, cookie, Size);

    /// <summary>Encodes a probe's arguments and a user cookie in the layout of <paramref name="specSize"/> bytes (the spec map's value size).</summary>
    /// <exception cref="ArgumentException">
    /// The size is neither layout's; more than 12 arguments; or a scaled-index argument in the layout before libbpf 1.7.
    /// </exception>
    public static byte[] Encode(IReadOnlyList<UsdtArgument> arguments, ulong cookie, int specSize)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        if (specSize is not (Size or SizeWithScaledIndex))
        {
            throw new ArgumentException($"a USDT spec map's value must be struct __bpf_usdt_spec of usdt.bpf.h: {Size} bytes (libbpf before 1.7) " +
                $"or {SizeWithScaledIndex} bytes (libbpf 1.7 and later), not {specSize}", nameof(specSize));
        }
        if (arguments.Count > MaxArguments)
        {
            throw new ArgumentException($"a USDT spec holds at most {MaxArguments} arguments, not {arguments.Count}", nameof(arguments));
        }
        bool wide = specSize == SizeWithScaledIndex;
        int stride = wide ? 24 : 16;
        byte[] spec = new byte[specSize];
        for (int i = 0; i < arguments.Count; i++)
        {
            UsdtArgument argument = arguments[i];
            Span<byte> slot = spec.AsSpan(i * stride, stride);
            BinaryPrimitives.WriteInt64LittleEndian(slot, argument.ValueOrOffset);
            short registerOffset = argument.Kind == UsdtArgumentKind.Constant ? (short)0 : argument.RegisterOffset;
            if (wide)
            {
                slot[8] = (byte)argument.Kind;
                if (argument.Kind == UsdtArgumentKind.ScaledIndexDereference)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(slot[10..], (ushort)((argument.IndexRegisterOffset & 0xFFF) | (argument.ScaleShift << 12)));
                }
                BinaryPrimitives.WriteInt16LittleEndian(slot[14..], registerOffset);
                slot[16] = argument.IsSigned ? (byte)1 : (byte)0;
                slot[17] = (byte)argument.BitShift;
            }
            else
            {
                if (argument.Kind == UsdtArgumentKind.ScaledIndexDereference)
                {
                    throw new ArgumentException($"argument {i} uses a scaled index ({argument.Register}, {argument.IndexRegister}), which usdt.bpf.h before libbpf 1.7 " +
                        $"cannot read (its spec map value is {Size} bytes; libbpf 1.7's is {SizeWithScaledIndex})", nameof(arguments));
                }
                BinaryPrimitives.WriteUInt32LittleEndian(slot[8..], (uint)argument.Kind);
                BinaryPrimitives.WriteInt16LittleEndian(slot[12..], registerOffset);
                slot[14] = argument.IsSigned ? (byte)1 : (byte)0;
                slot[15] = (byte)argument.BitShift;
            }
        }
        int trailer = MaxArguments * stride;
        BinaryPrimitives.WriteUInt64LittleEndian(spec.AsSpan(trailer), cookie);
        BinaryPrimitives.WriteInt16LittleEndian(spec.AsSpan(trailer + 8), (short)arguments.Count);
        return spec;
    }
}
