using System.Globalization;
using System.IO.Compression;

namespace BpfSharp.Kernel;

/// <summary>
/// The running kernel's build configuration (CONFIG_* options): what <c>.kconfig</c> externs of a
/// BPF program read, and how BpfSharp tells a missing kernel feature from a refused one.
/// </summary>
public sealed class KernelConfig
{
    private static readonly Lazy<KernelConfig?> Running = new(LoadRunning);
    private readonly Dictionary<string, string> _values;

    private KernelConfig(Dictionary<string, string> values, string source)
    {
        _values = values;
        Source = source;
    }

    /// <summary>Where the configuration was read from.</summary>
    public string Source { get; }

    /// <summary>Every option that is set, by name (<c>CONFIG_BPF_SYSCALL</c>), with its raw value (<c>y</c>, <c>m</c>, <c>250</c>, <c>"text"</c>).</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>
    /// The running kernel's configuration, from /proc/config.gz or /boot/config-RELEASE; null when
    /// neither exists (the kernel was built without IKCONFIG_PROC and no config file was installed).
    /// </summary>
    public static KernelConfig? Current => Running.Value;

    /// <summary>The raw value of an option, or null when it is not set.</summary>
    public string? this[string name] => _values.GetValueOrDefault(Normalize(name));

    /// <summary>The tristate of an option: 'y', 'm', or 'n' when not set.</summary>
    public char Tristate(string name) => this[name] switch
    {
        "y" => 'y',
        "m" => 'm',
        _ => 'n',
    };

    /// <summary>True when an option is built in or a module.</summary>
    public bool IsEnabled(string name) => Tristate(name) is 'y' or 'm';

    /// <summary>A numeric option (decimal or 0x hex), or null.</summary>
    public long? Number(string name)
    {
        string? value = this[name];
        if (value is null)
        {
            return null;
        }
        return value.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.Parse(value.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number) ? number : null;
    }

    /// <summary>Parses the text of a kernel .config file.</summary>
    public static KernelConfig Parse(string text, string source = "text")
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.Trim();
            if (!line.StartsWith("CONFIG_", StringComparison.Ordinal))
            {
                continue; // comments, including "# CONFIG_X is not set"
            }
            int equals = line.IndexOf('=');
            if (equals > 0)
            {
                values[line[..equals]] = line[(equals + 1)..];
            }
        }
        return new KernelConfig(values, source);
    }

    /// <summary>Reads a .config file, gzip-compressed or plain.</summary>
    public static KernelConfig Load(string path)
    {
        using FileStream file = File.OpenRead(path);
        Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), path);
    }

    private static string Normalize(string name) => name.StartsWith("CONFIG_", StringComparison.Ordinal) ? name : "CONFIG_" + name;

    private static KernelConfig? LoadRunning()
    {
        foreach (string path in new[] { "/proc/config.gz", $"/boot/config-{KernelRelease.Current.Release}" })
        {
            try
            {
                if (File.Exists(path))
                {
                    return Load(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // An unreadable candidate is the same as a missing one; try the next.
            }
        }
        return null;
    }
}

/// <summary>The running kernel's release and version code (what LINUX_KERNEL_VERSION holds).</summary>
/// <param name="Release">The release string, as <c>uname -r</c> prints it.</param>
/// <param name="Major">The major version.</param>
/// <param name="Minor">The minor version.</param>
/// <param name="Patch">The patch level.</param>
public sealed record KernelRelease(string Release, int Major, int Minor, int Patch)
{
    private static readonly Lazy<KernelRelease> Running = new(() =>
        Parse(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()));

    /// <summary>The running kernel's release.</summary>
    public static KernelRelease Current => Running.Value;

    /// <summary>KERNEL_VERSION(major, minor, patch) with the patch capped at 255, as the kernel encodes it.</summary>
    public uint VersionCode => (uint)(Major << 16 | Minor << 8 | Math.Min(Patch, 255));

    /// <summary>Parses a release string such as <c>6.1.0-13-amd64</c> or <c>6.18.44-fc-v769</c>.</summary>
    public static KernelRelease Parse(string release)
    {
        int[] parts = [0, 0, 0];
        int index = 0, position = 0;
        while (index < 3 && position < release.Length)
        {
            int start = position;
            while (position < release.Length && char.IsAsciiDigit(release[position]))
            {
                position++;
            }
            if (position == start)
            {
                break;
            }
            parts[index++] = int.Parse(release.AsSpan(start, position - start), CultureInfo.InvariantCulture);
            if (position >= release.Length || release[position] != '.')
            {
                break;
            }
            position++;
        }
        if (index < 2)
        {
            throw new FormatException($"'{release}' is not a kernel release (expected MAJOR.MINOR[.PATCH]...)");
        }
        return new KernelRelease(release, parts[0], parts[1], parts[2]);
    }
}
