using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSharp.Kernel;

namespace BpfSharp.Maps;

// Element operations on raw bytes, and the typed layer over them. Every operation checks the
// span sizes against the map first, so a wrong size is an ArgumentException that names both
// sizes instead of a kernel EINVAL or, worse, a read past the end of a buffer.
public sealed partial class Map
{
    /// <summary>Copies the value stored under <paramref name="key"/> into <paramref name="value"/>.</summary>
    /// <param name="key"><see cref="KeySize"/> bytes (empty for queues and stacks: peek).</param>
    /// <param name="value"><see cref="ValueBufferSize"/> bytes. For array and hash of maps the value read is the inner map id, for program arrays the program id.</param>
    /// <param name="flags"><see cref="UpdateFlags.Lock"/> to copy under the value's spin lock; otherwise <see cref="UpdateFlags.Any"/>.</param>
    /// <exception cref="BpfException">The key is not in the map (ENOENT), or the kernel refused.</exception>
    public void Lookup(ReadOnlySpan<byte> key, Span<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        if (!TryLookup(key, value, flags))
        {
            throw ElementError(BpfCommand.MapLookupElem, Errno.ENOENT);
        }
    }

    /// <summary>Like <see cref="Lookup(ReadOnlySpan{byte}, Span{byte}, UpdateFlags)"/>, but returns false when the key is absent (or a queue/stack is empty).</summary>
    /// <param name="key"><see cref="KeySize"/> bytes.</param>
    /// <param name="value"><see cref="ValueBufferSize"/> bytes to receive the value.</param>
    /// <param name="flags"><see cref="UpdateFlags.Lock"/> or <see cref="UpdateFlags.Any"/>.</param>
    public unsafe bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* v = value)
        {
            return ElementCall(BpfCommand.MapLookupElem, key, v, (ulong)flags, allowMissing: true);
        }
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>.</summary>
    /// <param name="key"><see cref="KeySize"/> bytes (empty for queues, stacks and bloom filters: push/add).</param>
    /// <param name="value"><see cref="ValueBufferSize"/> bytes. For maps of maps and program arrays: the 4-byte descriptor of the map or program to store.</param>
    /// <param name="flags">Whether the key must exist or not, and whether to take the value's spin lock.</param>
    /// <exception cref="BpfException">EEXIST for <see cref="UpdateFlags.NoExist"/> on a present key, ENOENT for <see cref="UpdateFlags.Exist"/> on an absent one, E2BIG when full, EPERM when frozen.</exception>
    public unsafe void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* v = value)
        {
            ElementCall(BpfCommand.MapUpdateElem, key, v, (ulong)flags, allowMissing: false);
        }
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <exception cref="BpfException">The key is not in the map (ENOENT), or the map type does not delete (arrays: EINVAL).</exception>
    public void Delete(ReadOnlySpan<byte> key)
    {
        if (!TryDelete(key))
        {
            throw ElementError(BpfCommand.MapDeleteElem, Errno.ENOENT);
        }
    }

    /// <summary>Removes <paramref name="key"/>; returns false when it was not there.</summary>
    public unsafe bool TryDelete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        return ElementCall(BpfCommand.MapDeleteElem, key, null, 0, allowMissing: true);
    }

    /// <summary>
    /// Reads and removes the value under <paramref name="key"/> in one step; for queues and stacks
    /// (empty key) this pops the next element.
    /// </summary>
    /// <exception cref="BpfException">The key is absent or the queue is empty (ENOENT), or the map type does not support it.</exception>
    public void LookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        if (!TryLookupAndDelete(key, value, flags))
        {
            throw ElementError(BpfCommand.MapLookupAndDeleteElem, Errno.ENOENT);
        }
    }

    /// <summary>Like <see cref="LookupAndDelete"/>, but returns false when the key is absent or the queue/stack is empty.</summary>
    public unsafe bool TryLookupAndDelete(ReadOnlySpan<byte> key, Span<byte> value, UpdateFlags flags = UpdateFlags.Any)
    {
        CheckKey(key);
        CheckValue(value.Length, nameof(value));
        fixed (byte* v = value)
        {
            return ElementCall(BpfCommand.MapLookupAndDeleteElem, key, v, (ulong)flags, allowMissing: true);
        }
    }

    /// <summary>
    /// The key after <paramref name="key"/> in the map's own order (BPF_MAP_GET_NEXT_KEY), or the
    /// first key when <paramref name="key"/> is empty. Returns false after the last key. On hash
    /// maps and LPM tries a key that is no longer in the map makes the kernel start again from the
    /// first key; <see cref="Keys"/> and <see cref="CreateKeyCursor"/> handle that for you.
    /// </summary>
    /// <param name="key">The current key, or empty for the first.</param>
    /// <param name="nextKey"><see cref="KeySize"/> bytes to receive the next key.</param>
    public unsafe bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (!key.IsEmpty)
        {
            CheckKey(key);
        }
        CheckKey(nextKey, nameof(nextKey));
        using FileDescriptor.Lease lease = _fd.Borrow();
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            var attr = new MapElemAttr { MapFd = (uint)lease.Fd, Key = (ulong)k, ValueOrNextKey = (ulong)n };
            if (Bpf.TryCall(BpfCommand.MapGetNextKey, ref attr, out Errno errno) >= 0)
            {
                return true;
            }
            if (errno == Errno.ENOENT)
            {
                return false;
            }
            throw ElementError(BpfCommand.MapGetNextKey, errno);
        }
    }

    /// <summary>
    /// Makes the map read-only for user space from now on (BPF_MAP_FREEZE); programs can still
    /// write it unless it was created with <see cref="MapFlags.ReadOnlyProgram"/>. Updates from user
    /// space then fail with EPERM.
    /// </summary>
    public void Freeze()
    {
        using FileDescriptor.Lease lease = _fd.Borrow();
        var attr = new MapElemAttr { MapFd = (uint)lease.Fd };
        if (Bpf.TryCall(BpfCommand.MapFreeze, ref attr, out Errno errno) < 0)
        {
            throw ElementError(BpfCommand.MapFreeze, errno);
        }
    }

    /// <summary>The value stored under <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">The sizes of <typeparamref name="TKey"/> or <typeparamref name="TValue"/> do not match the map.</exception>
    /// <exception cref="BpfException">The key is not in the map (ENOENT).</exception>
    public TValue Lookup<TKey, TValue>(in TKey key, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        TValue value = default;
        CheckValueType<TValue>();
        Lookup(KeyBytes(in key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)), flags);
        return value;
    }

    /// <summary>Reads the value under <paramref name="key"/>; false when the key is absent.</summary>
    public bool TryLookup<TKey, TValue>(in TKey key, out TValue value, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        value = default;
        CheckValueType<TValue>();
        return TryLookup(KeyBytes(in key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)), flags);
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>.</summary>
    public void Update<TKey, TValue>(in TKey key, in TValue value, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        CheckValueType<TValue>();
        Update(KeyBytes(in key), MemoryMarshal.AsBytes(new ReadOnlySpan<TValue>(in value)), flags);
    }

    /// <summary>Removes <paramref name="key"/>.</summary>
    /// <exception cref="BpfException">The key is not in the map (ENOENT).</exception>
    public void Delete<TKey>(in TKey key) where TKey : unmanaged => Delete(KeyBytes(in key));

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public bool TryDelete<TKey>(in TKey key) where TKey : unmanaged => TryDelete(KeyBytes(in key));

    /// <summary>Reads and removes the value under <paramref name="key"/>; false when it was not there.</summary>
    public bool TryLookupAndDelete<TKey, TValue>(in TKey key, out TValue value, UpdateFlags flags = UpdateFlags.Any)
        where TKey : unmanaged where TValue : unmanaged
    {
        value = default;
        CheckValueType<TValue>();
        return TryLookupAndDelete(KeyBytes(in key), MemoryMarshal.AsBytes(new Span<TValue>(ref value)), flags);
    }

    internal ReadOnlySpan<byte> KeyBytes<TKey>(in TKey key) where TKey : unmanaged
    {
        CheckKeyType<TKey>();
        return MemoryMarshal.AsBytes(new ReadOnlySpan<TKey>(in key));
    }

    internal unsafe void CheckKeyType<TKey>() where TKey : unmanaged
    {
        if (sizeof(TKey) != KeySize)
        {
            throw new ArgumentException(
                $"The key type {typeof(TKey).Name} is {sizeof(TKey)} bytes, but {this} has {KeySize}-byte keys.", nameof(TKey));
        }
    }

    internal unsafe void CheckValueType<TValue>() where TValue : unmanaged
    {
        if (sizeof(TValue) == ValueBufferSize)
        {
            return;
        }
        string detail = IsPerCpu
            ? $"; per-CPU values take {ValueBufferSize} bytes ({Cpus.PossibleCount} possible CPUs x {PerCpuSlotSize(ValueSize)}-byte slots): use a per-CPU map view or a byte span"
            : "";
        throw new ArgumentException(
            $"The value type {typeof(TValue).Name} is {sizeof(TValue)} bytes, but {this} has {ValueSize}-byte values{detail}.", nameof(TValue));
    }

    internal void CheckKey(ReadOnlySpan<byte> key, string name = "key")
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException(
                KeySize == 0
                    ? $"{this} has no keys (key size 0); pass an empty key, not {key.Length} bytes."
                    : $"{this} has {KeySize}-byte keys; the {name} given has {key.Length} bytes.",
                name);
        }
    }

    internal void CheckValue(int length, string name)
    {
        if (length == ValueBufferSize)
        {
            return;
        }
        string detail = IsPerCpu
            ? $" ({Cpus.PossibleCount} possible CPUs x {PerCpuSlotSize(ValueSize)}-byte slots, for {ValueSize}-byte values)"
            : "";
        throw new ArgumentException($"{this} needs a {ValueBufferSize}-byte value buffer{detail}; the {name} given has {length} bytes.", name);
    }

    /// <summary>One element command; false for ENOENT when <paramref name="allowMissing"/>, otherwise throws.</summary>
    private unsafe bool ElementCall(BpfCommand command, ReadOnlySpan<byte> key, byte* value, ulong flags, bool allowMissing)
    {
        using FileDescriptor.Lease lease = _fd.Borrow();
        fixed (byte* k = key)
        {
            // A zero-length key (queue, stack, bloom filter) must reach the kernel as NULL.
            var attr = new MapElemAttr
            {
                MapFd = (uint)lease.Fd,
                Key = key.IsEmpty ? 0 : (ulong)k,
                ValueOrNextKey = (ulong)value,
                Flags = flags,
            };
            if (Bpf.TryCall(command, ref attr, out Errno errno) >= 0)
            {
                return true;
            }
            if (errno == Errno.ENOENT && allowMissing)
            {
                return false;
            }
            throw ElementError(command, errno, flags);
        }
    }

    internal BpfException ElementError(BpfCommand command, Errno errno, ulong flags = 0)
    {
        string action = command switch
        {
            BpfCommand.MapLookupElem => "looking up an element of",
            BpfCommand.MapUpdateElem => "updating an element of",
            BpfCommand.MapDeleteElem => "deleting an element of",
            BpfCommand.MapLookupAndDeleteElem => "looking up and deleting an element of",
            BpfCommand.MapGetNextKey => "reading the next key of",
            BpfCommand.MapFreeze => "freezing",
            _ => "using",
        };
        bool keyless = Type is MapType.Queue or MapType.Stack;
        string? hint = (command, errno) switch
        {
            (BpfCommand.MapLookupElem or BpfCommand.MapLookupAndDeleteElem, Errno.ENOENT) when keyless =>
                $"the {(Type == MapType.Queue ? "queue" : "stack")} is empty",
            (BpfCommand.MapLookupElem, Errno.ENOENT) when Type == MapType.BloomFilter =>
                "the value is definitely not in the bloom filter",
            (BpfCommand.MapUpdateElem, Errno.ENOENT) when (flags & (ulong)UpdateFlags.Exist) != 0 =>
                "the key is not in the map and the update asked for BPF_EXIST",
            (BpfCommand.MapUpdateElem, Errno.E2BIG) when keyless =>
                $"the {(Type == MapType.Queue ? "queue" : "stack")} is full; pop elements first, or update with UpdateFlags.Exist to overwrite the oldest",
            (BpfCommand.MapUpdateElem or BpfCommand.MapDeleteElem, Errno.EPERM) =>
                "the map is read-only for user space: it was frozen (BPF_MAP_FREEZE), created with BPF_F_RDONLY, or opened read-only",
            (BpfCommand.MapLookupElem or BpfCommand.MapLookupAndDeleteElem, Errno.EPERM) =>
                "the map is write-only for user space: it was created with BPF_F_WRONLY, or opened write-only",
            (BpfCommand.MapFreeze, Errno.EPERM) =>
                "the map is already frozen, or this descriptor may not write it (BPF_F_RDONLY or opened read-only)",
            (BpfCommand.MapFreeze, Errno.EBUSY) =>
                "user space holds a writable memory mapping of the map; unmap it first",
            (_, Errno.EINVAL) when (flags & (ulong)UpdateFlags.Lock) != 0 =>
                "BPF_F_LOCK needs a map whose value type (described by BTF) contains a struct bpf_spin_lock",
            (BpfCommand.MapDeleteElem, Errno.EINVAL) when IsArrayType(Type) =>
                $"{Type} map elements always exist and cannot be deleted; overwrite them instead",
            (_, Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP) when Type is MapType.RingBuf or MapType.UserRingBuf =>
                "ring buffer maps have no elements: read them with a ring buffer reader",
            (_, Errno.EINVAL or Errno.ENOTSUPP or Errno.EOPNOTSUPP) =>
                $"{Type} maps do not support {BpfCommands.Name(command)} from user space, or not with these flags",
            _ => Errors.CommandHint(command, errno),
        };
        return new BpfException(BpfCommands.Name(command), errno, $"{action} {this}", hint);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RoundUpTo8(int size) => (size + 7) & ~7;
}
