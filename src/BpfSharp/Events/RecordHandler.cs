using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSharp.Events;

/// <summary>
/// Receives one record straight from a ring or perf buffer's shared memory. The span is valid only
/// during the call: copy what must outlive it.
/// </summary>
/// <param name="record">The record's bytes (for perf buffers, the raw sample including the kernel's padding to 8 bytes).</param>
public delegate void RecordHandler(ReadOnlySpan<byte> record);

/// <summary>
/// Receives one record viewed as an unmanaged struct, read in place from the buffer's shared memory.
/// The reference is valid only during the call.
/// </summary>
/// <typeparam name="T">The record layout; records shorter than it are refused with <see cref="InvalidDataException"/>.</typeparam>
public delegate void RecordHandler<T>(in T record) where T : unmanaged;

/// <summary>
/// A record handler as a struct type: passed by reference to <c>Consume</c>/<c>Poll</c>, the JIT
/// specializes the read loop for it and inlines <see cref="OnRecord"/>, so a handler that only
/// aggregates costs no call per record.
/// </summary>
public interface IRecordHandler
{
    /// <summary>Handles one record; the span is valid only during the call.</summary>
    void OnRecord(ReadOnlySpan<byte> record);
}

/// <summary>Adapts a <see cref="RecordHandler"/> delegate to the struct handler form.</summary>
internal readonly struct DelegateRecordHandler(RecordHandler handler) : IRecordHandler
{
    private readonly RecordHandler _handler = handler ?? throw new ArgumentNullException(nameof(handler));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnRecord(ReadOnlySpan<byte> record) => _handler(record);
}

/// <summary>Adapts a <see cref="RecordHandler{T}"/> delegate to the struct handler form.</summary>
internal readonly unsafe struct TypedRecordHandler<T>(RecordHandler<T> handler) : IRecordHandler where T : unmanaged
{
    private readonly RecordHandler<T> _handler = handler ?? throw new ArgumentNullException(nameof(handler));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void OnRecord(ReadOnlySpan<byte> record)
    {
        if (record.Length < sizeof(T))
        {
            RecordLayout.ThrowShort<T>(record.Length);
        }
        _handler(in MemoryMarshal.AsRef<T>(record));
    }
}

/// <summary>Checks shared by the typed record paths.</summary>
internal static unsafe class RecordLayout
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowShort<T>(int length) where T : unmanaged =>
        throw new InvalidDataException(
            $"A {length}-byte record cannot be read as {typeof(T).Name}, which is {sizeof(T)} bytes: the program writes a different record than the type describes. Use the byte-span handler, or a type that matches the program's struct.");
}
