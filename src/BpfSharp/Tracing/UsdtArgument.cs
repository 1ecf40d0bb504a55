using System.Globalization;
using System.Runtime.InteropServices;

namespace BpfSharp.Tracing;

/// <summary>Where a USDT argument's value lives at the probe site.</summary>
public enum UsdtArgumentKind
{
    /// <summary>A constant (<c>$5</c> on x86-64, <c>5</c> on arm64).</summary>
    Constant = 0,
    /// <summary>A register's value (<c>%edi</c>, <c>x0</c>).</summary>
    Register = 1,
    /// <summary>Memory at a register plus an offset (<c>-20(%rbp)</c>, <c>[x29, -12]</c>).</summary>
    RegisterDereference = 2,
    /// <summary>Memory at base + index &lt;&lt; scale + offset (<c>8(%rax,%rbx,4)</c>).</summary>
    ScaledIndexDereference = 3,
}

/// <summary>
/// One argument of a USDT probe, parsed from its <c>.note.stapsdt</c> argument string such as
/// <c>-4@-20(%rbp)</c>: its size and signedness, and how to fetch it from the probe's registers.
/// The numbers are exactly what the BPF side (libbpf's usdt.bpf.h spec) needs: offsets into
/// <c>struct pt_regs</c> and a bit shift that truncates and sign- or zero-extends the value.
/// </summary>
/// <param name="Size">The value's size in bytes: 1, 2, 4 or 8.</param>
/// <param name="IsSigned">Whether the value is sign-extended.</param>
/// <param name="Kind">Where the value lives.</param>
/// <param name="ValueOrOffset">The constant, or the memory offset added to the register(s).</param>
/// <param name="Register">The (base) register name, as written; null for constants.</param>
/// <param name="RegisterOffset">The byte offset of that register in <c>struct pt_regs</c>.</param>
/// <param name="IndexRegister">The index register of a scaled-index form, else null.</param>
/// <param name="IndexRegisterOffset">Its byte offset in <c>struct pt_regs</c>.</param>
/// <param name="ScaleShift">log2 of the scale (0, 1, 2, 3) of a scaled-index form.</param>
public sealed record UsdtArgument(
    int Size,
    bool IsSigned,
    UsdtArgumentKind Kind,
    long ValueOrOffset,
    string? Register,
    short RegisterOffset,
    string? IndexRegister = null,
    short IndexRegisterOffset = 0,
    int ScaleShift = 0)
{
    /// <summary>64 minus the value's width in bits: shifting left then right by it extracts the value.</summary>
    public int BitShift => 64 - Size * 8;

    /// <summary>Parses a probe's whole argument string (space separated, as in the note) for the running architecture.</summary>
    /// <exception cref="FormatException">An argument is not in a form this architecture uses; the message quotes it.</exception>
    public static IReadOnlyList<UsdtArgument> ParseAll(string arguments) => ParseAll(arguments, RuntimeInformation.ProcessArchitecture);

    /// <summary>Parses a probe's argument string for <paramref name="architecture"/> (x64 or arm64).</summary>
    public static IReadOnlyList<UsdtArgument> ParseAll(string arguments, Architecture architecture)
    {
        var parsed = new List<UsdtArgument>();
        var reader = new SpecReader(arguments);
        reader.SkipSpaces();
        while (!reader.AtEnd)
        {
            parsed.Add(architecture switch
            {
                Architecture.X64 => ParseX64(ref reader),
                Architecture.Arm64 => ParseArm64(ref reader),
                _ => throw new PlatformNotSupportedException($"USDT arguments are supported on x64 and arm64, not {architecture}"),
            });
            reader.SkipSpaces();
        }
        if (parsed.Count > 12)
        {
            throw new FormatException($"USDT probe has {parsed.Count} arguments; at most 12 are supported");
        }
        return parsed;
    }

    private static UsdtArgument ParseX64(ref SpecReader reader)
    {
        int start = reader.Position;
        (int size, bool signed) = reader.ReadSize();
        if (reader.TryRead('$'))
        {
            return new UsdtArgument(size, signed, UsdtArgumentKind.Constant, reader.ReadInteger(), null, 0);
        }
        if (reader.Peek == '%')
        {
            string register = reader.ReadX64Register();
            return new UsdtArgument(size, signed, UsdtArgumentKind.Register, 0, register, X64RegisterOffset(register, reader.Text));
        }
        long offset = reader.Peek == '(' ? 0 : reader.ReadInteger();
        reader.Expect('(');
        string baseRegister = reader.ReadX64Register();
        if (reader.TryRead(')'))
        {
            return new UsdtArgument(size, signed, UsdtArgumentKind.RegisterDereference, offset, baseRegister, X64RegisterOffset(baseRegister, reader.Text));
        }
        reader.Expect(',');
        string indexRegister = reader.ReadX64Register();
        int scale = 1;
        if (reader.TryRead(','))
        {
            scale = (int)reader.ReadInteger();
        }
        reader.Expect(')');
        int shift = scale switch
        {
            1 => 0,
            2 => 1,
            4 => 2,
            8 => 3,
            _ => throw new FormatException($"USDT argument '{reader.Text[start..reader.Position]}' has scale {scale}; x86 scales are 1, 2, 4 or 8"),
        };
        return new UsdtArgument(size, signed, UsdtArgumentKind.ScaledIndexDereference, offset, baseRegister, X64RegisterOffset(baseRegister, reader.Text),
            indexRegister, X64RegisterOffset(indexRegister, reader.Text), shift);
    }

    private static UsdtArgument ParseArm64(ref SpecReader reader)
    {
        (int size, bool signed) = reader.ReadSize();
        if (reader.TryRead('['))
        {
            reader.SkipSpaces();
            string register = reader.ReadWord();
            reader.SkipSpaces();
            long offset = 0;
            if (reader.TryRead(','))
            {
                reader.SkipSpaces();
                reader.TryRead('#');
                offset = reader.ReadInteger();
                reader.SkipSpaces();
            }
            reader.Expect(']');
            return new UsdtArgument(size, signed, UsdtArgumentKind.RegisterDereference, offset, register, Arm64RegisterOffset(register, reader.Text));
        }
        if (reader.Peek is '#' or '-' or (>= '0' and <= '9'))
        {
            reader.TryRead('#');
            return new UsdtArgument(size, signed, UsdtArgumentKind.Constant, reader.ReadInteger(), null, 0);
        }
        string name = reader.ReadWord();
        return new UsdtArgument(size, signed, UsdtArgumentKind.Register, 0, name, Arm64RegisterOffset(name, reader.Text));
    }

    // struct pt_regs on x86-64: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss.
    private static readonly Dictionary<string, short> X64Registers = BuildX64Registers();

    private static Dictionary<string, short> BuildX64Registers()
    {
        var registers = new Dictionary<string, short>(StringComparer.Ordinal);
        void Family(short offset, params string[] names)
        {
            foreach (string name in names)
            {
                registers[name] = offset;
            }
        }
        Family(0, "r15", "r15d", "r15w", "r15b");
        Family(8, "r14", "r14d", "r14w", "r14b");
        Family(16, "r13", "r13d", "r13w", "r13b");
        Family(24, "r12", "r12d", "r12w", "r12b");
        Family(32, "rbp", "ebp", "bp", "bpl");
        Family(40, "rbx", "ebx", "bx", "bl");
        Family(48, "r11", "r11d", "r11w", "r11b");
        Family(56, "r10", "r10d", "r10w", "r10b");
        Family(64, "r9", "r9d", "r9w", "r9b");
        Family(72, "r8", "r8d", "r8w", "r8b");
        Family(80, "rax", "eax", "ax", "al");
        Family(88, "rcx", "ecx", "cx", "cl");
        Family(96, "rdx", "edx", "dx", "dl");
        Family(104, "rsi", "esi", "si", "sil");
        Family(112, "rdi", "edi", "di", "dil");
        Family(128, "rip", "eip", "ip");
        Family(152, "rsp", "esp", "sp", "spl");
        return registers;
    }

    private static short X64RegisterOffset(string register, string text) =>
        X64Registers.TryGetValue(register, out short offset)
            ? offset
            : throw new FormatException($"USDT arguments '{text}' use register %{register}, which is not a general-purpose x86-64 register (high-byte registers such as %ah are not supported)");

    private static short Arm64RegisterOffset(string register, string text)
    {
        // struct user_pt_regs: regs[31] (x0..x30), sp, pc, pstate.
        if (register == "sp")
        {
            return 31 * 8;
        }
        if (register.Length > 1 && register[0] is 'x' or 'w'
            && int.TryParse(register.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number <= 30)
        {
            return (short)(number * 8);
        }
        throw new FormatException($"USDT arguments '{text}' use register {register}, which is not an arm64 general-purpose register");
    }

    /// <summary>A cursor over an argument string with the few token kinds the formats need.</summary>
    private ref struct SpecReader(string text)
    {
        public readonly string Text = text;
        public int Position;

        public readonly bool AtEnd => Position >= Text.Length;

        public readonly char Peek => AtEnd ? '\0' : Text[Position];

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(Text[Position]))
            {
                Position++;
            }
        }

        public bool TryRead(char c)
        {
            if (Peek != c)
            {
                return false;
            }
            Position++;
            return true;
        }

        public void Expect(char c)
        {
            if (!TryRead(c))
            {
                throw Bad($"expected '{c}'");
            }
        }

        public (int Size, bool Signed) ReadSize()
        {
            long size = ReadInteger();
            Expect('@');
            bool signed = size < 0;
            long magnitude = Math.Abs(size);
            if (magnitude is not (1 or 2 or 4 or 8))
            {
                throw Bad($"argument size {size} is not 1, 2, 4 or 8 bytes");
            }
            return ((int)magnitude, signed);
        }

        public long ReadInteger()
        {
            int start = Position;
            if (Peek is '-' or '+')
            {
                Position++;
            }
            bool hex = Peek == '0' && Position + 1 < Text.Length && Text[Position + 1] is 'x' or 'X';
            if (hex)
            {
                Position += 2;
            }
            int digits = Position;
            while (!AtEnd && (char.IsAsciiDigit(Text[Position]) || hex && char.IsAsciiHexDigit(Text[Position])))
            {
                Position++;
            }
            if (Position == digits)
            {
                throw Bad("expected a number");
            }
            ReadOnlySpan<char> number = Text.AsSpan(digits, Position - digits);
            long value = hex ? (long)ulong.Parse(number, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : long.Parse(number, CultureInfo.InvariantCulture);
            return Text[start] == '-' ? -value : value;
        }

        public string ReadX64Register()
        {
            Expect('%');
            return ReadWord();
        }

        public string ReadWord()
        {
            int start = Position;
            while (!AtEnd && char.IsAsciiLetterOrDigit(Text[Position]))
            {
                Position++;
            }
            return Position > start ? Text[start..Position] : throw Bad("expected a register name");
        }

        private readonly FormatException Bad(string what) =>
            new($"cannot parse USDT arguments '{Text}' at position {Position}: {what}");
    }
}
