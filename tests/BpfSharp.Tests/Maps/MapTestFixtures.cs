using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Maps;

/// <summary>
/// A tiny BTF object for map tests, made with the library's BtfBuilder: <c>int</c>, <c>struct bpf_spin_lock</c>
/// and <c>struct locked_value { struct bpf_spin_lock lock; int data; }</c>.
/// </summary>
internal sealed class TestBtf : IDisposable
{
    internal const uint IntTypeId = 1;
    internal const uint SpinLockTypeId = 2;
    internal const uint LockedValueTypeId = 3;

    private readonly BtfObject _object;

    private TestBtf(BtfObject btf) => _object = btf;

    internal FileDescriptor Fd => _object.Fd;

    internal static byte[] Build()
    {
        var builder = new BtfBuilder();
        int integer = builder.Add(BtfTypeDefinition.Int("int", 4, BtfIntEncoding.Signed, 32));
        // The kernel recognises struct bpf_spin_lock by name and size.
        int spinLock = builder.Add(BtfTypeDefinition.Struct("bpf_spin_lock", 4, [new BtfMemberDefinition("val", integer, 0)]));
        int lockedValue = builder.Add(BtfTypeDefinition.Struct("locked_value", 8,
            [new BtfMemberDefinition("lock", spinLock, 0), new BtfMemberDefinition("data", integer, 32)]));
        if ((integer, spinLock, lockedValue) != ((int)IntTypeId, (int)SpinLockTypeId, (int)LockedValueTypeId))
        {
            throw new InvalidOperationException("the builder numbered the test types differently than the constants say");
        }
        return builder.Build();
    }

    internal static TestBtf Load() => new(BtfObject.Load(Build()));

    public void Dispose() => _object.Dispose();
}

/// <summary>Small programs the map tests need, written with the assembler and loaded through <see cref="Program"/>.</summary>
internal static class TestProgramLoader
{
    internal static Program LoadSocketFilterReturningZero() => Load(
        "test_zero", ProgramType.SocketFilter, [Instruction.Move64(Register.R0, 0), Instruction.Exit()]);

    /// <summary>A raw tracepoint program returning bpf_get_stackid(ctx, stacks, 0).</summary>
    internal static Program LoadStackIdRecorder(FileDescriptor stacks)
    {
        using FileDescriptor.Lease lease = stacks.Borrow();
        return Load("test_stackid", ProgramType.RawTracepoint,
        [
            Instruction.LoadMapFd(Register.R2, lease.Fd),
            Instruction.Move64(Register.R3, 0),
            Instruction.Call(HelperFunction.GetStackid),
            Instruction.Exit(),
        ]);
    }

    /// <summary>Runs a program once with an 8-byte context and returns its return value.</summary>
    internal static uint TestRun(Program program) => program.TestRun(new TestRunOptions { Context = new byte[8] }).ReturnValue;

    private static Program Load(string name, ProgramType type, Instruction[] instructions) =>
        Program.Load(new ProgramSpec { Name = name, Type = type, Instructions = instructions, License = "GPL" });
}

/// <summary>A unique directory under /sys/fs/bpf, removed with everything in it on dispose.</summary>
internal sealed class BpfFsDirectory : IDisposable
{
    internal BpfFsDirectory()
    {
        Path = System.IO.Path.Combine("/sys/fs/bpf", $"bpfsharp-maps-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    internal string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
