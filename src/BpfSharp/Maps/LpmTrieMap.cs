using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BpfSharp.Maps;

/// <summary>
/// A longest-prefix-match trie (<c>BPF_MAP_TYPE_LPM_TRIE</c>): keys are a prefix length in bits
/// and the data bytes (in network order for addresses); a lookup with a full-length key finds the
/// stored entry with the longest prefix that matches it.
/// </summary>
/// <typeparam name="TData">The key data: <see cref="IPv4Bytes"/>, <see cref="IPv6Bytes"/>, or any unmanaged struct of 1 to 256 bytes.</typeparam>
/// <typeparam name="TValue">The value.</typeparam>
public sealed class LpmTrieMap<TData, TValue> : KeyValueMap<LpmKey<TData>, TValue>
    where TData : unmanaged where TValue : unmanaged
{
    /// <summary>Wraps an existing LPM trie.</summary>
    public LpmTrieMap(Map map) : base(map, MapType.LpmTrie)
    {
    }

    /// <summary>Creates an LPM trie for <paramref name="maxEntries"/> prefixes (always with <see cref="MapFlags.NoPrealloc"/>, which the kernel requires).</summary>
    public static LpmTrieMap<TData, TValue> Create(uint maxEntries, string? name = null, MapFlags flags = MapFlags.None) =>
        new(Map.Create(Spec<LpmKey<TData>, TValue>(MapType.LpmTrie, maxEntries, name, flags | MapFlags.NoPrealloc)));

    /// <summary>The value of the longest stored prefix that contains <paramref name="data"/>; false when none does.</summary>
    public unsafe bool TryMatch(in TData data, out TValue value)
    {
        var key = new LpmKey<TData>((uint)sizeof(TData) * 8, data);
        return TryLookup(in key, out value);
    }
}

/// <summary>
/// An LPM trie key: a prefix length in bits followed by the data (<c>struct bpf_lpm_trie_key_u8</c>).
/// Packed, so the data always starts at byte 4 as the kernel expects.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly struct LpmKey<TData> : IEquatable<LpmKey<TData>> where TData : unmanaged
{
    /// <summary>Creates a key.</summary>
    public LpmKey(uint prefixLength, TData data)
    {
        PrefixLength = prefixLength;
        Data = data;
    }

    /// <summary>The number of leading data bits that count.</summary>
    public uint PrefixLength { get; }

    /// <summary>The data (address bytes in network order).</summary>
    public TData Data { get; }

    /// <inheritdoc />
    public bool Equals(LpmKey<TData> other) =>
        MemoryMarshal.AsBytes(new ReadOnlySpan<LpmKey<TData>>(in this)).SequenceEqual(MemoryMarshal.AsBytes(new ReadOnlySpan<LpmKey<TData>>(in other)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LpmKey<TData> other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(MemoryMarshal.AsBytes(new ReadOnlySpan<LpmKey<TData>>(in this)));
        return hash.ToHashCode();
    }

    /// <summary>Compares two keys byte for byte.</summary>
    public static bool operator ==(LpmKey<TData> left, LpmKey<TData> right) => left.Equals(right);

    /// <summary>Compares two keys byte for byte.</summary>
    public static bool operator !=(LpmKey<TData> left, LpmKey<TData> right) => !left.Equals(right);
}

/// <summary>Builds LPM trie keys for IP prefixes.</summary>
public static class LpmKey
{
    /// <summary>An IPv4 prefix key, such as 10.0.0.0/8.</summary>
    /// <exception cref="ArgumentException">The address is not IPv4, or the prefix length is over 32.</exception>
    public static LpmKey<IPv4Bytes> IPv4(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        IPv4Bytes bytes = default;
        address.TryWriteBytes(bytes, out _);
        return new LpmKey<IPv4Bytes>((uint)prefixLength, bytes);
    }

    /// <summary>An IPv6 prefix key, such as 2001:db8::/32.</summary>
    /// <exception cref="ArgumentException">The address is not IPv6, or the prefix length is over 128.</exception>
    public static LpmKey<IPv6Bytes> IPv6(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"{address} is not an IPv6 address.", nameof(address));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 128);
        IPv6Bytes bytes = default;
        address.TryWriteBytes(bytes, out _);
        return new LpmKey<IPv6Bytes>((uint)prefixLength, bytes);
    }
}

/// <summary>The 4 bytes of an IPv4 address in network order, as LPM trie key data.</summary>
[InlineArray(4)]
public struct IPv4Bytes
{
    private byte _first;

    /// <summary>The address these bytes hold.</summary>
    public readonly IPAddress ToIPAddress() => new(MemoryMarshal.CreateReadOnlySpan(in _first, 4));

    /// <summary>The bytes of <paramref name="address"/>, which must be IPv4.</summary>
    public static IPv4Bytes From(IPAddress address) => LpmKey.IPv4(address, 32).Data;
}

/// <summary>The 16 bytes of an IPv6 address in network order, as LPM trie key data.</summary>
[InlineArray(16)]
public struct IPv6Bytes
{
    private byte _first;

    /// <summary>The address these bytes hold.</summary>
    public readonly IPAddress ToIPAddress() => new(MemoryMarshal.CreateReadOnlySpan(in _first, 16));

    /// <summary>The bytes of <paramref name="address"/>, which must be IPv6.</summary>
    public static IPv6Bytes From(IPAddress address) => LpmKey.IPv6(address, 128).Data;
}
