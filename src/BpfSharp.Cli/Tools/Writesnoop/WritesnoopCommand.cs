using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BpfSharp.Cli.Output;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Tracing;

namespace BpfSharp.Cli.Tools.Writesnoop;

/// <summary>Where writesnoop hooks in (--mode).</summary>
internal enum WriteHook
{
    /// <summary>Try fentry, then kprobe, then the syscall tracepoints; the first that loads and attaches wins.</summary>
    Auto,

    /// <summary>fexit on vfs_write: a BPF trampoline, the cheapest; sees the struct file but not the descriptor.</summary>
    Fentry,

    /// <summary>kprobe and kretprobe on vfs_write.</summary>
    Kprobe,

    /// <summary>syscalls:sys_enter/exit_write, pwrite64 and writev, resolving the descriptor to its struct file.</summary>
    Tracepoint,
}

/// <summary>
/// <c>bpfsharp writesnoop</c>: every write with the file it went to (the seed notes' vfs_write trace), or with
/// --top the files written most.
/// </summary>
internal static class WritesnoopCommand
{
    private const string Tool = "writesnoop";
    private const int PollMilliseconds = 100;

    /// <summary>The programs of each hook, from the object's specification.</summary>
    internal static IReadOnlyList<ProgramSpec> ProgramsOf(WriteHook hook, WritesnoopBpf.ProgramSpecSet programs) => hook switch
    {
        WriteHook.Fentry => [programs.VfsWriteFexit],
        WriteHook.Kprobe => [programs.VfsWriteKprobe, programs.VfsWriteKretprobe],
        WriteHook.Tracepoint => [programs.TpEnterWrite, programs.TpExitWrite, programs.TpEnterPwrite64, programs.TpExitPwrite64, programs.TpEnterWritev, programs.TpExitWritev],
        _ => throw new ArgumentOutOfRangeException(nameof(hook)),
    };

    /// <summary>The hooks to try, in order, for a --mode value.</summary>
    internal static IReadOnlyList<WriteHook> Candidates(WriteHook mode) =>
        mode == WriteHook.Auto ? [WriteHook.Fentry, WriteHook.Kprobe, WriteHook.Tracepoint] : [mode];

    internal static string Describe(WriteHook hook) => hook switch
    {
        WriteHook.Fentry => "fexit on vfs_write",
        WriteHook.Kprobe => "kprobe/kretprobe on vfs_write",
        WriteHook.Tracepoint => "tracepoints syscalls:sys_enter/exit_write, pwrite64, writev",
        _ => hook.ToString(),
    };

    internal static Command Create()
    {
        var pid = new Option<int?>("--pid", "-p") { Description = "Only writes by this process (thread group id)" };
        var name = new Option<string?>("--name", "-n") { Description = "Only writes by processes with this command name (comm, up to 15 characters)" };
        var minBytes = new Option<ulong>("--min-bytes") { Description = "Only writes asking for at least this many bytes" };
        var pathPrefix = new Option<string?>("--path-prefix") { Description = "Only files whose path starts with this prefix (checked on the path the tool rebuilds)" };
        var file = new Option<string?>("--file", "-f") { Description = "Only this file (matched by device and inode in the kernel)" };
        var top = new Option<int?>("--top") { Description = "Instead of every write, print the N files with the most bytes written at exit (summed in the kernel)" };
        var mode = new Option<WriteHook>("--mode", "-m") { Description = "Where to hook: auto (fentry, then kprobe, then tracepoints), fentry, kprobe or tracepoint", DefaultValueFactory = _ => WriteHook.Auto };
        var json = ToolHost.JsonOption("writes (or, with --top, files)");
        var duration = ToolHost.DurationOption();
        var command = new Command(Tool, "Trace writes: process, descriptor, bytes and the file written (inode, type, path)")
        {
            pid, name, minBytes, pathPrefix, file, top, mode, json, duration,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(top) is int n && n <= 0)
            {
                result.AddError("--top needs a positive number of files");
            }
            if (result.GetValue(name) is string comm && Encoding.UTF8.GetByteCount(comm) > 15)
            {
                result.AddError($"--name '{comm}' is longer than a command name can be (15 bytes)");
            }
        });
        command.SetAction(parse =>
        {
            var options = new WritesnoopOptions
            {
                Pid = parse.GetValue(pid),
                Name = parse.GetValue(name),
                MinBytes = parse.GetValue(minBytes),
                PathPrefix = parse.GetValue(pathPrefix),
                File = parse.GetValue(file),
                Top = parse.GetValue(top),
                Mode = parse.GetValue(mode),
                Json = parse.GetValue(json),
                Duration = parse.GetValue(duration),
            };
            return Run(options);
        });
        return command;
    }

    private static int Run(WritesnoopOptions options)
    {
        ToolHost.RequireTracing();
        FileIdentity? target = null;
        if (options.File is string path)
        {
            try
            {
                target = FileIdentity.Of(path);
            }
            catch (BpfException e)
            {
                throw new ToolException($"--file {path}: {e.Message}");
            }
        }

        (WritesnoopBpf writesnoop, LinkSet links, WriteHook hook) = LoadAndAttach(options, target);
        using (writesnoop)
        using (links)
        using (var until = new RunUntil(options.Duration))
        {
            Console.Error.WriteLine($"{Tool}: using {Describe(hook)}");
            using var printer = new WritePrinter(options);
            if (options.Top is int n)
            {
                ToolHost.AnnounceReady("writes (summing per file)", options.Duration);
                until.Token.WaitHandle.WaitOne();
                printer.PrintTop(writesnoop.Maps.Totals, n);
                printer.Flush();
                ReportLost(writesnoop.Maps.Lost, $"the per-file map was full ({writesnoop.Maps.Totals.Map.MaxEntries} files)");
                return 0;
            }
            using var ring = new RingBuffer(writesnoop.Maps.Events);
            ToolHost.AnnounceReady("writes", options.Duration);
            printer.WriteHeader();
            printer.Flush();
            // Poll rather than Run: standard output is flushed once per batch of records, not once per line,
            // which is what lets the frontend keep up with a busy writer.
            RecordHandler<WritesnoopBpf.Event> handler = printer.OnRecord;
            while (!until.Token.IsCancellationRequested)
            {
                ring.Poll(handler, PollMilliseconds);
                printer.Flush();
            }
            ring.Consume(handler); // what arrived before the stop
            printer.Flush();
            ReportLost(writesnoop.Maps.Lost, "the ring buffer was full; narrow the filters (--pid, --name, --file, --min-bytes) or use --top");
            return 0;
        }
    }

    /// <summary>Says on standard error how many writes the BPF side saw but could not report (summed over CPUs).</summary>
    private static void ReportLost(PerCpuArrayMap<ulong> lost, string why)
    {
        ulong total = LostCount(lost);
        if (total > 0)
        {
            Console.Error.WriteLine($"{Tool}: {total} writes were not reported: {why}.");
        }
    }

    /// <summary>The <c>lost</c> counter, summed over CPUs.</summary>
    internal static ulong LostCount(PerCpuArrayMap<ulong> lost)
    {
        ulong total = 0;
        foreach (ulong count in lost.Lookup(0))
        {
            total += count;
        }
        return total;
    }

    /// <summary>
    /// Loads and attaches the first hook that works, saying on standard error why each earlier one did not. With a
    /// forced --mode the kernel's refusal is the error.
    /// </summary>
    private static (WritesnoopBpf, LinkSet, WriteHook) LoadAndAttach(WritesnoopOptions options, FileIdentity? target)
    {
        IReadOnlyList<WriteHook> candidates = Candidates(options.Mode);
        var reasons = new List<string>();
        foreach (WriteHook hook in candidates)
        {
            if (hook == WriteHook.Tracepoint)
            {
                ToolHost.RequireTracing(("syscalls", "sys_enter_write"), ("syscalls", "sys_exit_write"));
            }
            WritesnoopBpf.Specification spec = Configure(WritesnoopBpf.Open(), options, target, hook);
            WritesnoopBpf? writesnoop = null;
            try
            {
                writesnoop = spec.Load();
                LinkSet links = writesnoop.Attach();
                return (writesnoop, links, hook);
            }
            catch (BpfException e)
            {
                writesnoop?.Dispose();
                string reason = $"{Describe(hook)} is not available here: {e.Message}";
                if (candidates.Count == 1)
                {
                    throw new ToolException($"{Tool} --mode {hook.ToString().ToLowerInvariant()}: {reason}", e);
                }
                reasons.Add(reason);
                Console.Error.WriteLine($"{Tool}: {reason}; trying the next way in.");
            }
        }
        throw new ToolException($"{Tool} found no way to trace writes on this kernel: {string.Join("; ", reasons)}");
    }

    /// <summary>Sets the filters in the object's .rodata and turns on only the programs of <paramref name="hook"/>.</summary>
    internal static WritesnoopBpf.Specification Configure(WritesnoopBpf.Specification spec, WritesnoopOptions options, FileIdentity? target, WriteHook hook)
    {
        IReadOnlyList<ProgramSpec> wanted = ProgramsOf(hook, spec.Programs);
        Tracefs? tracefs = hook == WriteHook.Tracepoint ? Tracefs.Default : null;
        foreach (ProgramSpec program in spec.Collection.Programs.Values)
        {
            program.Autoload = wanted.Contains(program);
            // pwrite64 and writev are extras: a kernel without their tracepoints still traces write().
            string? section = program.SectionName;
            if (program.Autoload && tracefs is not null && section is not null && section.StartsWith("tracepoint/", StringComparison.Ordinal))
            {
                string[] parts = section.Split('/');
                program.Autoload = parts.Length == 3 && tracefs.EventExists(parts[1], parts[2]);
            }
        }
        ref WritesnoopBpf.RodataSection rodata = ref spec.Rodata;
        rodata.SelfTgid = (uint)Environment.ProcessId;
        if (options.Pid is int pid)
        {
            rodata.TargetTgid = (uint)pid;
        }
        if (options.Name is string name)
        {
            Span<byte> comm = rodata.TargetComm;
            comm.Clear();
            Encoding.UTF8.GetBytes(name, comm[..15]);
            rodata.FilterComm = true;
        }
        rodata.MinBytes = options.MinBytes;
        if (target is FileIdentity file)
        {
            rodata.TargetIno = file.Inode;
            rodata.TargetDev = file.KernelDevice;
        }
        rodata.TopMode = options.Top is not null;
        rodata.WakeupBytes = spec.Maps.Events.MaxEntries / 4;
        return spec;
    }
}

/// <summary>What a writesnoop run was asked for.</summary>
internal sealed record WritesnoopOptions
{
    internal int? Pid { get; init; }
    internal string? Name { get; init; }
    internal ulong MinBytes { get; init; }
    internal string? PathPrefix { get; init; }
    internal string? File { get; init; }
    internal int? Top { get; init; }
    internal WriteHook Mode { get; init; }
    internal bool Json { get; init; }
    internal double? Duration { get; init; }
}

/// <summary>Prints writes as a table or JSON lines, and the --top summary.</summary>
internal sealed class WritePrinter : IDisposable
{
    private readonly WritesnoopOptions _options;
    private readonly JsonLines? _json;
    private readonly TextWriter _out;
    private readonly bool _ownsOut;
    private readonly long _monotonicToUnixNs;

    internal WritePrinter(WritesnoopOptions options, TextWriter? output = null)
    {
        _options = options;
        _ownsOut = output is null;
        _out = output ?? ToolHost.BufferedStandardOutput();
        _json = options.Json && output is null ? new JsonLines() : null;
        // bpf_ktime_get_ns is CLOCK_MONOTONIC, which is what Stopwatch reads on Linux.
        long monotonicNs = (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
        _monotonicToUnixNs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 - monotonicNs;
    }

    internal const string Header = "TIME          PID     COMM             FD  OP        REQUESTED   BYTES  TYPE  DEV     INODE      PATH";

    internal void WriteHeader()
    {
        if (_json is null)
        {
            _out.WriteLine(Header);
        }
    }

    internal bool PathWanted(string path) => _options.PathPrefix is not string prefix || path.StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>Handles one record of the ring buffer: writesnoop.bpf.c's <c>struct event</c>, read in place.</summary>
    internal void OnRecord(in WritesnoopBpf.Event record)
    {
        ref readonly WritesnoopBpf.FileInfo file = ref record.File;
        string path = FileInfoText.Path(file);
        if (!PathWanted(path))
        {
            return;
        }
        var e = new WriteEvent(
            DateTimeOffset.FromUnixTimeMilliseconds(((long)record.TsNs + _monotonicToUnixNs) / 1_000_000).ToLocalTime(),
            record.Pid, record.Tid, record.Comm.ToString(), record.Fd, OperationName((WriteOperation)record.Op), record.Requested, record.Ret,
            FileInfoText.Type(file), FileInfoText.Device(file), file.Ino, path, FileInfoText.Truncated(file));
        if (_json is not null)
        {
            _json.Write(e.WriteJson);
            return;
        }
        _out.WriteLine(e.FormatLine());
    }

    internal static string OperationName(WriteOperation op) => op switch
    {
        WriteOperation.Write => "write",
        WriteOperation.Pwrite64 => "pwrite64",
        WriteOperation.Writev => "writev",
        WriteOperation.VfsWrite => "vfs_write",
        _ => ((uint)op).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Reads the per-file totals the BPF side summed and prints the <paramref name="count"/> largest by bytes written.</summary>
    internal void PrintTop(HashMap<WritesnoopBpf.FileKey, WritesnoopBpf.FileTotal> totals, int count)
    {
        var files = new List<FileTotal>();
        foreach (KeyValuePair<WritesnoopBpf.FileKey, WritesnoopBpf.FileTotal> entry in totals.Entries)
        {
            files.Add(FileTotal.From(entry.Value));
        }
        WriteTop(files, count);
    }

    internal void WriteTop(IEnumerable<FileTotal> files, int count)
    {
        List<FileTotal> top = files.Where(f => PathWanted(f.Path))
            .OrderByDescending(f => f.Bytes).ThenByDescending(f => f.Writes).ThenBy(f => f.Path, StringComparer.Ordinal)
            .Take(count).ToList();
        if (_json is not null)
        {
            foreach (FileTotal f in top)
            {
                _json.Write(w =>
                {
                    w.WriteNumber("bytes", f.Bytes);
                    w.WriteNumber("writes", f.Writes);
                    w.WriteNumber("requested", f.Requested);
                    w.WriteNumber("pid", f.Pid);
                    w.WriteString("comm", f.Comm);
                    w.WriteString("type", f.Type);
                    w.WriteString("dev", f.Device);
                    w.WriteNumber("inode", f.Inode);
                    w.WriteString("path", f.Path);
                    w.WriteBoolean("truncated", f.Truncated);
                });
            }
            return;
        }
        var table = new TextTable(">BYTES", ">WRITES", ">PID", "COMM", "TYPE", "DEV", ">INODE", "PATH");
        foreach (FileTotal f in top)
        {
            table.Add(f.Bytes, f.Writes, f.Pid, f.Comm, f.Type, f.Device, f.Inode, f.Path);
        }
        table.Write(_out);
    }

    /// <summary>Writes what the table has buffered to standard output.</summary>
    internal void Flush() => _out.Flush();

    public void Dispose()
    {
        _json?.Dispose();
        _out.Flush();
        if (_ownsOut)
        {
            _out.Dispose();
        }
    }
}

/// <summary>One write, decoded for printing.</summary>
internal readonly record struct WriteEvent(DateTimeOffset Time, uint Pid, uint Tid, string Comm, int Fd, string Operation, ulong Requested, long Returned,
    string Type, string Device, ulong Inode, string Path, bool Truncated)
{
    /// <summary>A table row, in the columns of <see cref="WritePrinter.Header"/>.</summary>
    internal string FormatLine() => string.Create(CultureInfo.InvariantCulture,
        $"{Time:HH:mm:ss.fff}  {Pid,-7} {Comm,-16} {(Fd < 0 ? "-" : Fd.ToString(CultureInfo.InvariantCulture)),3}  {Operation,-8} {Requested,10} {Returned,7}  {Type,-5} {Device,-7} {Inode,-10} {Path}");

    /// <summary>The JSON object's properties: time, pid, tid, comm, fd (null when the hook cannot know it), op, requested, bytes, type, dev, inode, path, truncated.</summary>
    internal void WriteJson(Utf8JsonWriter w)
    {
        w.WriteString("time", Time.ToString("O", CultureInfo.InvariantCulture));
        w.WriteNumber("pid", Pid);
        w.WriteNumber("tid", Tid);
        w.WriteString("comm", Comm);
        if (Fd >= 0)
        {
            w.WriteNumber("fd", Fd);
        }
        else
        {
            w.WriteNull("fd");
        }
        w.WriteString("op", Operation);
        w.WriteNumber("requested", Requested);
        w.WriteNumber("bytes", Returned);
        w.WriteString("type", Type);
        w.WriteString("dev", Device);
        w.WriteNumber("inode", Inode);
        w.WriteString("path", Path);
        w.WriteBoolean("truncated", Truncated);
    }
}
