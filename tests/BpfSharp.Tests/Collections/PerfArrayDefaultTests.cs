using System.Buffers.Binary;
using BpfSharp.Collections;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Collections;

/// <summary>
/// Regression: a perf event array declared without max_entries (tests/programs/perf_array_default.bpf.c) gets one
/// slot per possible CPU, as libbpf gives it, so bpf_perf_event_output(BPF_F_CURRENT_CPU) works on every CPU.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class PerfArrayDefaultTests
{
    [KernelFact]
    public void APerfEventArrayWithoutMaxEntriesHasASlotPerPossibleCpuAndEachDelivers()
    {
        Assert.Equal(0u, BpfSharp.Specs.CollectionSpec.Load(TestPrograms.Path("perf_array_default")).Map("cpu_events").MaxEntries);
        using Collection collection = Collection.Load(TestPrograms.Path("perf_array_default"));
        Map map = collection.Map("cpu_events");
        Assert.Equal((uint)Cpus.PossibleCount, map.MaxEntries);

        using var reader = new PerfBuffer(map);
        Program program = collection.Program("report_cpu");
        foreach (int cpu in Cpus.Online)
        {
            TestRunResult run = program.TestRun(new TestRunOptions { Cpu = (uint)cpu });
            Assert.Equal(0u, run.ReturnValue);
        }
        var seen = new List<(int Cpu, uint Reported)>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (seen.Count < Cpus.Online.Count && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            reader.Poll(record => seen.Add((reader.CurrentCpu, BinaryPrimitives.ReadUInt32LittleEndian(record))), 200);
        }
        // Each record came from the ring of the CPU it reports: the slot of that CPU.
        Assert.Equal(Cpus.Online.Select(c => (c, (uint)c)), seen.OrderBy(s => s.Cpu));
    }
}
