using System.CommandLine;
using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Specs;
using BpfSharp.Tracing;

namespace BpfSharp.Cli.Tools;

/// <summary>
/// What every tracing tool shares: its common options, the checks that say exactly why it cannot run here, loading
/// its BPF half (through the skeleton the build generates from <c>Tools/NAME/NAME.bpf.c</c>), and the line that
/// tells a user, and the tests, that tracing has started. Tools use the library's public API only, as a user would.
/// </summary>
internal static class ToolHost
{
    /// <summary>The prefix of the line written to standard error once a tool's programs are attached (tests wait for it).</summary>
    internal const string ReadyPrefix = "Tracing";

    /// <summary>--json: one JSON object per line instead of the table.</summary>
    internal static Option<bool> JsonOption(string what) => new("--json") { Description = $"Print {what} as one JSON object per line instead of a table" };

    /// <summary>--duration SECONDS: stop by itself instead of at Ctrl-C.</summary>
    internal static Option<double?> DurationOption() => new("--duration", "-d") { Description = "Stop after this many seconds (default: run until Ctrl-C)" };

    /// <summary>
    /// Fails with the reason when this process cannot trace: not privileged enough, no tracefs, or a tracepoint the
    /// tool needs is missing from this kernel.
    /// </summary>
    /// <param name="tracepoints">The tracepoints (<c>system</c>, <c>name</c>) the tool attaches to.</param>
    /// <exception cref="ToolException">Tracing cannot work here; the message says why and what to do.</exception>
    internal static void RequireTracing(params (string System, string Name)[] tracepoints)
    {
        if (Privileges.WhyCannotTrace() is string why)
        {
            throw new ToolException(why);
        }
        if (tracepoints.Length == 0)
        {
            return;
        }
        Tracefs tracefs;
        try
        {
            tracefs = Tracefs.Default;
        }
        catch (BpfException e)
        {
            throw new ToolException($"tracefs, where the kernel lists its tracepoints, is not available: {e.Message}. Mount it with: mount -t tracefs tracefs /sys/kernel/tracing");
        }
        foreach ((string system, string name) in tracepoints)
        {
            if (!tracefs.EventExists(system, name))
            {
                throw new ToolException($"this kernel has no tracepoint {system}:{name} (no {Path.Combine(tracefs.EventsDirectory, system, name)}), which this tool attaches to"
                    + (system == "syscalls" ? "; syscall tracepoints need CONFIG_FTRACE_SYSCALLS" : ""));
            }
        }
    }

    /// <summary>Loads <paramref name="spec"/>, explaining a failure in terms of the tool rather than the loader.</summary>
    /// <exception cref="ToolException">Loading failed; the message names the tool and the kernel's reason.</exception>
    internal static Collection Load(string tool, CollectionSpec spec, CollectionOptions? options = null) => Load(tool, () => Collection.Load(spec, options));

    /// <summary>Runs <paramref name="load"/> (a skeleton's <c>Load</c>), explaining a failure in terms of the tool rather than the loader.</summary>
    /// <exception cref="ToolException">Loading failed; the message names the tool and the kernel's reason.</exception>
    internal static T Load<T>(string tool, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (BpfException e)
        {
            throw new ToolException($"{tool} cannot load its BPF programs: {e.Message}", e);
        }
    }

    /// <summary>
    /// Standard output behind a 64 KiB buffer that the tool flushes once per batch of records: a flush per line makes
    /// a busy tool spend its time in write(2) and fall behind its ring buffer.
    /// </summary>
    internal static StreamWriter BufferedStandardOutput() =>
        new(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16) { AutoFlush = false };

    /// <summary>Tells the user (on standard error, so data on standard output stays clean) that tracing has started.</summary>
    /// <param name="what">What is traced: <c>exec() calls</c>.</param>
    /// <param name="duration">The --duration value, if any.</param>
    internal static void AnnounceReady(string what, double? duration)
    {
        string until = duration is > 0 ? $"for {duration.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)} s or until Ctrl-C" : "until Ctrl-C";
        Console.Error.WriteLine($"{ReadyPrefix} {what} {until}.");
        Console.Error.Flush();
    }
}

/// <summary>A tool cannot do what was asked; the message is the whole explanation, printed without a stack trace.</summary>
internal sealed class ToolException(string message, Exception? inner = null) : Exception(message, inner);
