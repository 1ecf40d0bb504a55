using BpfSharp.Tracing;

namespace BpfSharp.Tests.Tracing;

[Trait("Category", "Kernel")]
public class TracefsTests
{
    [KernelFact]
    public void FindsTheMountAndReadsPageFaultUserLikeTheSeedNotes()
    {
        Tracefs tracefs = Tracefs.Default;
        Assert.True(Directory.Exists(tracefs.EventsDirectory));

        TraceEventFormat format = tracefs.EventFormat("exceptions", "page_fault_user");
        Assert.Equal(tracefs.EventId("exceptions", "page_fault_user"), format.Id);
        Assert.Equal((8, 8), (format.Field("address")!.Offset, format.Field("address")!.Size));
        Assert.Equal(24, format.Field("error_code")!.Offset);
    }

    [KernelFact]
    public void ExecTracepointHasDynamicFilenameAndPids()
    {
        TraceEventFormat format = Tracefs.Default.EventFormat("sched", "sched_process_exec");
        TraceEventField filename = format.Field("filename")!;
        Assert.True(filename.IsDynamic);
        Assert.Equal(4, filename.Size);
        Assert.True(format.Field("pid")!.IsSigned);
    }

    [KernelFact]
    public void ListsEventsIncludingSyscalls()
    {
        var events = Tracefs.Default.Events().ToList();
        Assert.Contains(("syscalls", "sys_enter_write"), events);
        Assert.Contains(("sched", "sched_switch"), events);
        Assert.True(events.Count > 500, $"only {events.Count} events listed");
    }

    [KernelFact]
    public void MissingEventsGiveAnErrorThatSaysWhatIsMissing()
    {
        var noEvent = Assert.Throws<BpfException>(() => Tracefs.Default.EventId("sched", "no_such_event"));
        Assert.Contains("has no event 'no_such_event'", noEvent.Message);
        var noSystem = Assert.Throws<BpfException>(() => Tracefs.Default.EventFormat("nosuchsys", "x"));
        Assert.Contains("no tracepoint subsystem 'nosuchsys'", noSystem.Message);
        Assert.Throws<ArgumentException>(() => Tracefs.Default.EventId("..", "x"));
        Assert.False(Tracefs.Default.EventExists("sched", "no_such_event"));
    }
}
