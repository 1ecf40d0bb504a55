using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace BpfSharp.Symbols;

/// <summary>
/// Finds shared libraries the way the dynamic loader would (for uprobes and USDT on
/// <c>libc.so.6</c> and friends): a path with a slash is taken as is; a bare name is looked up in
/// /etc/ld.so.cache for this architecture, then in the standard library directories; for a
/// process, the library it actually mapped (through /proc/PID/root, which also covers containers).
/// </summary>
public static class SharedLibraries
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Cache = new(() => ReadLoaderCache("/etc/ld.so.cache"));

    /// <summary>The full path of a library or executable.</summary>
    /// <param name="nameOrPath">A path (<c>/usr/bin/bash</c>, <c>./app</c>) or a library name (<c>libc.so.6</c>).</param>
    /// <param name="pid">When given, prefer the file that process has mapped.</param>
    /// <exception cref="BpfException">Nothing by that name can be found; the message says where it looked.</exception>
    public static string Resolve(string nameOrPath, int? pid = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        if (pid is int processId && FindMapped(nameOrPath, processId) is { } mapped)
        {
            return mapped;
        }
        if (nameOrPath.Contains('/'))
        {
            string full = Path.GetFullPath(nameOrPath);
            return File.Exists(full) ? full : throw new BpfException(Path.IsPathRooted(nameOrPath)
                ? $"'{nameOrPath}' does not exist"
                : $"'{nameOrPath}' does not exist: a relative path is resolved against the working directory ({full}); give a full path or run from the directory it is relative to");
        }
        if (Cache.Value.TryGetValue(nameOrPath, out string? cached) && File.Exists(cached))
        {
            return cached;
        }
        foreach (string directory in StandardDirectories())
        {
            string candidate = Path.Combine(directory, nameOrPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        // An executable on PATH ("bash") is also a fine uprobe target.
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, nameOrPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new BpfException($"cannot find '{nameOrPath}': not in /etc/ld.so.cache, the standard library directories ({string.Join(", ", StandardDirectories())}) or PATH; give a full path");
    }

    /// <summary>Parses an ld.so.cache file (the glibc "glibc-ld.so.cache1.1" format, alone or after the old one) into name → path for this architecture.</summary>
    public static IReadOnlyDictionary<string, string> ReadLoaderCache(string path)
    {
        try
        {
            return ParseLoaderCache(File.ReadAllBytes(path));
        }
        catch (IOException)
        {
            return new Dictionary<string, string>();
        }
    }

    internal static Dictionary<string, string> ParseLoaderCache(ReadOnlySpan<byte> data)
    {
        var libraries = new Dictionary<string, string>(StringComparer.Ordinal);
        ReadOnlySpan<byte> newMagic = "glibc-ld.so.cache1.1"u8;
        ReadOnlySpan<byte> oldMagic = "ld.so-1.7.0"u8;
        int start = 0;
        if (data.StartsWith(oldMagic))
        {
            // Old header: magic (11 bytes, padded to 12), nlibs, then 12-byte entries; the new
            // format follows, 8-byte aligned.
            if (data.Length < 16)
            {
                return libraries;
            }
            uint oldCount = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
            long after = 16L + oldCount * 12L;
            start = (int)Math.Min(data.Length, (after + 7) & ~7L);
        }
        ReadOnlySpan<byte> cache = data[start..];
        const int HeaderSize = 48, EntrySize = 24;
        if (!cache.StartsWith(newMagic) || cache.Length < HeaderSize)
        {
            return libraries;
        }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(cache[20..]);
        if ((long)count * EntrySize + HeaderSize > cache.Length)
        {
            return libraries; // corrupt: claims more entries than the file holds
        }
        int wantedArchitecture = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 0x0300,
            Architecture.Arm64 => 0x0a00,
            _ => -1,
        };
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = cache.Slice(HeaderSize + i * EntrySize, EntrySize);
            int flags = BinaryPrimitives.ReadInt32LittleEndian(entry);
            uint key = BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            if ((flags & 0xff) != 0x03 || wantedArchitecture >= 0 && (flags & 0xf00) != wantedArchitecture)
            {
                continue; // not an ELF libc6 library of this architecture
            }
            string? name = ReadString(cache, key), file = ReadString(cache, value);
            if (name is not null && file is not null)
            {
                libraries.TryAdd(name, file); // the cache lists preferred entries first
            }
        }
        return libraries;
    }

    private static string? ReadString(ReadOnlySpan<byte> cache, uint offset)
    {
        if (offset >= cache.Length)
        {
            return null;
        }
        ReadOnlySpan<byte> tail = cache[(int)offset..];
        int end = tail.IndexOf((byte)0);
        return end < 0 ? null : Encoding.UTF8.GetString(tail[..end]);
    }

    private static string? FindMapped(string nameOrPath, int pid)
    {
        ProcessMaps maps = ProcessMaps.Read(pid);
        string fileName = Path.GetFileName(nameOrPath);
        foreach (MemoryRegion region in maps.Regions)
        {
            if (region.Kind != MemoryRegionKind.File)
            {
                continue;
            }
            bool same = nameOrPath.Contains('/')
                ? region.Path == nameOrPath
                : Path.GetFileName(region.Path) == fileName || Path.GetFileName(region.Path).StartsWith(fileName + ".", StringComparison.Ordinal);
            if (same)
            {
                // Seen through the process's root, so a library inside a container resolves too.
                string throughRoot = $"/proc/{pid}/root{region.Path}";
                return File.Exists(throughRoot) ? throughRoot : region.Path;
            }
        }
        return null;
    }

    private static IEnumerable<string> StandardDirectories()
    {
        string multiarch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
        return [$"/lib/{multiarch}", $"/usr/lib/{multiarch}", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
    }
}
