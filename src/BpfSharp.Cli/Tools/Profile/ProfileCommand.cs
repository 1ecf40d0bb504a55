using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using BpfSharp.Cli.Output;
using BpfSharp.Cli.Tools.Pagefaults;
using BpfSharp.Kernel;
using BpfSharp.Links;
using BpfSharp.Maps;

using StackKey = BpfSharp.Cli.Tools.ProfileBpf.StackKey;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>
/// <c>bpfsharp profile</c>: a sampling CPU profiler. A cpu-clock perf event on every CPU samples the running task's
/// kernel and user stacks N times a second; at the end the counted stacks are symbolized and shown as a table, as
/// folded lines for flamegraph.pl, as JSON lines, or drawn as an SVG flame graph.
/// </summary>
internal static class ProfileCommand
{
    private const string Tool = "profile";

    /// <summary>What was asked on the command line.</summary>
    internal sealed record ProfileOptions(ulong Frequency, int? Pid, string[] Command, bool UserOnly, bool KernelOnly, bool IncludeIdle,
        bool Folded, string? Svg, bool Json, int Top, double? Duration);

    internal static Command Create()
    {
        var frequency = new Option<ulong>("--frequency", "-F") { Description = "Samples per second on each CPU", DefaultValueFactory = _ => 99 };
        var pid = new Option<int?>("--pid", "-p") { Description = "Profile only this process (all its threads)" };
        var userOnly = new Option<bool>("--user-only", "-U") { Description = "Only user-space stacks (no kernel frames; kernel threads are not sampled)" };
        var kernelOnly = new Option<bool>("--kernel-only", "-K") { Description = "Only kernel stacks (samples of CPUs running user code are dropped)" };
        var idle = new Option<bool>("--include-idle", "-I") { Description = "Also count the idle task (pid 0) of idle CPUs" };
        var folded = new Option<bool>("--folded", "-f") { Description = "Print folded stacks, 'comm;outer;...;inner count', the input of flamegraph.pl" };
        var svg = new Option<string?>("--svg") { Description = "Also write a flame graph of the stacks into this SVG file" };
        var top = new Option<int>("--top", "-T") { Description = "Stacks in the table (0: all)", DefaultValueFactory = _ => 10 };
        Option<bool> json = ToolHost.JsonOption("each stack (pid, comm, count, frames outer to inner)");
        Option<double?> duration = ToolHost.DurationOption();
        var command = new Argument<string[]>("command") { Description = "A command to start and profile until it exits (after --)", Arity = ArgumentArity.ZeroOrMore };
        var root = new Command(Tool, "Sample CPU stacks at a frequency; print the busiest, folded stacks, JSON, or an SVG flame graph")
        {
            frequency, pid, userOnly, kernelOnly, idle, folded, svg, top, json, duration, command,
        };
        root.Validators.Add(result =>
        {
            if (result.GetValue(userOnly) && result.GetValue(kernelOnly))
            {
                result.AddError("--user-only and --kernel-only exclude each other: without either, both are sampled");
            }
            if (result.GetValue(folded) && result.GetValue(json))
            {
                result.AddError("--folded and --json exclude each other");
            }
            if (result.GetValue(top) < 0)
            {
                result.AddError("--top must be 0 (all stacks) or more");
            }
            if (result.GetValue(pid) is not null && (result.GetValue(command)?.Length ?? 0) > 0)
            {
                result.AddError("give either --pid or a command, not both");
            }
        });
        root.SetAction(parse => Run(new ProfileOptions(parse.GetValue(frequency), parse.GetValue(pid), parse.GetValue(command) ?? [],
            parse.GetValue(userOnly), parse.GetValue(kernelOnly), parse.GetValue(idle), parse.GetValue(folded), parse.GetValue(svg),
            parse.GetValue(json), parse.GetValue(top), parse.GetValue(duration))));
        return root;
    }

    private static int Run(ProfileOptions options)
    {
        // (Checked here: a command validator does not see option defaults.)
        if (options.Frequency is 0 or > 100_000)
        {
            throw new ToolException($"--frequency {options.Frequency} must be from 1 to 100000 samples per second");
        }
        ToolHost.RequireTracing();
        if (options.Pid is int existing && (existing <= 0 || !ProcessControl.IsAlive(existing)))
        {
            throw new ToolException($"no process {existing} (or it already exited)");
        }
        ProfileBpf.Specification spec = ProfileBpf.Open();
        spec.Rodata.UserStacks = !options.KernelOnly;
        spec.Rodata.KernelStacks = !options.UserOnly;
        spec.Rodata.IncludeIdle = options.IncludeIdle;
        using TracedCommand? started = options.Command.Length > 0 ? TracedCommand.StartStopped(options.Command) : null;
        int? target = started?.Pid ?? options.Pid;
        spec.Rodata.FilterPid = (uint)(target ?? 0);
        using ProfileBpf profile = ToolHost.Load(Tool, () => spec.Load());
        HashMap<StackKey, ulong> counts = profile.Maps.Counts;
        var resolver = new StackResolver(profile.Maps.Stacks);

        var links = AttachSampler(profile.Programs.ProfileSample, options.Frequency);
        var clock = Stopwatch.StartNew();
        using var until = new RunUntil(options.Duration);
        try
        {
            string what = target is null ? "stacks of all processes"
                : started is null ? $"stacks of process {target}"
                : $"stacks of '{string.Join(' ', options.Command)}' (pid {target}) while it runs, or";
            ToolHost.AnnounceReady(string.Create(CultureInfo.InvariantCulture, $"{what} at {options.Frequency} Hz"), options.Duration);
            started?.Resume();
            // Look at the sampled processes twice a second, so that each one's mappings are read while it is alive.
            while (!until.Token.WaitHandle.WaitOne(started is null ? 500 : 100))
            {
                ObserveProcesses(counts, resolver);
                if (started?.HasExited ?? (target is int p && !ProcessControl.IsAlive(p)))
                {
                    break;
                }
            }
        }
        finally
        {
            foreach (PerfEventSampleLink link in links)
            {
                link.Dispose();
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // Detached: the counts are final. Processes still alive are read again (they may have loaded libraries).
        var entries = counts.Entries.ToList();
        foreach (KeyValuePair<StackKey, ulong> entry in entries)
        {
            resolver.Observe(entry.Key.Pid, entry.Key.Comm.ToString());
        }
        resolver.Refresh();
        List<ProfileStack> stacks = ProfileStack.Merge(entries.Select(e => resolver.Resolve(e.Key, e.Value)));

        using (StreamWriter output = ToolHost.BufferedStandardOutput())
        {
            if (options.Folded)
            {
                FoldedStacks.Write(output, stacks);
            }
            else if (!options.Json)
            {
                output.WriteLine(ProfileReport.Headline(stacks, options.Frequency, seconds));
                ProfileReport.WriteTable(output, stacks, options.Top);
            }
            output.Flush();
        }
        if (options.Json)
        {
            using var lines = new JsonLines();
            foreach (ProfileStack stack in stacks)
            {
                lines.Write(w => ProfileReport.WriteJson(w, stack));
            }
        }
        if (options.Svg is string svgPath)
        {
            string subject = started is not null ? Path.GetFileName(options.Command[0]) : target is int p ? $"process {p}" : "all processes";
            string title = string.Create(CultureInfo.InvariantCulture, $"CPU flame graph of {subject}: {ProfileReport.Total(stacks)} samples at {options.Frequency} Hz in {seconds:0.0} s");
            try
            {
                using var file = new StreamWriter(svgPath, false, new System.Text.UTF8Encoding(false));
                FlameGraphSvg.Write(file, stacks, title);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ToolException($"cannot write the flame graph to {svgPath}: {e.Message}");
            }
            Console.Error.WriteLine($"profile: flame graph written to {svgPath}");
        }
        ulong lostStacks = profile.Bss.LostStacks;
        ulong lostSamples = profile.Bss.LostSamples;
        if (lostStacks > 0 || lostSamples > 0)
        {
            Console.Error.WriteLine($"profile: {lostStacks} stacks could not be stored (the stack map was full or a bucket collided) and {lostSamples} samples were not counted (the counts map was full); profile for less time or at a lower --frequency");
        }
        if (started is not null && started.HasExited)
        {
            started.WaitForExit(-1);
            if (started.ExitCode != 0)
            {
                Console.Error.WriteLine($"profile: the command exited with status {started.ExitCode}");
            }
            return started.ExitCode;
        }
        return 0;
    }

    /// <summary>One cpu-clock sampler per online CPU, explaining a kernel without (software) perf events.</summary>
    private static IReadOnlyList<PerfEventSampleLink> AttachSampler(BpfSharp.Programs.Program program, ulong frequency)
    {
        try
        {
            return PerfEventSampleLink.AttachAllCpus(program, PerfCounterType.Software, PerfCounters.CpuClock, SampleRate.Frequency(frequency));
        }
        catch (BpfException e)
        {
            string hint = e.Errno == Errno.ENOENT || e.Errno == Errno.EOPNOTSUPP
                ? "this kernel has no cpu-clock perf event (CONFIG_PERF_EVENTS is off?)"
                : e.Errno == Errno.EINVAL
                    ? $"the kernel refused {frequency} Hz: it must not exceed kernel.perf_event_max_sample_rate ({ReadSysctl("/proc/sys/kernel/perf_event_max_sample_rate")})"
                    : "perf events are not available to this process";
            throw new ToolException($"profile cannot open its cpu-clock sampling events: {e.Message}; {hint}", e);
        }
    }

    private static string ReadSysctl(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Reads the keys counted so far and snapshots the mappings of processes not seen before.</summary>
    private static void ObserveProcesses(HashMap<StackKey, ulong> counts, StackResolver resolver)
    {
        foreach (StackKey key in counts.Keys)
        {
            resolver.Observe(key.Pid, key.Comm.ToString());
        }
    }
}
