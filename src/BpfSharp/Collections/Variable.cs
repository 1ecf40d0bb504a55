using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSharp.Maps;

namespace BpfSharp.Collections;

/// <summary>
/// A global variable of a loaded collection, read and written in place through the memory mapping of its
/// section's array map: what the programs see, with no system call. Variables of <c>.rodata</c> (frozen after
/// loading) are read-only.
/// </summary>
public sealed class Variable
{
    private readonly MapMemory _memory;

    internal Variable(string name, Map map, MapMemory memory, uint offset, uint size)
    {
        Name = name;
        Map = map;
        _memory = memory;
        Offset = offset;
        Size = size;
    }

    /// <summary>The variable's name.</summary>
    public string Name { get; }

    /// <summary>The array map holding the variable's section.</summary>
    public Map Map { get; }

    /// <summary>The byte offset in the section.</summary>
    public uint Offset { get; }

    /// <summary>The size in bytes.</summary>
    public uint Size { get; }

    /// <summary>Whether the variable can be written (its map was mapped writable: not <c>.rodata</c>).</summary>
    public bool IsWritable => _memory.IsWritable;

    /// <summary>The variable's live bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _memory.Span.Slice((int)Offset, (int)Size);

    /// <summary>Reads the live value; <typeparamref name="T"/> must be exactly as large as the variable.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public T Get<T>() where T : unmanaged
    {
        Check<T>();
        return MemoryMarshal.Read<T>(Bytes);
    }

    /// <summary>Writes the live value, seen by the programs at once.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    /// <exception cref="InvalidOperationException">The variable is read-only (<c>.rodata</c>).</exception>
    public void Set<T>(in T value) where T : unmanaged
    {
        Check<T>();
        if (!IsWritable)
        {
            throw new InvalidOperationException($"variable '{Name}' is in a read-only section, frozen after loading; set it on the VariableSpec before loading");
        }
        MemoryMarshal.Write(_memory.Span.Slice((int)Offset, (int)Size), in value);
    }

    /// <summary>A reference to the live value, for atomic or repeated access.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public ref T Reference<T>() where T : unmanaged
    {
        Check<T>();
        return ref MemoryMarshal.AsRef<T>(_memory.Span.Slice((int)Offset, (int)Size));
    }

    /// <inheritdoc />
    public override string ToString() => $"variable '{Name}' ({Map.Name}+{Offset}, {Size} B)";

    private void Check<T>() where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != Size)
        {
            throw new ArgumentException($"variable '{Name}' is {Size} bytes but {typeof(T).Name} is {Unsafe.SizeOf<T>()} bytes");
        }
    }
}
