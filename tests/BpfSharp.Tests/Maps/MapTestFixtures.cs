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

/// <summary>Loads small hand-assembled programs for map tests (the Program type is written elsewhere).</summary>
internal static class TestProgramLoader
{
    internal static readonly Instruction ReturnZero = new() { OpCode = 0xb7, Dst = Register.R0, Constant = 0 };
    internal static readonly Instruction Exit = new() { OpCode = 0x95 };

    internal static FileDescriptor LoadSocketFilterReturningZero() =>
        Load(ProgramType.SocketFilter, [ReturnZero, Exit], "test socket filter");

    /// <summary>A raw tracepoint program that returns bpf_get_stackid(ctx, stacks, 0).</summary>
    internal static FileDescriptor LoadStackIdRecorder(FileDescriptor stacks)
    {
        using FileDescriptor.Lease lease = stacks.Borrow();
        Instruction[] program =
        [
            new() { OpCode = 0x18, Dst = Register.R2, Src = (Register)1 /* BPF_PSEUDO_MAP_FD */, Constant = lease.Fd },
            new() { OpCode = 0xb7, Dst = Register.R3, Constant = 0 },
            new() { OpCode = 0x85, Constant = (long)HelperFunction.GetStackid },
            Exit,
        ];
        return Load(ProgramType.RawTracepoint, program, "test stack recorder");
    }

    internal static unsafe FileDescriptor Load(ProgramType type, IReadOnlyList<Instruction> instructions, string description)
    {
        byte[] code = InstructionEncoding.Encode(instructions);
        byte[] license = "GPL\0"u8.ToArray();
        byte[] log = new byte[256 * 1024];
        fixed (byte* c = code)
        fixed (byte* l = license)
        fixed (byte* g = log)
        {
            var attr = new ProgLoadAttr
            {
                ProgType = (uint)type,
                InsnCount = (uint)(code.Length / 8),
                Insns = (ulong)c,
                License = (ulong)l,
                LogLevel = 1,
                LogSize = (uint)log.Length,
                LogBuf = (ulong)g,
            };
            int fd = Bpf.TryCall(BpfCommand.ProgLoad, ref attr, out Errno errno);
            if (fd < 0)
            {
                string text = Encoding.ASCII.GetString(log, 0, Math.Max(0, Array.IndexOf(log, (byte)0)));
                throw new InvalidOperationException($"PROG_LOAD of {description} failed with {errno}: {text}");
            }
            return new FileDescriptor(fd, description);
        }
    }

    /// <summary>Runs a program once with BPF_PROG_TEST_RUN and returns its return value.</summary>
    internal static unsafe uint TestRun(FileDescriptor program, int contextSize = 8)
    {
        byte[] context = new byte[contextSize];
        using FileDescriptor.Lease lease = program.Borrow();
        fixed (byte* ctx = context)
        {
            var attr = new TestRunAttr { ProgFd = (uint)lease.Fd, CtxIn = (ulong)ctx, CtxSizeIn = (uint)contextSize };
            Bpf.Call(BpfCommand.ProgTestRun, ref attr, "test run");
            return attr.Retval;
        }
    }

    internal static unsafe uint ProgramId(FileDescriptor program)
    {
        var info = new ProgInfoLayout();
        Bpf.GetInfo(program, ref info);
        return info.Id;
    }
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
