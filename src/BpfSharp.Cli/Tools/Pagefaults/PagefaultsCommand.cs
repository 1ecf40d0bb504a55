using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BpfSharp.Cli.Output;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Symbols;
using BpfSharp.Tracing;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>
/// <c>bpfsharp pagefaults</c>: the memory-access frequency of a workload, from its page faults (tracepoint
/// exceptions:page_fault_user): per page, per mapping and over time, for a running process (--pid) or a command it
/// starts and traces from its first instruction until it exits.
/// </summary>
internal static class PagefaultsCommand
{
    private const string Tool = "pagefaults";

    internal static Command Create()
    {
        var pid = new Option<int?>("--pid", "-p") { Description = "Trace this process (all its threads) until it exits, Ctrl-C or --duration" };
        var top = new Option<int>("--top") { Description = "Regions in the table and the live view (0: all)", DefaultValueFactory = _ => 10 };
        var heatmap = new Option<string?>("--heatmap") { Description = "Draw address against time, coloured by fault count, into this PNG file" };
        var heatmapSize = new Option<string>("--heatmap-size") { Description = "The heatmap's size in pixels, WIDTHxHEIGHT", DefaultValueFactory = _ => $"{HeatmapImage.DefaultWidth}x{HeatmapImage.DefaultHeight}" };
        var bufferMb = new Option<int>("--buffer-mb") { Description = "Ring buffer size in MiB (a power of two): room for faults while the tool catches up", DefaultValueFactory = _ => 16 };
        var noForks = new Option<bool>("--no-follow-forks") { Description = "Do not trace processes the traced ones fork" };
        var json = ToolHost.JsonOption("the summary");
        json.Description = "At exit, print the summary as one JSON object instead of the table (no live view)";
        var duration = ToolHost.DurationOption();
        var command = new Argument<string[]>("command") { Description = "A command to start and trace until it exits (after --)", Arity = ArgumentArity.ZeroOrMore };
        var root = new Command(Tool, "Page faults of a process or command: per mapping and page, over time, with an optional heatmap")
        {
            pid, top, heatmap, heatmapSize, bufferMb, noForks, json, duration, command,
        };
        root.SetAction(parse => Run(new PagefaultsOptions(
            parse.GetValue(pid), parse.GetValue(command) ?? [], parse.GetValue(top), parse.GetValue(heatmap),
            ParseSize(parse.GetValue(heatmapSize)!), parse.GetValue(bufferMb), !parse.GetValue(noForks),
            parse.GetValue(json), parse.GetValue(duration))));
        return root;
    }

    /// <summary>What was asked on the command line.</summary>
    internal sealed record PagefaultsOptions(int? Pid, string[] Command, int Top, string? Heatmap, (int Width, int Height) HeatmapSize,
        int BufferMb, bool FollowForks, bool Json, double? Duration);

    /// <summary>Parses WIDTHxHEIGHT.</summary>
    /// <exception cref="ToolException">Not a size, or too small for the labels.</exception>
    internal static (int Width, int Height) ParseSize(string text)
    {
        string[] parts = text.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int width)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int height))
        {
            throw new ToolException($"--heatmap-size '{text}' is not WIDTHxHEIGHT, such as 1200x800");
        }
        if (width < HeatmapImage.MinWidth || height < HeatmapImage.MinHeight || width > 16384 || height > 16384)
        {
            throw new ToolException($"--heatmap-size {width}x{height} is out of range: from {HeatmapImage.MinWidth}x{HeatmapImage.MinHeight} to 16384x16384");
        }
        return (width, height);
    }

    private static int Run(PagefaultsOptions options)
    {
        if (options.Pid is null == (options.Command.Length == 0))
        {
            throw new ToolException(options.Pid is null
                ? "nothing to trace: give --pid PID, or a command after --, as in: bpfsharp pagefaults -- ./app args"
                : "give either --pid or a command, not both");
        }
        if (options.BufferMb < 1 || options.BufferMb > 1024 || (options.BufferMb & (options.BufferMb - 1)) != 0)
        {
            throw new ToolException($"--buffer-mb {options.BufferMb} must be a power of two from 1 to 1024");
        }
        RequireFaultTracepoint();
        ToolHost.RequireTracing(("sched", "sched_process_exec"));
        if (options.Heatmap is not null)
        {
            HeatmapImage.EnsureAvailable();
        }
        if (options.Pid is int existing && !ProcessControl.IsAlive(existing))
        {
            throw new ToolException($"no process {existing} (or it already exited)");
        }

        PagefaultsBpf.Specification spec = PagefaultsBpf.Open();
        spec.Maps.Events.MaxEntries = (uint)options.BufferMb << 20;
        spec.Rodata.FollowForks = options.FollowForks;
        spec.Rodata.WakeupBytes = (ulong)options.BufferMb << 17; // an eighth of the ring
        using TracedCommand? started = options.Command.Length > 0 ? TracedCommand.StartStopped(options.Command) : null;
        int target = started?.Pid ?? options.Pid!.Value;
        using PagefaultsBpf pagefaults = ToolHost.Load(Tool, () => spec.Load());
        pagefaults.Maps.Traced.Update((uint)target, started is null ? TraceState.Traced : TraceState.WaitingForExec);
        using LinkSet links = options.FollowForks ? pagefaults.Attach()
            : pagefaults.Attach(pagefaults.Programs.PageFaultUser, pagefaults.Programs.SchedProcessExec);
        using var ring = new RingBuffer(pagefaults.Maps.Events);
        var session = new Session(new FaultProfile(MonotonicNowNs(), options.Heatmap is not null, Environment.SystemPageSize), target);
        if (started is null)
        {
            session.RefreshMaps();
        }

        using var until = new RunUntil(options.Duration);
        string what = started is null
            ? $"page faults of process {target}"
            : $"page faults of '{string.Join(' ', options.Command)}' (pid {target}) while it runs, or";
        ToolHost.AnnounceReady(what, options.Duration);
        started?.Resume();

        bool live = !options.Json && !Console.IsOutputRedirected;
        var sink = new RecordSink(session);
        long nextTick = Environment.TickCount64 + 1000;
        while (!until.Token.IsCancellationRequested)
        {
            // The BPF side wakes this reader only when the ring fills up (a wakeup per fault is costly): drain on a timer too.
            if (ring.Poll(ref sink, session.MapsDirty ? Session.RefreshIntervalMs : 100) == 0)
            {
                ring.Consume(ref sink);
            }
            session.RefreshMapsIfDirty();
            bool ended = started?.HasExited ?? !ProcessControl.IsAlive(target);
            if (ended)
            {
                break;
            }
            if (Environment.TickCount64 >= nextTick)
            {
                nextTick = Environment.TickCount64 + 1000;
                session.RefreshMaps();
                if (live)
                {
                    DrawLiveView(session, options.Top);
                }
            }
        }
        ring.Consume(ref sink); // what the target did right before it exited
        links.Dispose();
        ring.Consume(ref sink);

        ulong lostFaults = pagefaults.Bss.LostFaults;
        ulong lostRegions = pagefaults.Bss.LostRegions;
        FaultProfile profile = session.Profile;
        List<RegionSummary> regions = profile.Summarize();
        double seconds = (MonotonicNowNs() - profile.StartNs) / 1e9;
        if (options.Json)
        {
            using var lines = new JsonLines();
            lines.Write(w => PagefaultsReport.WriteJson(w, profile.Total.Faults, regions));
        }
        else
        {
            if (live)
            {
                Console.Write("\x1b[H\x1b[J");
            }
            Console.WriteLine(PagefaultsReport.Headline(profile, regions.Count, seconds));
            PagefaultsReport.WriteTable(Console.Out, regions, options.Top);
        }
        if (lostFaults > 0 || lostRegions > 0)
        {
            Console.Error.WriteLine($"pagefaults: {lostFaults} faults and {lostRegions} mapping reports were lost because the ring buffer was full; raise --buffer-mb (now {options.BufferMb})");
        }
        if (options.Heatmap is string heatmapPath)
        {
            (int width, int height) = options.HeatmapSize;
            HeatmapLayout layout = HeatmapLayout.Build(profile, HeatmapImage.MaxRows(height), HeatmapImage.MaxColumns(width));
            HeatmapImage.Write(heatmapPath, layout, width, height, $"Page faults of {(started is null ? $"process {target}" : Path.GetFileName(options.Command[0]))}: {profile.Total.Faults} faults on {profile.PageCount} pages");
            Console.Error.WriteLine($"pagefaults: heatmap written to {heatmapPath} ({width}x{height}, {layout.RowCount} address rows x {layout.ColumnCount} time columns of {layout.SecondsPerColumn * 1000:0.###} ms)");
        }
        if (started is not null && started.HasExited)
        {
            started.WaitForExit(-1);
            if (started.ExitCode != 0)
            {
                Console.Error.WriteLine($"pagefaults: the command exited with status {started.ExitCode}");
            }
            return started.ExitCode;
        }
        return 0;
    }

    /// <summary>exceptions:page_fault_user must exist and have the record layout pagefaults.bpf.c reads.</summary>
    private static void RequireFaultTracepoint()
    {
        ToolHost.RequireTracing();
        Tracefs tracefs;
        try
        {
            tracefs = Tracefs.Default;
        }
        catch (BpfException e)
        {
            throw new ToolException($"tracefs, where the kernel lists its tracepoints, is not available: {e.Message}. Mount it with: mount -t tracefs tracefs /sys/kernel/tracing");
        }
        if (!tracefs.EventExists("exceptions", "page_fault_user"))
        {
            throw new ToolException("this kernel has no tracepoint exceptions:page_fault_user, which pagefaults attaches to: the kernel defines it on x86 only"
                + (RuntimeInformation.OSArchitecture is Architecture.X64 or Architecture.X86 ? "" : $" (this machine is {RuntimeInformation.OSArchitecture})")
                + ". Elsewhere it would need a hook with the fault address, such as a kprobe on handle_mm_fault or the page-faults software perf event with PERF_SAMPLE_ADDR");
        }
        TraceEventFormat format = tracefs.EventFormat("exceptions", "page_fault_user");
        foreach ((string field, int offset) in new[] { ("address", 8), ("error_code", 24) })
        {
            if (format.Field(field) is not { Size: 8 } found || found.Offset != offset)
            {
                throw new ToolException($"exceptions:page_fault_user has an unexpected layout here (field {field} is not 8 bytes at offset {offset}); pagefaults.bpf.c reads that layout");
            }
        }
    }

    private static void DrawLiveView(Session session, int top)
    {
        List<RegionSummary> regions = session.Profile.Summarize();
        var text = new StringWriter();
        text.Write("\x1b[H\x1b[J");
        text.WriteLine(PagefaultsReport.Headline(session.Profile, regions.Count, (MonotonicNowNs() - session.Profile.StartNs) / 1e9));
        PagefaultsReport.WriteTable(text, regions, top == 0 ? 20 : top);
        Console.Write(text.ToString());
        Console.Out.Flush();
    }

    /// <summary>CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns (and of Stopwatch on Linux).</summary>
    private static ulong MonotonicNowNs()
    {
        long ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == 1_000_000_000 ? (ulong)ticks : (ulong)(ticks * (1e9 / Stopwatch.Frequency));
    }

    /// <summary>The tool's state while it runs: the profile, and which processes' maps need reading.</summary>
    private sealed class Session(FaultProfile profile, int target)
    {
        private readonly HashSet<int> _processes = [target];
        private long? _lastRead;

        /// <summary>
        /// The shortest time between two reads of /proc/PID/maps on demand: soon enough to catch the libraries of a
        /// process that lives a few milliseconds, rare enough (a read costs ~0.1 ms) that a process mapping memory in
        /// a loop does not keep the tool busy.
        /// </summary>
        internal const int RefreshIntervalMs = 5;

        internal FaultProfile Profile { get; } = profile;

        /// <summary>A fault fell outside the known mappings, or a process exec'd: read /proc/PID/maps soon.</summary>
        internal bool MapsDirty { get; set; }

        internal void Seen(int tgid)
        {
            if (!_processes.Contains(tgid))
            {
                _processes.Add(tgid);
                MapsDirty = true;
            }
        }

        internal void RefreshMapsIfDirty()
        {
            if (MapsDirty && (_lastRead is not long last || Environment.TickCount64 - last >= RefreshIntervalMs))
            {
                RefreshMaps();
            }
        }

        internal void RefreshMaps()
        {
            MapsDirty = false;
            _lastRead = Environment.TickCount64;
            foreach (int pid in _processes)
            {
                try
                {
                    Profile.AddRegions(pid, ProcessMaps.Read(pid));
                }
                catch (Exception e) when (e is BpfException or IOException)
                {
                    // Exited (no /proc/PID), or exiting while read (ESRCH from the read itself): the mappings seen
                    // so far, and those the BPF side reported, stay.
                }
            }
        }
    }

    /// <summary>Decodes the ring buffer's records in place; allocates nothing per fault.</summary>
    private readonly struct RecordSink(Session session) : IRecordHandler
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void OnRecord(ReadOnlySpan<byte> record)
        {
            if (record.Length < sizeof(uint))
            {
                return;
            }
            switch ((FaultRecordKind)MemoryMarshal.Read<uint>(record))
            {
                case FaultRecordKind.Fault when record.Length >= Unsafe.SizeOf<PagefaultsBpf.FaultRecord>():
                    ref readonly PagefaultsBpf.FaultRecord fault = ref MemoryMarshal.AsRef<PagefaultsBpf.FaultRecord>(record);
                    session.Profile.AddFault((int)fault.Tgid, fault.Address, fault.TimeNs, fault.ErrorCode);
                    if (!session.MapsDirty && !session.Profile.IsMapped((int)fault.Tgid, fault.Address))
                    {
                        session.Seen((int)fault.Tgid);
                        session.MapsDirty = true;
                    }
                    break;
                case FaultRecordKind.Region when record.Length >= Unsafe.SizeOf<PagefaultsBpf.RegionRecord>():
                    ref readonly PagefaultsBpf.RegionRecord region = ref MemoryMarshal.AsRef<PagefaultsBpf.RegionRecord>(record);
                    session.Seen((int)region.Tgid);
                    session.Profile.AddRegion((int)region.Tgid, region.Start, region.End, region.Inode, region.Name.ToString());
                    session.MapsDirty = true; // /proc/PID/maps has the full path (and the kernel's names), if the process still runs
                    break;
                case FaultRecordKind.Exec when record.Length >= Unsafe.SizeOf<PagefaultsBpf.ExecRecord>():
                    session.Seen((int)MemoryMarshal.AsRef<PagefaultsBpf.ExecRecord>(record).Tgid);
                    session.MapsDirty = true;
                    break;
            }
        }
    }
}
