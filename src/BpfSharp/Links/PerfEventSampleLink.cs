using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>The perf counter a perf_event program samples on.</summary>
public enum PerfCounterType : uint
{
    /// <summary>Hardware events (PERF_TYPE_HARDWARE): CPU cycles, instructions, cache misses. Virtual machines usually have none.</summary>
    Hardware = 0,
    /// <summary>Software events (PERF_TYPE_SOFTWARE): cpu-clock, task-clock, page faults, context switches.</summary>
    Software = 1,
}

/// <summary>Well-known perf counters (the config of a <see cref="PerfCounterType"/>).</summary>
public static class PerfCounters
{
    /// <summary>PERF_COUNT_HW_CPU_CYCLES.</summary>
    public const ulong CpuCycles = 0;
    /// <summary>PERF_COUNT_HW_INSTRUCTIONS.</summary>
    public const ulong Instructions = 1;
    /// <summary>PERF_COUNT_SW_CPU_CLOCK.</summary>
    public const ulong CpuClock = 0;
    /// <summary>PERF_COUNT_SW_TASK_CLOCK.</summary>
    public const ulong TaskClock = 1;
    /// <summary>PERF_COUNT_SW_PAGE_FAULTS.</summary>
    public const ulong PageFaults = 2;
    /// <summary>PERF_COUNT_SW_CONTEXT_SWITCHES.</summary>
    public const ulong ContextSwitches = 3;
}

/// <summary>How often a perf counter runs its program: every N events, or N times a second.</summary>
/// <param name="Value">The period or frequency.</param>
/// <param name="IsFrequency">True for samples per second, false for one sample every <paramref name="Value"/> events.</param>
public readonly record struct SampleRate(ulong Value, bool IsFrequency)
{
    /// <summary>N samples per second (per CPU).</summary>
    public static SampleRate Frequency(ulong hertz) => new(hertz, true);

    /// <summary>One sample every N events.</summary>
    public static SampleRate Period(ulong events) => new(events, false);
}

/// <summary>
/// A perf_event program attached to a sampling perf counter on one CPU (or for one process);
/// <see cref="AttachAllCpus"/> gives one per online CPU, what profilers use.
/// </summary>
public sealed class PerfEventSampleLink : PerfEventLink
{
    private PerfEventSampleLink(FileDescriptor perfEvent, FileDescriptor? link, string description, ulong cookie, int cpu)
        : base(perfEvent, link, description, cookie, null)
    {
        Cpu = cpu;
    }

    /// <summary>The CPU sampled, or -1 for a per-process counter on any CPU.</summary>
    public int Cpu { get; }

    /// <summary>Attaches a perf_event program to a counter on one CPU (all processes) or for one process (any CPU).</summary>
    /// <param name="program">A perf_event program.</param>
    /// <param name="type">Hardware or software.</param>
    /// <param name="config">The counter (see <see cref="PerfCounters"/>).</param>
    /// <param name="rate">The sample period or frequency.</param>
    /// <param name="cpu">The CPU, or -1 with <paramref name="pid"/>.</param>
    /// <param name="pid">A process to follow, or -1 for all on <paramref name="cpu"/>.</param>
    /// <param name="cookie">A BPF cookie.</param>
    /// <exception cref="BpfException">The counter cannot be opened (hardware counters on a virtual machine: the message says so), or the kernel refused.</exception>
    public static PerfEventSampleLink Attach(Program program, PerfCounterType type, ulong config, SampleRate rate, int cpu, int pid = -1, ulong cookie = 0)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (rate.Value == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rate), "a sample period or frequency must be above 0");
        }
        if (cpu < 0 && pid < 0)
        {
            throw new ArgumentException("give a CPU, a process, or both: a counter for every process on every CPU does not exist", nameof(cpu));
        }
        var attr = new PerfEventAttr
        {
            Type = (uint)type,
            Config = config,
            SamplePeriodOrFrequency = rate.Value,
            Flags = PerfEvents.FlagDisabled | (rate.IsFrequency ? PerfEvents.FlagFrequency : 0),
        };
        string what = $"{type.ToString().ToLowerInvariant()} counter {config} {(rate.IsFrequency ? $"at {rate.Value} Hz" : $"every {rate.Value} events")}";
        string where = cpu >= 0 ? $"cpu {cpu}" : $"pid {pid}";
        FileDescriptor perfEvent = PerfEvents.Open(ref attr, pid, cpu, groupFd: -1, flags: 0, $"{what} on {where}");
        return Attach(program, perfEvent, cookie, $"perf_event link {what} on {where}", null,
            (fd, link, text) => new PerfEventSampleLink(fd, link, text, cookie, cpu));
    }

    /// <summary>Attaches one counter per online CPU; if any fails, the ones made are detached again.</summary>
    public static IReadOnlyList<PerfEventSampleLink> AttachAllCpus(Program program, PerfCounterType type, ulong config, SampleRate rate, ulong cookie = 0)
    {
        var links = new List<PerfEventSampleLink>();
        try
        {
            foreach (int cpu in Cpus.Online)
            {
                links.Add(Attach(program, type, config, rate, cpu, -1, cookie));
            }
            return links;
        }
        catch
        {
            links.ForEach(l => l.Dispose());
            throw;
        }
    }
}
