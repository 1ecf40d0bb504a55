// opensnoop: every openat(2) on the machine (or of one process), as it happens.
//   dotnet run -c Release -- [--pid PID] [--duration SECONDS]
using BpfSharp;
using BpfSharp.Events;
using BpfSharp.Links;
using Opensnoop; // the skeleton, in the project's root namespace

uint pid = 0;
double? duration = null;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--pid": pid = uint.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--duration": duration = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"opensnoop: unknown option {args[i]}"); return 2;
    }
}

// Open: the object as compiled, its settings still editable.
OpensnoopBpf.Specification spec = OpensnoopBpf.Open();
spec.Rodata.TargetPid = pid;
// Wake this reader only past a quarter of the ring; RingBuffer.MaxLatency below drains it every 100 ms anyway.
spec.Rodata.WakeupBytes = spec.Maps.Events.MaxEntries / 4;

OpensnoopBpf opensnoop;
try
{
    opensnoop = spec.Load(); // maps created, CO-RE applied against this kernel, programs verified and loaded
}
catch (BpfException e)
{
    Console.Error.WriteLine($"opensnoop: cannot load its BPF program: {e.Message}");
    return 1;
}
using (opensnoop)
using (LinkSet links = opensnoop.Attach()) // tracepoint/syscalls/sys_enter_openat, from the section name
using (var ring = new RingBuffer(opensnoop.Maps.Events) { MaxLatency = TimeSpan.FromMilliseconds(100) })
using (var stop = duration is double seconds ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource())
{
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    Console.WriteLine($"{"PID",7} {"COMM",-16} {"FLAGS",8} PATH");
    Console.Error.WriteLine("Tracing openat() until Ctrl-C.");
    // Records are read in place as the generated struct: nothing is copied or allocated per record but the line.
    ring.Run((in OpensnoopBpf.OpenEvent e) => Console.WriteLine($"{e.Pid,7} {e.Comm,-16} {e.Flags,8:x} {e.Path}"), stop.Token);
    if (opensnoop.Bss.Lost > 0)
    {
        Console.Error.WriteLine($"opensnoop: {opensnoop.Bss.Lost} opens were not shown: the ring buffer was full.");
    }
}
return 0;
