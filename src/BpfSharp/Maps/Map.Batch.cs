using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

// BPF_MAP_*_BATCH: many elements per system call. Keys and values travel packed back to back:
// n keys of KeySize bytes and n values of ValueBufferSize bytes (per-CPU values included).
public sealed partial class Map
{
    /// <summary>
    /// Reads up to as many entries as <paramref name="keys"/> has room for, continuing where
    /// <paramref name="cursor"/> stopped; returns how many were read. When the map is exhausted the
    /// cursor's <see cref="MapBatchCursor.IsComplete"/> becomes true (the last call may still return entries).
    /// </summary>
    /// <param name="cursor">Where the previous batch stopped; a new cursor starts at the beginning.</param>
    /// <param name="keys">Room for n keys (n × <see cref="KeySize"/> bytes).</param>
    /// <param name="values">Room for n values (n × <see cref="ValueBufferSize"/> bytes).</param>
    /// <param name="flags"><see cref="UpdateFlags.Lock"/> to copy each value under its spin lock.</param>
    /// <exception cref="BpfException">The map type has no batch operations on this kernel, or a hash bucket holds more elements than the buffers.</exception>
    public int LookupBatch(MapBatchCursor cursor, Span<byte> keys, Span<byte> values, UpdateFlags flags = UpdateFlags.Any) =>
        ReadBatch(BpfCommand.MapLookupBatch, cursor, keys, values, flags);

    /// <summary>
    /// Like <see cref="LookupBatch"/>, and removes the entries it returns (hash maps only).
    /// </summary>
    public int LookupAndDeleteBatch(MapBatchCursor cursor, Span<byte> keys, Span<byte> values, UpdateFlags flags = UpdateFlags.Any) =>
        ReadBatch(BpfCommand.MapLookupAndDeleteBatch, cursor, keys, values, flags);

    /// <summary>Stores n values under n keys in one call; returns n.</summary>
    /// <param name="keys">n keys packed back to back.</param>
    /// <param name="values">n values packed back to back (per-CPU maps: <see cref="ValueBufferSize"/> each).</param>
    /// <param name="flags">Applied to every element.</param>
    /// <exception cref="BpfException">An element failed; the message says how many were stored before it.</exception>
    public unsafe int UpdateBatch(ReadOnlySpan<byte> keys, ReadOnlySpan<byte> values, UpdateFlags flags = UpdateFlags.Any)
    {
        int count = BatchCount(keys.Length, values.Length, nameof(keys), nameof(values));
        fixed (byte* k = keys)
        fixed (byte* v = values)
        {
            return WriteBatch(BpfCommand.MapUpdateBatch, k, v, count, flags);
        }
    }

    /// <summary>Removes n keys in one call; returns n.</summary>
    /// <exception cref="BpfException">A key was not in the map (ENOENT); the message says how many were removed before it.</exception>
    public unsafe int DeleteBatch(ReadOnlySpan<byte> keys)
    {
        int count = BatchCount(keys.Length, null, nameof(keys), null);
        fixed (byte* k = keys)
        {
            return WriteBatch(BpfCommand.MapDeleteBatch, k, null, count, UpdateFlags.Any);
        }
    }

    /// <summary>Typed <see cref="LookupBatch"/> for maps whose values are not per-CPU.</summary>
    public int LookupBatch<TKey, TValue>(MapBatchCursor cursor, Span<TKey> keys, Span<TValue> values, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        CheckKeyType<TKey>();
        CheckValueType<TValue>();
        return ReadBatch(BpfCommand.MapLookupBatch, cursor, MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), flags);
    }

    /// <summary>Typed <see cref="LookupAndDeleteBatch"/> for maps whose values are not per-CPU.</summary>
    public int LookupAndDeleteBatch<TKey, TValue>(MapBatchCursor cursor, Span<TKey> keys, Span<TValue> values, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        CheckKeyType<TKey>();
        CheckValueType<TValue>();
        return ReadBatch(BpfCommand.MapLookupAndDeleteBatch, cursor, MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), flags);
    }

    /// <summary>Typed <see cref="UpdateBatch"/> for maps whose values are not per-CPU.</summary>
    public int UpdateBatch<TKey, TValue>(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        CheckKeyType<TKey>();
        CheckValueType<TValue>();
        return UpdateBatch(MemoryMarshal.AsBytes(keys), MemoryMarshal.AsBytes(values), flags);
    }

    /// <summary>Typed <see cref="DeleteBatch"/>.</summary>
    public int DeleteBatch<TKey>(ReadOnlySpan<TKey> keys) where TKey : unmanaged
    {
        CheckKeyType<TKey>();
        return DeleteBatch(MemoryMarshal.AsBytes(keys));
    }

    private unsafe int ReadBatch(BpfCommand command, MapBatchCursor cursor, Span<byte> keys, Span<byte> values, UpdateFlags flags)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        int count = BatchCount(keys.Length, values.Length, nameof(keys), nameof(values));
        if (count == 0)
        {
            // The kernel would answer "0 elements" without moving, and a loop waiting for the end would spin forever.
            throw new ArgumentException($"The buffers for a batch read from {this} must have room for at least one element.", nameof(keys));
        }
        if (cursor.IsComplete)
        {
            return 0;
        }
        // The position token is opaque: a bucket number (u32) for hash maps, a key for the
        // generic implementation. A buffer as large as both fits either.
        cursor.EnsureTokenSize(Math.Max((int)KeySize, sizeof(ulong)));
        using FileDescriptor.Lease lease = _fd.Borrow();
        fixed (byte* k = keys)
        fixed (byte* v = values)
        fixed (byte* input = cursor.Token)
        fixed (byte* output = cursor.NextToken)
        {
            var attr = new MapBatchAttr
            {
                MapFd = (uint)lease.Fd,
                InBatch = cursor.IsStarted ? (ulong)input : 0,
                OutBatch = (ulong)output,
                Keys = (ulong)k,
                Values = (ulong)v,
                Count = (uint)count,
                ElemFlags = (ulong)flags,
            };
            if (Bpf.TryCall(command, ref attr, out Errno errno) < 0)
            {
                if (errno != Errno.ENOENT)
                {
                    throw BatchError(command, errno, count, attr.Count);
                }
                // ENOENT: the walk reached the end; the entries of this last call were still copied.
                cursor.IsComplete = true;
                return (int)attr.Count;
            }
            cursor.Advance();
            return (int)attr.Count;
        }
    }

    private unsafe int WriteBatch(BpfCommand command, byte* keys, byte* values, int count, UpdateFlags flags)
    {
        if (count == 0)
        {
            return 0;
        }
        using FileDescriptor.Lease lease = _fd.Borrow();
        var attr = new MapBatchAttr
        {
            MapFd = (uint)lease.Fd,
            Keys = (ulong)keys,
            Values = (ulong)values,
            Count = (uint)count,
            ElemFlags = (ulong)flags,
        };
        if (Bpf.TryCall(command, ref attr, out Errno errno) < 0)
        {
            throw BatchError(command, errno, count, attr.Count);
        }
        return (int)attr.Count;
    }

    private int BatchCount(int keyBytes, int? valueBytes, string keysName, string? valuesName)
    {
        if (KeySize == 0)
        {
            throw new InvalidOperationException($"{this} has no keys (key size 0), so it has no batch operations.");
        }
        if (keyBytes % KeySize != 0)
        {
            throw new ArgumentException($"{this} has {KeySize}-byte keys; {keysName} holds {keyBytes} bytes, not a whole number of keys.", keysName);
        }
        int count = keyBytes / (int)KeySize;
        if (valueBytes is int bytes && bytes != (long)count * ValueBufferSize)
        {
            throw new ArgumentException(
                $"{keysName} holds {count} keys, so {valuesName} must hold {count} values of {ValueBufferSize} bytes ({(long)count * ValueBufferSize} bytes), not {bytes}.",
                valuesName);
        }
        return count;
    }

    private BpfException BatchError(BpfCommand command, Errno errno, int requested, uint done)
    {
        string? hint = errno switch
        {
            Errno.ENOTSUPP or Errno.EOPNOTSUPP =>
                $"{Type} maps have no {BpfCommands.Name(command)} on this kernel; use the single-element operations (Lookup, GetNextKey, Update, Delete) instead",
            Errno.ENOSPC when command is BpfCommand.MapLookupBatch or BpfCommand.MapLookupAndDeleteBatch =>
                "one hash bucket holds more elements than the buffers have room for; retry with the same cursor and larger key and value buffers",
            Errno.EINVAL when command is BpfCommand.MapDeleteBatch && IsArrayType(Type) =>
                $"{Type} map elements cannot be deleted",
            Errno.ENOENT when command is BpfCommand.MapDeleteBatch or BpfCommand.MapUpdateBatch =>
                "a key was not in the map",
            Errno.EPERM => "the map is read-only for user space (frozen, BPF_F_RDONLY, or opened read-only)",
            _ => Errors.CommandHint(command, errno),
        };
        string context = command is BpfCommand.MapUpdateBatch or BpfCommand.MapDeleteBatch
            ? $"batch of {requested} elements on {this}, {done} done before the failure"
            : $"batch of up to {requested} elements from {this}";
        return new BpfException(BpfCommands.Name(command), errno, context, hint);
    }
}
