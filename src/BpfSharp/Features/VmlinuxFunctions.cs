using System.Buffers.Binary;
using System.Text;

namespace BpfSharp.Features;

/// <summary>
/// Finds kernel functions in the vmlinux BTF by name: the attach targets that probing fentry,
/// LSM and freplace programs needs. A single forward scan over the type section, reading only
/// each type's kind and name, so it costs milliseconds and allocates one array.
/// </summary>
internal static class VmlinuxFunctions
{
    internal const string Path = "/sys/kernel/btf/vmlinux";

    private const int KindFunc = 12;

    private static readonly Lazy<byte[]?> Blob = new(() => File.Exists(Path) ? File.ReadAllBytes(Path) : null);

    /// <summary>The BTF type id of the function named <paramref name="name"/>, or null when there is no BTF or no such function.</summary>
    internal static uint? FindId(string name)
    {
        byte[]? btf = Blob.Value;
        return btf is null ? null : FindFunction(btf, Encoding.UTF8.GetBytes(name));
    }

    /// <summary>Scans a BTF blob for a FUNC type with the given name.</summary>
    /// <exception cref="FormatException">The blob is not BTF or is cut short.</exception>
    internal static uint? FindFunction(ReadOnlySpan<byte> btf, ReadOnlySpan<byte> name)
    {
        if (btf.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(btf) != 0xeb9f)
        {
            throw new FormatException("not a little-endian BTF blob (bad magic)");
        }
        uint headerLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[4..]);
        uint typeOffset = BinaryPrimitives.ReadUInt32LittleEndian(btf[8..]);
        uint typeLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[12..]);
        uint stringOffset = BinaryPrimitives.ReadUInt32LittleEndian(btf[16..]);
        uint stringLength = BinaryPrimitives.ReadUInt32LittleEndian(btf[20..]);
        if ((ulong)headerLength + typeOffset + typeLength > (ulong)btf.Length
            || (ulong)headerLength + stringOffset + stringLength > (ulong)btf.Length)
        {
            throw new FormatException("BTF sections run past the end of the blob");
        }
        ReadOnlySpan<byte> types = btf.Slice((int)(headerLength + typeOffset), (int)typeLength);
        ReadOnlySpan<byte> strings = btf.Slice((int)(headerLength + stringOffset), (int)stringLength);

        uint id = 1; // type 0 is void and is not stored
        int position = 0;
        while (position + 12 <= types.Length)
        {
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(types[position..]);
            uint info = BinaryPrimitives.ReadUInt32LittleEndian(types[(position + 4)..]);
            int kind = (int)(info >> 24 & 0x1f);
            int count = (int)(info & 0xffff);
            if (kind == KindFunc && nameOffset < strings.Length)
            {
                ReadOnlySpan<byte> candidate = strings[(int)nameOffset..];
                int end = candidate.IndexOf((byte)0);
                if (end >= 0 && candidate[..end].SequenceEqual(name))
                {
                    return id;
                }
            }
            position += 12 + TrailingSize(kind, count);
            id++;
        }
        return null;
    }

    // The bytes that follow struct btf_type for each kind (linux/btf.h).
    private static int TrailingSize(int kind, int count) => kind switch
    {
        1 => 4,           // INT: encoding, offset, bits
        3 => 12,          // ARRAY: struct btf_array
        4 or 5 => 12 * count, // STRUCT, UNION: struct btf_member each
        6 => 8 * count,   // ENUM: struct btf_enum each
        13 => 8 * count,  // FUNC_PROTO: struct btf_param each
        14 => 4,          // VAR: linkage
        15 => 12 * count, // DATASEC: struct btf_var_secinfo each
        17 => 4,          // DECL_TAG: component index
        19 => 12 * count, // ENUM64: struct btf_enum64 each
        2 or 7 or 8 or 9 or 10 or 11 or 12 or 16 or 18 => 0,
        _ => throw new FormatException($"unknown BTF kind {kind}"),
    };
}
