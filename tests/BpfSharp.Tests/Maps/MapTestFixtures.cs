using System.Buffers.Binary;
using System.Text;
using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Maps;

/// <summary>
/// A tiny hand-built BTF object for map tests: <c>int</c>, <c>struct bpf_spin_lock</c> and
/// <c>struct locked_value { struct bpf_spin_lock lock; int data; }</c>. Test-only; the library's
/// BTF writer lives elsewhere.
/// </summary>
internal sealed class TestBtf : IDisposable
{
    internal const uint IntTypeId = 1;
    internal const uint SpinLockTypeId = 2;
    internal const uint LockedValueTypeId = 3;

    private TestBtf(FileDescriptor fd) => Fd = fd;

    internal FileDescriptor Fd { get; }

    internal static byte[] Build()
    {
        var strings = new MemoryStream();
        strings.WriteByte(0);
        uint Str(string text)
        {
            uint offset = (uint)strings.Length;
            strings.Write(Encoding.ASCII.GetBytes(text));
            strings.WriteByte(0);
            return offset;
        }

        var types = new List<uint>();
        const uint KindInt = 1, KindStruct = 4;
        uint Info(uint kind, uint vlen) => kind << 24 | vlen;
        // [1] int: signed, 32 bits
        types.AddRange([Str("int"), Info(KindInt, 0), 4, 1u << 24 | 32]);
        // [2] struct bpf_spin_lock { int val; } (size 4): the kernel recognises it by name and size
        types.AddRange([Str("bpf_spin_lock"), Info(KindStruct, 1), 4, Str("val"), IntTypeId, 0]);
        // [3] struct locked_value { struct bpf_spin_lock lock; int data; } (size 8)
        types.AddRange([Str("locked_value"), Info(KindStruct, 2), 8,
            Str("lock"), SpinLockTypeId, 0,
            Str("data"), IntTypeId, 32]);

        byte[] stringBytes = strings.ToArray();
        int typeLength = types.Count * 4;
        byte[] blob = new byte[24 + typeLength + stringBytes.Length];
        Span<byte> span = blob;
        BinaryPrimitives.WriteUInt16LittleEndian(span, 0xeB9F);
        span[2] = 1; // version
        span[3] = 0; // flags
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], 24); // hdr_len
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], 0); // type_off
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], (uint)typeLength);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], (uint)typeLength); // str_off
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], (uint)stringBytes.Length);
        for (int i = 0; i < types.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[(24 + i * 4)..], types[i]);
        }
        stringBytes.CopyTo(span[(24 + typeLength)..]);
        return blob;
    }

    internal static unsafe TestBtf Load()
    {
        byte[] blob = Build();
        byte[] log = new byte[64 * 1024];
        fixed (byte* b = blob)
        fixed (byte* l = log)
        {
            var attr = new BtfLoadAttr { Btf = (ulong)b, BtfSize = (uint)blob.Length, LogBuf = (ulong)l, LogSize = (uint)log.Length, LogLevel = 1 };
            int fd = Bpf.TryCall(BpfCommand.BtfLoad, ref attr, out Errno errno);
            if (fd < 0)
            {
                string text = Encoding.ASCII.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0)));
                throw new InvalidOperationException($"BTF_LOAD failed with {errno}: {text}");
            }
            return new TestBtf(new FileDescriptor(fd, "test BTF"));
        }
    }

    public void Dispose() => Fd.Dispose();
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
