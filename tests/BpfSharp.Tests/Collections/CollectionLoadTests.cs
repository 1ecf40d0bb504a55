using System.Runtime.InteropServices;
using BpfSharp.Collections;
using BpfSharp.Events;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Collections;

[Trait("Category", "Kernel")]
public sealed class CollectionLoadTests
{
    private static readonly byte[] Packet = new byte[64];

    /// <summary>subprograms.bpf.c's struct event.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SubprogramEvent
    {
        public uint Pid;
        public uint Depth;
        public ulong Sum;
        public ulong LoopSum;
        public ulong Calls;
    }

    /// <summary>subprograms.bpf.c's static fold().</summary>
    private static ulong Fold(ulong a, ulong b) => (a ^ (b << 7)) + (b >> 3);

    [KernelFact]
    public void MinimalObjectLoadsAndCountsTestRuns()
    {
        using Collection collection = Collection.Load(TestPrograms.Path("minimal"));
        Program program = collection.Program("count_runs");
        Assert.Equal(ProgramType.Xdp, program.Type);
        for (int i = 0; i < 3; i++)
        {
            TestRunResult result = program.TestRun(new TestRunOptions { Data = Packet });
            Assert.Equal(2u, result.ReturnValue);
        }
        Assert.Equal(3UL, collection.Map("runs").Lookup<uint, ulong>(0));
    }

    [KernelFact]
    public void SubprogramsGlobalsAndCallbacksRunOnATracepoint()
    {
        CollectionSpec spec = CollectionSpec.Load(TestPrograms.Path("subprograms"));
        spec.Variable("depth_limit").Set(3u);
        using Collection collection = Collection.Load(spec);
        Assert.Equal(3u, collection.Variable("depth_limit").Get<uint>());
        Assert.False(collection.Variable("depth_limit").IsWritable);
        Assert.Equal(7u, collection.Variable("last_pid").Get<uint>());

        int pid = LibC.GetPid();
        using (new TestTracepoint(collection.Program("on_getpid"), "syscalls", "sys_enter_getpid"))
        {
            for (int i = 0; i < 5; i++)
            {
                LibC.GetPid();
            }
        }
        Assert.True(collection.Map("per_pid").TryLookup<uint, ulong>((uint)pid, out ulong seen));
        Assert.True(seen >= 5, $"count_pid saw {seen} calls");
        ulong calls = collection.Variable("calls").Get<ulong>();
        Assert.True(calls >= 5);

        // Every event carries what the subprograms computed. Other processes call getpid too (and other tests in
        // this process), so the checks hold per event rather than for a fixed sequence.
        var ours = new List<SubprogramEvent>();
        int others = 0;
        using (var events = new RingBuffer(collection.Map("events")))
        {
            events.Consume((in SubprogramEvent e) =>
            {
                // The bpf_loop callback add_step adds index * index for 0..limit and stops after limit (3): 0+1+4+9.
                Assert.Equal(14UL, e.LoopSum);
                // The static subprogram fold() of the loop's sum and the global call counter.
                Assert.Equal(Fold(14, e.Calls), e.Sum);
                Assert.InRange(e.Calls, 1UL, calls);
                if (e.Pid == (uint)pid)
                {
                    ours.Add(e);
                }
                else
                {
                    others++;
                }
            });
        }
        Assert.True(ours.Count >= 5, $"{ours.Count} events from this process ({others} from others)");
        // The global subprogram count_pid returns the running count per process: 1, 2, ... up to what the map holds.
        Assert.Equal(1u, ours[0].Depth);
        Assert.True(ours.Zip(ours.Skip(1)).All(p => p.Second.Depth > p.First.Depth), string.Join(",", ours.Select(e => e.Depth)));
        Assert.Equal(seen, (ulong)ours[^1].Depth);
        // Live globals are writable through the mapping, and the program sees the new value.
        collection.Variable("calls").Set(1000UL);
        Assert.Equal(1000UL, collection.Variable("calls").Get<ulong>());
    }
}
