using BpfSharp.Tracing;

namespace BpfSharp.Links;

/// <summary>
/// A kprobe or uprobe created through tracefs (<c>kprobe_events</c>, <c>uprobe_events</c>): the
/// legacy way, for kernels without the kprobe/uprobe PMUs. The event gets a name unique to this
/// process and is removed when the attachment is disposed.
/// </summary>
internal sealed class TracefsProbeEvent
{
    private static int _counter;

    private TracefsProbeEvent(Tracefs tracefs, string kind, string group, string name)
    {
        Tracefs = tracefs;
        Kind = kind;
        Group = group;
        Name = name;
    }

    internal Tracefs Tracefs { get; }

    /// <summary><c>kprobe</c> or <c>uprobe</c>.</summary>
    internal string Kind { get; }

    internal string Group { get; }

    internal string Name { get; }

    /// <summary>The tracepoint id of the created event.</summary>
    internal ulong EventId => Tracefs.EventId(Group, Name);

    /// <summary>True when tracefs has a <c>kprobe_events</c> or <c>uprobe_events</c> file.</summary>
    internal static bool Available(string kind)
    {
        try
        {
            return File.Exists(Path.Combine(Tracefs.Default.Root, $"{kind}_events"));
        }
        catch (BpfException)
        {
            return false;
        }
    }

    /// <summary>Creates a probe event; <paramref name="location"/> is <c>FUNC+OFFSET</c> or <c>PATH:0xOFFSET</c>.</summary>
    internal static TracefsProbeEvent Create(string kind, bool isReturn, string location, ulong referenceCounterOffset = 0)
    {
        Tracefs tracefs = Tracefs.Default;
        string group = kind == "kprobe" ? "kprobes" : "uprobes";
        string name = $"bpfsharp_{Environment.ProcessId}_{Interlocked.Increment(ref _counter)}";
        string target = referenceCounterOffset != 0 ? $"{location}(0x{referenceCounterOffset:x})" : location;
        string definition = $"{(isReturn ? 'r' : 'p')}:{group}/{name} {target}";
        string file = Path.Combine(tracefs.Root, $"{kind}_events");
        try
        {
            File.AppendAllText(file, definition + "\n");
        }
        catch (IOException e)
        {
            throw new BpfException($"creating the {kind} event '{definition}' in {file} failed: {e.Message}; check that the {(kind == "kprobe" ? "function exists in /proc/kallsyms and is not blacklisted" : "file and offset are right")}", e);
        }
        return new TracefsProbeEvent(tracefs, kind, group, name);
    }

    /// <summary>Removes the event (best effort: it fails only if someone else still uses it).</summary>
    internal void Remove()
    {
        try
        {
            File.AppendAllText(Path.Combine(Tracefs.Root, $"{Kind}_events"), $"-:{Group}/{Name}\n");
        }
        catch (IOException)
        {
            // The event stays listed until its last user closes it; nothing more can be done here.
        }
    }
}
