using System.Diagnostics;
using BpfSharp.Btf;

// The C# side of bench/btf/libbpf_parse.c, N iterations each after warm-up:
//   load:  BtfSpec.Load(path)   (read the file, index every type)
//   parse: BtfSpec.Parse(bytes) (the same over bytes already in memory)
//   kernel: KernelBtf.Vmlinux, once: what a process pays for the kernel's BTF (memory-mapped,
//           parsed once and cached), after the parse code was warmed up on the bytes above
// Prints per mode: bpfsharp <mode> <median-ms> <min-ms> <cpu-ms-per-iteration> <allocated-bytes>
string path = args.Length > 0 ? args[0] : KernelBtf.VmlinuxPath;
int iterations = args.Length > 1 ? int.Parse(args[1]) : 20;
byte[] bytes = File.ReadAllBytes(path);

Measure("load", () => BtfSpec.Load(path));
Measure("parse", () => BtfSpec.Parse(bytes));
if (path == KernelBtf.VmlinuxPath)
{
    long before = GC.GetAllocatedBytesForCurrentThread();
    TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
    long start = Stopwatch.GetTimestamp();
    BtfSpec vmlinux = KernelBtf.Vmlinux;
    double elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMilliseconds;
    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    GC.KeepAlive(vmlinux);
    Console.WriteLine($"bpfsharp kernel {elapsed:F3} {elapsed:F3} {cpu:F3} {allocated}");
}

void Measure(string mode, Func<BtfSpec> parse)
{
    // Warm-up: caches, page tables and (under the JIT) tiering, so the numbers are the steady-state cost.
    for (int i = 0; i < 5; i++)
    {
        parse();
    }
    var times = new double[iterations];
    long allocated = 0;
    TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
    for (int i = 0; i < iterations; i++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        BtfSpec spec = parse();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(spec);
    }
    double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMilliseconds / iterations;
    Array.Sort(times);
    Console.WriteLine($"bpfsharp {mode} {times[iterations / 2]:F3} {times[0]:F3} {cpu:F3} {allocated}");
}
