using BpfSharp.Programs;
using BpfSharp.Kernel;
using BpfSharp.Maps;

namespace BpfSharp.Tests.Maps;

[Trait("Category", "Kernel")]
public class StackTraceMapTests
{
    [KernelFact]
    public void StackRecordedByARawTracepointProgramHoldsKernelAddresses()
    {
        using StackTraceMap stacks = StackTraceMap.Create(64, maxDepth: 32, name: "stacks");
        using Program program = TestProgramLoader.LoadStackIdRecorder(stacks.Fd);

        uint stackId = TestProgramLoader.TestRun(program);
        Assert.True((int)stackId >= 0, $"bpf_get_stackid failed with {(int)stackId}");

        ulong[] frames = stacks.ReadStack(stackId);
        Assert.NotEmpty(frames);
        Assert.InRange(frames.Length, 1, 32);
        // x86-64 and arm64 kernels live in the top half of the address space.
        Assert.All(frames, address => Assert.True(address >= 0xffff_0000_0000_0000, $"0x{address:x} is not a kernel address"));

        // The same call path hashes to the same stack id.
        Assert.Equal(stackId, TestProgramLoader.TestRun(program));
        Assert.Contains(stackId, stacks.Map.Keys<uint>());

        Assert.True(stacks.Remove(stackId));
        Assert.False(stacks.TryReadStack(stackId, out _));
        Assert.Throws<KeyNotFoundException>(() => stacks.ReadStack(stackId));
    }

    [KernelFact]
    public void BuildIdStackMapsHaveThirtyTwoByteFrames()
    {
        using StackTraceMap stacks = StackTraceMap.Create(8, maxDepth: 16, buildId: true);
        Assert.True(stacks.HasBuildIds);
        Assert.Equal(16 * StackTraceMap.BuildIdFrameSize, (int)stacks.Map.ValueSize);
        Assert.Equal(16, stacks.MaxDepth);
        Assert.Throws<InvalidOperationException>(() => stacks.ReadStack(0));
        Assert.Throws<KeyNotFoundException>(() => stacks.ReadBuildIdStack(0));
        Assert.Equal(32, System.Runtime.CompilerServices.Unsafe.SizeOf<StackFrameBuildId>());
    }
}
