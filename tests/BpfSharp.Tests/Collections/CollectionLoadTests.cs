using BpfSharp.Collections;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;
using BpfSharp.Specs;

namespace BpfSharp.Tests.Collections;

[Trait("Category", "Kernel")]
public sealed class CollectionLoadTests
{
    private static readonly byte[] Packet = new byte[64];

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
        Assert.True(collection.Variable("calls").Get<ulong>() >= 5);
        // Live globals are writable through the mapping, and the program sees the new value.
        collection.Variable("calls").Set(1000UL);
        Assert.Equal(1000UL, collection.Variable("calls").Get<ulong>());
    }
}
