using System.Globalization;

namespace BpfSharp.Events;

/// <summary>
/// One line of the kernel trace buffer, as <c>trace_pipe</c> prints it: who emitted it, where and
/// when, and what. BPF programs write such lines with <c>bpf_printk</c> / <c>bpf_trace_printk</c>.
/// </summary>
/// <param name="Task">The command name of the task that was running (<c>&lt;idle&gt;</c>, <c>&lt;...&gt;</c> when unknown).</param>
/// <param name="Pid">The thread id of that task.</param>
/// <param name="Tgid">The process id, when the record-tgid trace option is on; else null.</param>
/// <param name="Cpu">The CPU the line was written on.</param>
/// <param name="Flags">The irq/preemption context flags column (such as <c>d.h2.</c>), empty when the irq-info option is off.</param>
/// <param name="Timestamp">Seconds since boot (the trace clock), as printed.</param>
/// <param name="Event">The event that wrote the line: <c>bpf_trace_printk</c> for BPF programs.</param>
/// <param name="Message">The text after the event name.</param>
public sealed record TraceLine(string Task, int Pid, int? Tgid, int Cpu, string Flags, double Timestamp, string Event, string Message)
{
    /// <summary>True when a BPF program wrote the line.</summary>
    public bool IsBpfPrintk => Event is "bpf_trace_printk" or "bpf_trace";

    /// <summary>
    /// Parses a trace line such as
    /// <c>"   bash-1234    [001] d..31  1234.567890: bpf_trace_printk: hello"</c>.
    /// Returns null for lines that are not records (headers, comments, lost-event notes).
    /// </summary>
    public static TraceLine? TryParse(string line)
    {
        // The CPU column "[NNN]" anchors the parse: the task name before it may contain spaces and
        // dashes (the pid follows the last dash), the message after the timestamp anything.
        int open = FindCpuColumn(line);
        if (open < 0)
        {
            return null;
        }
        int close = line.IndexOf(']', open);
        if (!int.TryParse(line.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int cpu))
        {
            return null;
        }

        ReadOnlySpan<char> head = line.AsSpan(0, open).Trim();
        int? tgid = null;
        if (head.EndsWith(")"))
        {
            // record-tgid: "task-123   (  120)"
            int paren = head.LastIndexOf('(');
            if (paren > 0 && int.TryParse(head[(paren + 1)..^1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int parsedTgid))
            {
                tgid = parsedTgid;
            }
            else if (paren > 0 && head[(paren + 1)..^1].Trim().SequenceEqual("-------"))
            {
                tgid = null;
            }
            head = paren > 0 ? head[..paren].Trim() : head;
        }
        int dash = head.LastIndexOf('-');
        if (dash <= 0 || !int.TryParse(head[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return null;
        }
        string task = head[..dash].ToString();

        ReadOnlySpan<char> rest = line.AsSpan(close + 1).TrimStart();
        // Optional flags column, then "SECONDS.MICROS:".
        string flags = "";
        int space = rest.IndexOf(' ');
        if (space > 0 && !rest[..space].EndsWith(":"))
        {
            flags = rest[..space].ToString();
            rest = rest[space..].TrimStart();
        }
        int colon = rest.IndexOf(':');
        if (colon <= 0 || !double.TryParse(rest[..colon], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double timestamp))
        {
            return null;
        }
        rest = rest[(colon + 1)..].TrimStart();
        string eventName = "";
        int eventEnd = rest.IndexOf(": ");
        if (eventEnd > 0 && !rest[..eventEnd].Contains(' '))
        {
            eventName = rest[..eventEnd].ToString();
            rest = rest[(eventEnd + 2)..];
        }
        return new TraceLine(task, pid, tgid, cpu, flags, timestamp, eventName, rest.TrimEnd('\n').ToString());
    }

    private static int FindCpuColumn(string line)
    {
        for (int i = line.IndexOf('['); i >= 0; i = line.IndexOf('[', i + 1))
        {
            int close = line.IndexOf(']', i);
            if (close > i + 1 && line.AsSpan(i + 1, close - i - 1).ContainsAnyExcept("0123456789") is false)
            {
                return i;
            }
        }
        return -1;
    }
}
