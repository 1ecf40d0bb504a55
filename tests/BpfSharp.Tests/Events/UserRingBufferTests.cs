using System.Buffers.Binary;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Events;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Events;

[Trait("Category", "Kernel")]
public sealed class UserRingBufferTests
{
    private const int XdpPass = 2;

    [KernelFact]
    public void AProgramDrainsWhatUserSpaceSubmittedSkippingDiscardsAcrossWraps()
    {
        using var map = Map.Create(new MapSpec { Type = MapType.UserRingBuf, Name = "ev_user", MaxEntries = 4096 });
        using var sums = ArrayMap<ulong>.Create(1, "ev_user_sum");
        using var drain = LoadDrainProgram(map, sums);
        using var writer = new UserRingBuffer(map);

        ulong expectedSum = 0;
        for (int round = 0; round < 20; round++)
        {
            // 100 records of 16 bytes (24 with the header): more than half the ring, so rounds wrap.
            int submitted = 0;
            for (ulong i = 0; i < 100; i++)
            {
                ulong value = (ulong)round * 1000 + i;
                Assert.True(writer.TryReserve(16, out UserRingBufferRecord record));
                BitConverter.TryWriteBytes(record.Data, value);
                if (i % 10 == 9)
                {
                    writer.Discard(record);
                    continue;
                }
                writer.Submit(record);
                submitted++;
                expectedSum += value;
            }
            TestRunResult result = drain.TestRun(new TestRunOptions { Data = new byte[64] });
            Assert.Equal((uint)submitted, result.ReturnValue);
            Assert.Equal(expectedSum, sums.Lookup(0));
            Assert.Equal(writer.Size, (uint)writer.FreeBytes);
        }
        Assert.Equal(20 * 90, writer.RecordsSubmitted);
    }

    [KernelFact]
    public void AFullBufferRefusesOrTimesOutAndTypedWritesArrive()
    {
        using var map = Map.Create(new MapSpec { Type = MapType.UserRingBuf, Name = "ev_user_full", MaxEntries = 4096 });
        using var sums = ArrayMap<ulong>.Create(1, "ev_user_sum");
        using var drain = LoadDrainProgram(map, sums);
        using var writer = new UserRingBuffer(map);

        Assert.Throws<ArgumentOutOfRangeException>(() => writer.TryReserve(4096, out _));
        int written = 0;
        while (writer.TryWrite(7UL))
        {
            written++;
        }
        Assert.Equal(4096 / 16, written);
        Assert.Throws<TimeoutException>(() => writer.Reserve(8, TimeSpan.FromMilliseconds(30)));

        // A drain frees the space, and a waiting reservation goes through.
        var drainer = new Thread(() =>
        {
            Thread.Sleep(30);
            drain.TestRun(new TestRunOptions { Data = new byte[64] });
        });
        drainer.Start();
        UserRingBufferRecord record = writer.Reserve(8, TimeSpan.FromSeconds(10));
        drainer.Join();
        BitConverter.TryWriteBytes(record.Data, 5UL);
        writer.Submit(record);
        bool refused = false;
        try
        {
            writer.Submit(record);
        }
        catch (InvalidOperationException)
        {
            refused = true;
        }
        Assert.True(refused, "a second submit of one record must be refused");
        Assert.Equal(1u, drain.TestRun(new TestRunOptions { Data = new byte[64] }).ReturnValue);
        Assert.Equal(7UL * (ulong)written + 5, sums.Lookup(0));
    }

    [KernelFact]
    public async Task WriteAsyncWaitsForADrainWithoutBlockingAndTheRecordArrives()
    {
        using var map = Map.Create(new MapSpec { Type = MapType.UserRingBuf, Name = "ev_user_async", MaxEntries = 4096 });
        using var sums = ArrayMap<ulong>.Create(1, "ev_user_sum");
        using var drain = LoadDrainProgram(map, sums);
        using var writer = new UserRingBuffer(map);

        // Room now: completes synchronously.
        Assert.True(writer.WaitForSpaceAsync(8).IsCompletedSuccessfully);
        int written = 0;
        while (writer.TryWrite(3UL))
        {
            written++;
        }
        ValueTask pending = writer.WriteAsync(1000UL);
        Assert.False(pending.IsCompleted);
        Task waiting = pending.AsTask();
        // Still full a while later: nothing drained, so nothing completed it.
        Assert.False(waiting.Wait(50));

        Assert.Equal((uint)written, drain.TestRun(new TestRunOptions { Data = new byte[64] }).ReturnValue);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1u, drain.TestRun(new TestRunOptions { Data = new byte[64] }).ReturnValue);
        Assert.Equal(3UL * (ulong)written + 1000, sums.Lookup(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WaitForSpaceAsync(4096));
    }

    [KernelFact]
    public async Task ManyAsyncWritersThroughASmallBufferDeliverEveryRecordOnce()
    {
        using var map = Map.Create(new MapSpec { Type = MapType.UserRingBuf, Name = "ev_user_many", MaxEntries = 4096 });
        using var sums = ArrayMap<ulong>.Create(1, "ev_user_sum");
        using var drain = LoadDrainProgram(map, sums);
        using var writer = new UserRingBuffer(map);

        // 4 writers x 500 records of 16 bytes: 48 KB through a 4 KB ring, so writers wait many times.
        const int Writers = 4, PerWriter = 500;
        Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < PerWriter; i++)
            {
                await writer.WriteAsync((ulong)(w * PerWriter + i + 1));
            }
        }))];
        long drained = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task all = Task.WhenAll(writers);
        while (!all.IsCompleted || writer.FreeBytes < writer.Size)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"writers stalled after {drained} records");
            drained += drain.TestRun(new TestRunOptions { Data = new byte[64] }).ReturnValue;
            await Task.Yield();
        }
        await all;
        const long n = Writers * PerWriter;
        Assert.Equal(n, drained);
        Assert.Equal((ulong)(n * (n + 1) / 2), sums.Lookup(0));
        Assert.Equal(n, writer.RecordsSubmitted);
    }

    [KernelFact]
    public async Task CancellationAndDisposalEndAWaitAtOnce()
    {
        using var map = Map.Create(new MapSpec { Type = MapType.UserRingBuf, Name = "ev_user_cancel", MaxEntries = 4096 });
        var writer = new UserRingBuffer(map);
        while (writer.TryWrite(1UL))
        {
        }
        using var cancellation = new CancellationTokenSource();
        Task cancelled = writer.WaitForSpaceAsync(8, cancellation.Token).AsTask();
        Task abandoned = writer.WriteAsync(new byte[32]).AsTask();
        Assert.False(cancelled.IsCompleted);
        cancellation.Cancel();
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"cancellation took {stopwatch.Elapsed}");
        Assert.False(abandoned.IsCompleted);

        writer.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => abandoned.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Throws<ObjectDisposedException>(() => writer.WaitForSpaceAsync(8));
        writer.Dispose();
    }

    [KernelFact]
    public void OtherMapTypesAreRefused()
    {
        using var ring = RingBufferMap.Create(4096);
        Assert.Throws<ArgumentException>(() => new UserRingBuffer(ring.Map));
    }

    /// <summary>
    /// An XDP program: bpf_user_ringbuf_drain with a callback that reads each sample's first 8 bytes
    /// (bpf_dynptr_read) and adds them to a sum on the caller's stack; the sum is added to
    /// sums[0], and the number of samples drained is returned.
    /// </summary>
    private static Program LoadDrainProgram(Map ring, ArrayMap<ulong> sums)
    {
        var a = new Assembler();
        a.Store(AccessSize.DoubleWord, Register.R10, -8, 0)
            .LoadMapFd(Register.R1, ring.Fd.Value)
            .LoadFunction(Register.R2, "on_sample")
            .Mov(Register.R3, Register.R10).Alu(AluOperation.Add, Register.R3, -8)
            .Mov(Register.R4, 0)
            .Call(HelperFunction.UserRingBufDrain)
            .Mov(Register.R7, Register.R0)
            .Store(AccessSize.Word, Register.R10, -12, 0)
            .LoadMapFd(Register.R1, sums.Fd.Value).Mov(Register.R2, Register.R10).Alu(AluOperation.Add, Register.R2, -12)
            .Call(HelperFunction.MapLookupElem)
            .JumpIf(JumpOperation.Equal, Register.R0, 0, "out")
            .Load(AccessSize.DoubleWord, Register.R1, Register.R10, -8)
            .Atomic(AtomicOperation.Add, AccessSize.DoubleWord, Register.R0, 0, Register.R1)
            .Label("out").Mov(Register.R0, Register.R7).Exit();
        int callbackIndex = a.Count;
        // long on_sample(struct bpf_dynptr *sample, void *sum)
        a.Label("on_sample").Mov(Register.R6, Register.R2)
            .Mov(Register.R3, Register.R1)
            .Mov(Register.R1, Register.R10).Alu(AluOperation.Add, Register.R1, -8)
            .Mov(Register.R2, 8).Mov(Register.R4, 0).Mov(Register.R5, 0)
            .Call(HelperFunction.DynptrRead)
            .JumpIf(JumpOperation.NotEqual, Register.R0, 0, "skip")
            .Load(AccessSize.DoubleWord, Register.R1, Register.R10, -8)
            .Load(AccessSize.DoubleWord, Register.R2, Register.R6, 0)
            .Alu(AluOperation.Add, Register.R2, Register.R1)
            .Store(AccessSize.DoubleWord, Register.R6, 0, Register.R2)
            .Label("skip").Mov(Register.R0, 0).Exit();
        IReadOnlyList<Instruction> instructions = a.Build();
        int callbackSlot = instructions.Take(callbackIndex).Sum(i => i.Slots);

        // Callbacks need BTF function info: the verifier checks each function's boundaries with it.
        var btf = new BtfBuilder();
        int longType = btf.Add(BtfTypeDefinition.Int("long", 8, BtfIntEncoding.Signed));
        int voidPointer = btf.Add(BtfTypeDefinition.Pointer(0));
        int mainProto = btf.Add(BtfTypeDefinition.FunctionProto(longType, [new BtfParameterDefinition("ctx", voidPointer)]));
        int main = btf.Add(BtfTypeDefinition.Function("user_drain", mainProto, BtfFunctionLinkage.Static));
        int callbackProto = btf.Add(BtfTypeDefinition.FunctionProto(longType,
            [new BtfParameterDefinition("sample", voidPointer), new BtfParameterDefinition("sum", voidPointer)]));
        int callback = btf.Add(BtfTypeDefinition.Function("on_sample", callbackProto, BtfFunctionLinkage.Static));
        using BtfObject btfObject = BtfObject.Load(btf.Build());
        byte[] funcInfo = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(funcInfo.AsSpan(0), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(funcInfo.AsSpan(4), (uint)main);
        BinaryPrimitives.WriteUInt32LittleEndian(funcInfo.AsSpan(8), (uint)callbackSlot);
        BinaryPrimitives.WriteUInt32LittleEndian(funcInfo.AsSpan(12), (uint)callback);
        return Program.Load(new ProgramSpec
        {
            Name = "user_drain",
            Type = ProgramType.Xdp,
            Instructions = instructions,
            License = "GPL",
            Btf = btfObject.Fd,
            FuncInfo = funcInfo,
            FuncInfoRecordSize = 8,
        });
    }
}
