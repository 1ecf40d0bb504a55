using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Events;
using BpfSharp.Links;
using BpfSharp.Maps;

namespace BpfSharp.Cli.Tools.Execsnoop;

/// <summary><c>bpfsharp execsnoop</c>: every exec() on the machine, with its parent, user, result and arguments.</summary>
internal static class ExecsnoopCommand
{
    /// <summary>What execsnoop filters on; null/false means no filter.</summary>
    internal sealed record Filters(bool ShowFailed, uint? Uid, string? Name, int? Pid, int? Ppid, string? Cgroup)
    {
        /// <summary>True when <paramref name="e"/> passes the filters applied in user space (the name).</summary>
        internal bool Matches(ExecEvent e) => Name is null || e.Comm.Contains(Name, StringComparison.Ordinal);

        /// <summary>Writes the filters the BPF side applies into the object's .rodata, before it is loaded.</summary>
        internal void Apply(ref ExecsnoopBpf.RodataSection rodata)
        {
            rodata.ShowFailed = ShowFailed;
            rodata.FilterUid = Uid ?? uint.MaxValue;
            rodata.FilterPid = (uint)(Pid ?? 0);
            rodata.FilterPpid = (uint)(Ppid ?? 0);
            rodata.FilterCgroup = Cgroup is not null;
        }
    }

    internal static Command Create()
    {
        var fails = new Option<bool>("--fails", "-x") { Description = "Also show execs that failed (by default only successful ones)" };
        var uid = new Option<uint?>("--uid", "-u") { Description = "Only execs by this user id" };
        var name = new Option<string?>("--name", "-n") { Description = "Only execs whose new command name (comm) contains this text" };
        var pid = new Option<int?>("--pid", "-p") { Description = "Only execs by this process id" };
        var ppid = new Option<int?>("--ppid") { Description = "Only execs by children of this process id" };
        var cgroup = new Option<string?>("--cgroup", "-c") { Description = "Only execs by tasks in this cgroup v2 directory or below it" };
        Option<bool> json = ToolHost.JsonOption("each exec");
        Option<double?> duration = ToolHost.DurationOption();
        var command = new Command("execsnoop", "Trace every exec(): time, pid, ppid, uid, command, return value and arguments")
        {
            fails, uid, name, pid, ppid, cgroup, json, duration,
        };
        command.SetAction(parse =>
        {
            var filters = new Filters(parse.GetValue(fails), parse.GetValue(uid), parse.GetValue(name), parse.GetValue(pid), parse.GetValue(ppid), parse.GetValue(cgroup));
            return Run(filters, parse.GetValue(json), parse.GetValue(duration));
        });
        return command;
    }

    private static int Run(Filters filters, bool json, double? duration)
    {
        ToolHost.RequireTracing(("syscalls", "sys_enter_execve"), ("syscalls", "sys_exit_execve"), ("syscalls", "sys_enter_execveat"), ("syscalls", "sys_exit_execveat"));
        if (filters.Cgroup is string path && !Directory.Exists(path))
        {
            throw new ToolException($"--cgroup {path}: no such directory; give a cgroup v2 directory such as /sys/fs/cgroup/system.slice");
        }
        ExecsnoopBpf.Specification spec = ExecsnoopBpf.Open();
        filters.Apply(ref spec.Rodata);
        spec.Rodata.WakeupBytes = spec.Maps.Events.MaxEntries / 4;
        using ExecsnoopBpf execsnoop = ToolHost.Load("execsnoop", () => spec.Load());
        if (filters.Cgroup is string cgroupPath)
        {
            try
            {
                execsnoop.Maps.CgroupFilter.Set(0, cgroupPath);
            }
            catch (BpfException e)
            {
                throw new ToolException($"--cgroup {cgroupPath}: {e.Message}", e);
            }
        }
        // The BPF side wakes this reader only when a quarter of the ring is waiting; it drains every 100 ms besides.
        using var ring = new RingBuffer(execsnoop.Maps.Events) { MaxLatency = TimeSpan.FromMilliseconds(100) };
        using var until = new RunUntil(duration);
        using JsonLines? lines = json ? new JsonLines() : null;
        using LinkSet links = execsnoop.Attach();
        if (lines is null)
        {
            Console.WriteLine(ExecEvent.TableHeader);
        }
        ToolHost.AnnounceReady("exec() calls", duration);
        void Print(ReadOnlySpan<byte> record)
        {
            ExecEvent e = ExecEvent.Decode(record);
            if (!filters.Matches(e))
            {
                return;
            }
            if (lines is null)
            {
                Console.WriteLine(e.TableRow());
            }
            else
            {
                lines.Write(e.WriteJson);
            }
        }
        ring.Run(Print, until.Token);
        // Execs that finished before the programs were detached.
        links.Dispose();
        ring.Consume(Print);
        ReportLosses(execsnoop.Bss);
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Says on standard error how many execs went unreported, and why, when any did.</summary>
    private static void ReportLosses(in ExecsnoopBpf.BssSection counters)
    {
        ulong events = counters.LostEvents;
        ulong slots = counters.LostSlots;
        if (events > 0)
        {
            Console.Error.WriteLine($"execsnoop: {events} execs were not shown: the ring buffer was full (this terminal or pipe read too slowly).");
        }
        if (slots > 0)
        {
            Console.Error.WriteLine($"execsnoop: {slots} execs were not shown: more than 10240 execs were in progress at once.");
        }
    }
}
