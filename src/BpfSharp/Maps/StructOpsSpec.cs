using BpfSharp.Btf;

namespace BpfSharp.Maps;

/// <summary>
/// What a struct_ops map (a <c>SEC(".struct_ops")</c> or <c>SEC(".struct_ops.link")</c> variable of a kernel ops
/// struct such as <c>struct tcp_congestion_ops</c>) holds in the object: the struct as the object declares it, its
/// initializer, and which program fills each function pointer. A collection turns it into the kernel's value: data
/// members are copied by name into the kernel's layout of the struct, function pointers become program descriptors.
/// </summary>
/// <remarks>
/// Edit it before loading: change <see cref="Data"/> (a different <c>name</c> for a congestion control), or point a
/// member at another program or at none through <see cref="Programs"/>.
/// </remarks>
public sealed class StructOpsSpec
{
    private byte[] _data;

    /// <summary>Describes a struct_ops variable of type <paramref name="type"/> initialized with <paramref name="data"/>.</summary>
    /// <param name="type">The variable's struct type in the object's BTF.</param>
    /// <param name="data">The initializer: <paramref name="type"/>'s size in bytes, function pointers left zero.</param>
    /// <exception cref="ArgumentException">The type is not a named struct, or the data is not its size.</exception>
    public StructOpsSpec(BtfType type, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (type.Kind != BtfKind.Struct || !type.HasName)
        {
            throw new ArgumentException($"a struct_ops value must be a named struct, not {type.Describe()}", nameof(type));
        }
        Type = type;
        _data = CheckSize(data, nameof(data));
        Programs = new Dictionary<string, string>(StringComparer.Ordinal);
    }

    /// <summary>The struct as the object declares it (its BTF), possibly a flavor (<c>tcp_congestion_ops___v2</c>).</summary>
    public BtfType Type { get; }

    /// <summary>
    /// The name of the kernel struct it implements: the declared name without a flavor suffix (libbpf's rule:
    /// everything from the last <c>___</c> on is dropped), for example <c>tcp_congestion_ops</c>.
    /// </summary>
    public string KernelTypeName
    {
        get
        {
            string name = Type.Name;
            int flavor = name.LastIndexOf("___", StringComparison.Ordinal);
            return flavor > 0 ? name[..flavor] : name;
        }
    }

    /// <summary>
    /// The initializer in the object's layout of <see cref="Type"/> (its size in bytes). Function pointer members
    /// are ignored here: <see cref="Programs"/> says what fills them.
    /// </summary>
    /// <exception cref="ArgumentException">Set to an array that is not the struct's size.</exception>
    public byte[] Data
    {
        get => _data;
        set => _data = CheckSize(value, nameof(value));
    }

    /// <summary>The program (by name, a <c>SEC("struct_ops/...")</c> program of the same object) that fills each function pointer member, by member name.</summary>
    public Dictionary<string, string> Programs { get; private init; }

    /// <summary>A copy whose data and program table can be changed independently.</summary>
    public StructOpsSpec Clone() => new(Type, (byte[])_data.Clone())
    {
        Programs = new Dictionary<string, string>(Programs, StringComparer.Ordinal),
    };

    private byte[] CheckSize(byte[] data, string parameter)
    {
        ArgumentNullException.ThrowIfNull(data, parameter);
        return data.Length == Type.Size
            ? data
            : throw new ArgumentException($"struct {Type.Name} is {Type.Size} bytes; {data.Length} bytes were given", parameter);
    }

    /// <inheritdoc />
    public override string ToString() => $"struct {Type.Name} ({Programs.Count} programs)";
}
