using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BpfSharp.Kernel;

namespace BpfSharp.Cli.Tools.Execsnoop;

/// <summary>
/// One exec() as execsnoop.bpf.c reports it: the fixed fields of struct exec_event (the skeleton's
/// <see cref="ExecsnoopBpf.ExecEvent"/>) followed by only as many bytes of its argv strings, each NUL-terminated, as
/// the record says.
/// </summary>
internal sealed class ExecEvent
{
    /// <summary>Arguments kept per exec (ARGS_MAX in the BPF program).</summary>
    internal const int MaxArgs = 20;

    /// <summary>Bytes kept per argument, including its NUL (ARG_SIZE in the BPF program).</summary>
    internal const int MaxArgBytes = 128;

    /// <summary>Flag: argv had more than <see cref="MaxArgs"/> entries.</summary>
    internal const uint MoreArgsFlag = 1;

    /// <summary>Flag: reading an argv pointer or string faulted; the arguments stop there.</summary>
    internal const uint ArgFaultFlag = 2;

    internal required DateTime Time { get; init; }
    internal required int Pid { get; init; }
    internal required int Tid { get; init; }
    internal required int Ppid { get; init; }
    internal required uint Uid { get; init; }
    internal required int Ret { get; init; }
    internal required string Comm { get; init; }
    internal required string[] Args { get; init; }

    /// <summary>Bit i: argument i was longer than <see cref="MaxArgBytes"/> - 1 bytes and is cut.</summary>
    internal required uint TruncatedArgs { get; init; }

    /// <summary>argv had more than <see cref="MaxArgs"/> arguments; the rest are not shown.</summary>
    internal required bool MoreArgs { get; init; }

    /// <summary>An argv pointer or string could not be read (it faulted), so the arguments end early.</summary>
    internal required bool ArgsFaulted { get; init; }

    /// <summary>Anything is missing from <see cref="Args"/>: an argument cut, arguments dropped, or a read that faulted.</summary>
    internal bool Truncated => TruncatedArgs != 0 || MoreArgs || ArgsFaulted;

    /// <summary>Decodes a ring buffer record; its time is the kernel's, at the exec's return, in local time.</summary>
    /// <exception cref="InvalidDataException">The record is shorter than its header says.</exception>
    internal static ExecEvent Decode(ReadOnlySpan<byte> record)
    {
        // The record stops where the arguments do: copy it over a zeroed struct rather than overlay it.
        int headerSize = ArgsOffset;
        if (record.Length < headerSize)
        {
            throw new InvalidDataException($"an execsnoop record of {record.Length} bytes is shorter than its {headerSize}-byte header");
        }
        ExecsnoopBpf.ExecEvent e = default;
        Span<byte> target = MemoryMarshal.AsBytes(new Span<ExecsnoopBpf.ExecEvent>(ref e));
        record[..Math.Min(record.Length, target.Length)].CopyTo(target);
        if (e.ArgsSize > record.Length - headerSize)
        {
            throw new InvalidDataException($"an execsnoop record says it holds {e.ArgsSize} bytes of arguments but has {record.Length - headerSize}");
        }
        ReadOnlySpan<byte> argBytes = ((ReadOnlySpan<byte>)e.Args)[..(int)e.ArgsSize];
        var args = new string[Math.Min(e.ArgsCount, MaxArgs)];
        for (int i = 0; i < args.Length; i++)
        {
            int end = argBytes.IndexOf((byte)0);
            ReadOnlySpan<byte> arg = end < 0 ? argBytes : argBytes[..end];
            args[i] = Encoding.UTF8.GetString(arg);
            argBytes = end < 0 ? default : argBytes[(end + 1)..];
        }
        return new ExecEvent
        {
            Time = BootTime.WallClockOf(e.TimestampNs).LocalDateTime,
            Pid = (int)e.Pid,
            Tid = (int)e.Tid,
            Ppid = (int)e.Ppid,
            Uid = e.Uid,
            Ret = e.Ret,
            Comm = e.Comm.ToString(),
            Args = args,
            TruncatedArgs = e.TruncatedArgs,
            MoreArgs = (e.Flags & MoreArgsFlag) != 0,
            ArgsFaulted = (e.Flags & ArgFaultFlag) != 0,
        };
    }

    /// <summary>Where the argv bytes start in a record: the size of struct exec_event's fixed fields (args is its last member).</summary>
    internal static int ArgsOffset => Unsafe.SizeOf<ExecsnoopBpf.ExecEvent>() - Unsafe.SizeOf<ExecsnoopBpf.CharArray2560>();

    /// <summary>The header line of the table.</summary>
    internal static string TableHeader => $"{"TIME",-8} {"PCOMM",-16} {"PID",7} {"PPID",7} {"UID",6} {"RET",4} ARGS";

    /// <summary>
    /// One table row. Arguments are joined by spaces as a shell would show them; a cut argument ends in "...", and
    /// a trailing " ..." stands for arguments beyond <see cref="MaxArgs"/> (or after one that could not be read).
    /// </summary>
    internal string TableRow()
    {
        var line = new StringBuilder(128);
        line.Append(CultureInfo.InvariantCulture, $"{Time:HH:mm:ss} {Comm,-16} {Pid,7} {Ppid,7} {Uid,6} {Ret,4} ");
        for (int i = 0; i < Args.Length; i++)
        {
            if (i > 0)
            {
                line.Append(' ');
            }
            line.Append(Args[i]);
            if ((TruncatedArgs & (1u << i)) != 0)
            {
                line.Append("...");
            }
        }
        if (MoreArgs || ArgsFaulted)
        {
            line.Append(Args.Length > 0 ? " ..." : "...");
        }
        return line.ToString();
    }

    /// <summary>
    /// The JSON object's properties: <c>time</c> (ISO 8601, local), <c>pid</c>, <c>ppid</c>, <c>uid</c>, <c>comm</c>,
    /// <c>ret</c>, <c>args</c> (args[0] first, as captured), then <c>tid</c>, <c>truncated</c> (anything missing from
    /// args), <c>truncated_args</c> (indexes of cut arguments), <c>more_args</c> and <c>args_fault</c>.
    /// </summary>
    internal void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteString("time", Time.ToString("O", CultureInfo.InvariantCulture));
        writer.WriteNumber("pid", Pid);
        writer.WriteNumber("ppid", Ppid);
        writer.WriteNumber("uid", Uid);
        writer.WriteString("comm", Comm);
        writer.WriteNumber("ret", Ret);
        writer.WriteStartArray("args");
        foreach (string arg in Args)
        {
            writer.WriteStringValue(arg);
        }
        writer.WriteEndArray();
        writer.WriteNumber("tid", Tid);
        writer.WriteBoolean("truncated", Truncated);
        writer.WriteStartArray("truncated_args");
        for (int i = 0; i < Args.Length; i++)
        {
            if ((TruncatedArgs & (1u << i)) != 0)
            {
                writer.WriteNumberValue(i);
            }
        }
        writer.WriteEndArray();
        writer.WriteBoolean("more_args", MoreArgs);
        writer.WriteBoolean("args_fault", ArgsFaulted);
    }
}
