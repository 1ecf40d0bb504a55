using BpfSharp.Kernel;

namespace BpfSharp.Tracing;

/// <summary>
/// The kernel's tracing file system: where static tracepoints are listed, with their ids
/// (needed to attach BPF programs) and the layout of the record each passes to a program.
/// </summary>
public sealed class Tracefs
{
    private static readonly Lock MountLock = new();
    private static Tracefs? _default;

    private Tracefs(string root)
    {
        Root = root;
    }

    /// <summary>The directory tracefs is mounted on, such as <c>/sys/kernel/tracing</c>.</summary>
    public string Root { get; }

    /// <summary>The events directory, one subdirectory per subsystem.</summary>
    public string EventsDirectory => Path.Combine(Root, "events");

    /// <summary>
    /// The tracefs of this machine: an existing mount (/sys/kernel/tracing, then the legacy
    /// /sys/kernel/debug/tracing), or, for root, a new mount at /sys/kernel/tracing.
    /// </summary>
    /// <exception cref="BpfException">tracefs is not mounted and cannot be mounted; the message says why.</exception>
    public static Tracefs Default
    {
        get
        {
            if (_default is { } found)
            {
                return found;
            }
            lock (MountLock)
            {
                return _default ??= Locate();
            }
        }
    }

    /// <summary>A tracefs mounted at a known directory (for tests and unusual layouts).</summary>
    public static Tracefs At(string root)
    {
        if (!Directory.Exists(Path.Combine(root, "events")))
        {
            throw new BpfException($"{root} is not a tracefs mount: it has no events directory");
        }
        return new Tracefs(root);
    }

    /// <summary>True when the tracepoint <paramref name="system"/>:<paramref name="name"/> exists.</summary>
    public bool EventExists(string system, string name) => File.Exists(EventFile(system, name, "id"));

    /// <summary>The tracepoint's id: the <c>config</c> of a PERF_TYPE_TRACEPOINT perf event.</summary>
    /// <exception cref="BpfException">No such tracepoint; the message suggests how to list them.</exception>
    public ulong EventId(string system, string name)
    {
        string path = EventFile(system, name, "id");
        try
        {
            return ulong.Parse(File.ReadAllText(path).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BpfException(NoSuchEvent(system, name), e);
        }
    }

    /// <summary>The record layout of a tracepoint, from its <c>format</c> file.</summary>
    public TraceEventFormat EventFormat(string system, string name)
    {
        string path = EventFile(system, name, "format");
        try
        {
            return TraceEventFormat.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BpfException(NoSuchEvent(system, name), e);
        }
    }

    /// <summary>Every tracepoint as (system, name), in the order of <c>available_events</c>.</summary>
    public IEnumerable<(string System, string Name)> Events()
    {
        string list = Path.Combine(Root, "available_events");
        if (File.Exists(list))
        {
            foreach (string line in File.ReadLines(list))
            {
                int colon = line.IndexOf(':');
                if (colon > 0)
                {
                    yield return (line[..colon], line[(colon + 1)..]);
                }
            }
            yield break;
        }
        foreach (string systemDirectory in Directory.EnumerateDirectories(EventsDirectory).Order(StringComparer.Ordinal))
        {
            foreach (string eventDirectory in Directory.EnumerateDirectories(systemDirectory).Order(StringComparer.Ordinal))
            {
                if (File.Exists(Path.Combine(eventDirectory, "id")))
                {
                    yield return (Path.GetFileName(systemDirectory), Path.GetFileName(eventDirectory));
                }
            }
        }
    }

    private string EventFile(string system, string name, string file)
    {
        ValidateComponent(system, nameof(system));
        ValidateComponent(name, nameof(name));
        return Path.Combine(EventsDirectory, system, name, file);
    }

    private static void ValidateComponent(string value, string parameter)
    {
        if (string.IsNullOrEmpty(value) || value.Contains('/') || value is "." or "..")
        {
            throw new ArgumentException($"'{value}' is not a tracepoint system or event name", parameter);
        }
    }

    private string NoSuchEvent(string system, string name)
    {
        string hint = Directory.Exists(Path.Combine(EventsDirectory, system))
            ? $"the {system} subsystem has no event '{name}'"
            : $"there is no tracepoint subsystem '{system}'";
        return $"tracepoint {system}:{name} does not exist in {EventsDirectory}: {hint}; list them with: ls {EventsDirectory}/{system}";
    }

    private static Tracefs Locate()
    {
        var mounts = FileSystems.MountPoints("tracefs").ToList();
        foreach (string preferred in new[] { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" })
        {
            if (mounts.Contains(preferred))
            {
                return new Tracefs(preferred);
            }
        }
        if (mounts.Count > 0)
        {
            return new Tracefs(mounts[0]);
        }
        if (!Errors.IsRoot)
        {
            throw new BpfException("tracefs is not mounted, and only root can mount it: run as root, or mount it with: mount -t tracefs tracefs /sys/kernel/tracing");
        }
        try
        {
            FileSystems.Mount("tracefs", "/sys/kernel/tracing");
        }
        catch (BpfException e)
        {
            throw new BpfException($"tracefs is not mounted and mounting it at /sys/kernel/tracing failed ({e.ErrnoName}); the kernel may lack CONFIG_TRACING", e);
        }
        return new Tracefs("/sys/kernel/tracing");
    }
}
