using BpfSharp.Kernel;
using BpfSharp.Programs;
using BpfSharp.Tracing;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// A minimal tracepoint attachment for loader tests (perf_event_open on the tracepoint, PERF_EVENT_IOC_SET_BPF,
/// enable), so collection tests can run tracepoint programs without the links work. Disposing detaches.
/// </summary>
internal sealed class TestTracepoint : IDisposable
{
    private readonly List<FileDescriptor> _events = [];

    public TestTracepoint(Program program, string system, string name)
    {
        ulong id = Tracefs.Default.EventId(system, name);
        try
        {
            // A program attached to a tracepoint runs on every CPU whichever perf event carries it: the first
            // online CPU's event is enough (attaching it again to another CPU's event is EEXIST).
            for (int cpu = 0; cpu < Cpus.PossibleCount && _events.Count == 0; cpu++)
            {
                var attr = new PerfEventAttr { Type = PerfEvents.TypeTracepoint, Config = id, SamplePeriodOrFrequency = 1, WakeupEventsOrWatermark = 1 };
                FileDescriptor fd;
                try
                {
                    fd = PerfEvents.Open(ref attr, -1, cpu, -1, 0, $"tracepoint {system}/{name} on CPU {cpu}");
                }
                catch (BpfException e) when (e.Errno == Errno.ENODEV)
                {
                    continue;
                }
                _events.Add(fd);
                using FileDescriptor.Lease prog = program.Fd.Borrow();
                PerfEvents.Ioctl(fd, PerfEvents.IocSetBpf, prog.Fd, "attaching the program");
                PerfEvents.Ioctl(fd, PerfEvents.IocEnable, 0, "enabling the event");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (FileDescriptor fd in _events)
        {
            fd.Dispose();
        }
        _events.Clear();
    }
}
