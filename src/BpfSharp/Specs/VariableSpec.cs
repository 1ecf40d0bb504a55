using System.Runtime.InteropServices;
using BpfSharp.Btf;
using BpfSharp.Maps;

namespace BpfSharp.Specs;

/// <summary>
/// A global variable of a BPF object (in <c>.data</c>, <c>.rodata</c>, <c>.bss</c>, <c>.data.*</c> or <c>.rodata.*</c>)
/// before the object is loaded: its value lives in the initial value of the section's array map, so setting it
/// here (a <c>const volatile</c> configuration value in <c>.rodata</c>, typically) changes what the programs see
/// once loaded. After loading, <see cref="Collections.Variable"/> reads and writes the live value.
/// </summary>
public sealed class VariableSpec
{
    internal VariableSpec(string name, string sectionName, MapSpec map, uint offset, uint size, BtfType? type)
    {
        Name = name;
        SectionName = sectionName;
        Map = map;
        Offset = offset;
        Size = size;
        Type = type;
    }

    /// <summary>The variable's name in the C source.</summary>
    public string Name { get; }

    /// <summary>The ELF section holding it (<c>.rodata</c>, <c>.bss</c>, ...).</summary>
    public string SectionName { get; }

    /// <summary>The array map backing the section.</summary>
    public MapSpec Map { get; }

    /// <summary>The byte offset of the variable within the section (and the map's value).</summary>
    public uint Offset { get; }

    /// <summary>The variable's size in bytes.</summary>
    public uint Size { get; }

    /// <summary>The variable's BTF type in the object's BTF (through the BTF VAR), or <see langword="null"/> when the object has no BTF.</summary>
    public BtfType? Type { get; }

    /// <summary>Whether the variable is in a read-only section (<c>.rodata*</c>): it can be set before loading only.</summary>
    public bool IsReadOnly => SectionName.StartsWith(".rodata", StringComparison.Ordinal);

    /// <summary>The variable's current initial bytes (a view into the map's initial value).</summary>
    public Span<byte> Bytes => Backing().AsSpan((int)Offset, (int)Size);

    /// <summary>Reads the variable as a <typeparamref name="T"/>, which must be exactly as large as the variable.</summary>
    /// <exception cref="ArgumentException">The size of <typeparamref name="T"/> differs from the variable's.</exception>
    public T Get<T>() where T : unmanaged => MemoryMarshal.Read<T>(Checked<T>());

    /// <summary>Sets the variable's initial value; <typeparamref name="T"/> must be exactly as large as the variable.</summary>
    /// <exception cref="ArgumentException">The size of <typeparamref name="T"/> differs from the variable's.</exception>
    public void Set<T>(in T value) where T : unmanaged => MemoryMarshal.Write(Checked<T>(), in value);

    /// <summary>Sets the variable's initial bytes; <paramref name="value"/> may be shorter than the variable (the rest is zeroed), not longer.</summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is longer than the variable.</exception>
    public void SetBytes(ReadOnlySpan<byte> value)
    {
        if (value.Length > Size)
        {
            throw new ArgumentException($"variable '{Name}' is {Size} bytes; {value.Length} bytes do not fit", nameof(value));
        }
        Span<byte> target = Bytes;
        value.CopyTo(target);
        target[value.Length..].Clear();
    }

    /// <inheritdoc />
    public override string ToString() => $"variable '{Name}' ({SectionName}+{Offset}, {Size} B)";

    private Span<byte> Checked<T>() where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (size != Size)
        {
            throw new ArgumentException($"variable '{Name}' is {Size} bytes but {typeof(T).Name} is {size} bytes");
        }
        return Bytes;
    }

    private byte[] Backing()
    {
        byte[]? value = Map.InitialValue;
        if (value is null || value.Length < Offset + Size)
        {
            // The map was resized below the variable, or its value dropped: give it room again.
            byte[] grown = new byte[Math.Max(Map.ValueSize, Offset + Size)];
            value?.AsSpan(0, Math.Min(value.Length, grown.Length)).CopyTo(grown);
            Map.InitialValue = value = grown;
        }
        return value;
    }
}
