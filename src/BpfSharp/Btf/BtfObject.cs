using System.Text;
using BpfSharp.Kernel;

namespace BpfSharp.Btf;

/// <summary>
/// A BTF object in the kernel: one loaded with BTF_LOAD (object BTF for maps and programs), or the
/// kernel's own (vmlinux, modules) opened by id. Owns its file descriptor; the kernel frees the
/// object when the last descriptor and the last map or program using it are gone.
/// </summary>
/// <remarks>This is the one type of the Btf namespace that talks to the kernel.</remarks>
public sealed class BtfObject : IDisposable
{
    // Big enough for the kernel's complaints about a large object BTF; it grows on ENOSPC.
    private const int InitialLogSize = 64 * 1024;
    private const int MaximumLogSize = 16 * 1024 * 1024;

    private BtfObject(FileDescriptor fd)
    {
        Fd = fd;
    }

    /// <summary>The object's file descriptor.</summary>
    public FileDescriptor Fd { get; }

    /// <summary>Loads a BTF blob into the kernel (BPF_BTF_LOAD).</summary>
    /// <param name="blob">Raw BTF, such as <see cref="BtfBuilder.Build"/> produces or an object's <c>.BTF</c>.</param>
    /// <exception cref="BtfLoadException">The kernel rejected the BTF; <see cref="BtfLoadException.KernelLog"/> says why.</exception>
    /// <exception cref="BpfException">The call failed for another reason (permissions, memory).</exception>
    public static unsafe BtfObject Load(ReadOnlySpan<byte> blob)
    {
        if (blob.IsEmpty)
        {
            throw new ArgumentException("the BTF blob is empty", nameof(blob));
        }
        fixed (byte* data = blob)
        {
            // First without a log: the kernel verifies BTF faster when it does not have to format one.
            var attr = new BtfLoadAttr { Btf = (ulong)data, BtfSize = (uint)blob.Length };
            int fd = Bpf.TryCall(BpfCommand.BtfLoad, ref attr, out Errno errno);
            if (fd >= 0)
            {
                return new BtfObject(new FileDescriptor(fd, "BTF object"));
            }
            if (errno is not (Errno.EINVAL or Errno.E2BIG or Errno.EACCES))
            {
                throw Errors.ForCommand(BpfCommand.BtfLoad, errno, "loading BTF");
            }
            // Load again with a log to say why it was rejected.
            for (int logSize = InitialLogSize; ; logSize *= 4)
            {
                byte[] log = new byte[logSize];
                Errno logged;
                fixed (byte* logBuffer = log)
                {
                    attr = new BtfLoadAttr { Btf = (ulong)data, BtfSize = (uint)blob.Length, LogBuf = (ulong)logBuffer, LogSize = (uint)logSize, LogLevel = 1 };
                    fd = Bpf.TryCall(BpfCommand.BtfLoad, ref attr, out logged);
                }
                if (fd >= 0)
                {
                    // Accepted the second time (it should not happen); the object is valid.
                    return new BtfObject(new FileDescriptor(fd, "BTF object"));
                }
                if (logged == Errno.ENOSPC && logSize < MaximumLogSize)
                {
                    continue;
                }
                int end = Array.IndexOf(log, (byte)0);
                string text = Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).TrimEnd();
                throw new BtfLoadException(logged == Errno.ENOSPC ? errno : logged, text);
            }
        }
    }

    /// <summary>Opens the BTF object with id <paramref name="id"/> (BPF_BTF_GET_FD_BY_ID).</summary>
    public static BtfObject FromId(uint id) =>
        new(Bpf.GetFdById(BpfCommand.BtfGetFdById, id, "BTF object"));

    /// <summary>The ids of every BTF object loaded in the kernel, ascending (BPF_BTF_GET_NEXT_ID).</summary>
    public static IReadOnlyList<uint> AllIds() => Bpf.AllIds(BpfCommand.BtfGetNextId);

    /// <summary>The object's id, name, size and whether it is the kernel's own BTF.</summary>
    public unsafe BtfObjectInfo GetInfo()
    {
        byte* name = stackalloc byte[256];
        var info = new BtfInfoLayout { Name = (ulong)name, NameLen = 256 };
        Bpf.GetInfo(Fd, ref info);
        string text = info.NameLen == 0 ? "" : Encoding.UTF8.GetString(name, (int)Math.Min(info.NameLen, 256u)).TrimEnd('\0');
        return new BtfObjectInfo(info.Id, text, info.BtfSize, info.KernelBtf != 0);
    }

    /// <summary>The object's raw BTF, as the kernel holds it (split BTF for a module).</summary>
    public unsafe byte[] ReadRaw()
    {
        var sizeOnly = new BtfInfoLayout();
        Bpf.GetInfo(Fd, ref sizeOnly);
        // The kernel reports the size first; the second call copies exactly that many bytes.
        byte[] data = new byte[sizeOnly.BtfSize];
        fixed (byte* p = data)
        {
            var info = new BtfInfoLayout { Btf = (ulong)p, BtfSize = (uint)data.Length };
            Bpf.GetInfo(Fd, ref info);
            if (info.BtfSize != data.Length)
            {
                throw new BtfException($"BTF object changed size while being read ({data.Length} then {info.BtfSize} bytes)");
            }
        }
        return data;
    }

    /// <summary>
    /// Parses the object's BTF. A module's (kernel BTF not named vmlinux) is split BTF and is parsed
    /// on top of <see cref="KernelBtf.Vmlinux"/>; object BTF is parsed on its own.
    /// </summary>
    public BtfSpec ReadSpec()
    {
        BtfObjectInfo info = GetInfo();
        BtfSpec? baseSpec = info.IsKernel && info.Name != "vmlinux" ? KernelBtf.Vmlinux : null;
        return BtfSpec.Parse(ReadRaw(), baseSpec);
    }

    /// <summary>Closes the descriptor.</summary>
    public void Dispose() => Fd.Dispose();
}

/// <summary>What the kernel reports about a BTF object (<c>struct bpf_btf_info</c>).</summary>
/// <param name="Id">The object id.</param>
/// <param name="Name">The name: <c>vmlinux</c>, a module's name, or "" for object BTF.</param>
/// <param name="Size">Size of the raw BTF in bytes.</param>
/// <param name="IsKernel">Whether this is the kernel's own BTF (vmlinux or a module).</param>
public readonly record struct BtfObjectInfo(uint Id, string Name, uint Size, bool IsKernel);

/// <summary>BPF_BTF_LOAD rejected a blob; the kernel's log says which type and why.</summary>
public sealed class BtfLoadException : BpfException
{
    internal BtfLoadException(Errno errno, string log)
        : base("BPF_BTF_LOAD", errno, "loading BTF", string.IsNullOrEmpty(log) ? "the kernel gave no log" : "the kernel's BTF verifier said:\n" + log)
    {
        KernelLog = log;
    }

    /// <summary>The kernel's BTF verifier log.</summary>
    public string KernelLog { get; }
}
