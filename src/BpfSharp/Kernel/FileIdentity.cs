using System.Globalization;
using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

/// <summary>
/// Which file a path names, as the kernel identifies it: the device of its filesystem and its inode number. BPF
/// programs see the same pair in <c>inode-&gt;i_sb-&gt;s_dev</c> and <c>inode-&gt;i_ino</c>, so a tool can filter
/// on one file by setting these in its program, and compare what it reports with the file on disk.
/// </summary>
/// <param name="DeviceMajor">The major number of the filesystem's device.</param>
/// <param name="DeviceMinor">The minor number of the filesystem's device.</param>
/// <param name="Inode">The inode number.</param>
public readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode)
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;
    private const int StatxBufferSize = 256;

    /// <summary>The device in the kernel's internal <c>dev_t</c> encoding (<c>major &lt;&lt; 20 | minor</c>), as BPF programs read it.</summary>
    public uint KernelDevice => KernelDeviceOf(DeviceMajor, DeviceMinor);

    /// <summary>Encodes <paramref name="major"/> and <paramref name="minor"/> as the kernel's internal <c>dev_t</c> (<c>MKDEV</c>).</summary>
    public static uint KernelDeviceOf(uint major, uint minor) => (major << 20) | (minor & 0xfffff);

    /// <summary>Splits a kernel-internal <c>dev_t</c> (what <c>s_dev</c> or <c>i_rdev</c> hold) into major and minor.</summary>
    public static (uint Major, uint Minor) SplitKernelDevice(uint device) => (device >> 20, device & 0xfffff);

    /// <summary>The identity of the file <paramref name="path"/> names (symbolic links followed), from statx(2).</summary>
    /// <exception cref="BpfException">The file cannot be looked up; the message has the kernel's reason.</exception>
    public static unsafe FileIdentity Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte* buffer = stackalloc byte[StatxBufferSize];
        new Span<byte>(buffer, StatxBufferSize).Clear();
        if (LibC.Statx(AtFdCwd, path, 0, StatxIno, buffer) != 0)
        {
            throw Errors.FromLastError("statx", path);
        }
        var statx = new ReadOnlySpan<byte>(buffer, StatxBufferSize);
        // struct statx: stx_ino at 32, stx_dev_major at 136, stx_dev_minor at 140 (include/uapi/linux/stat.h).
        return new FileIdentity(
            MemoryMarshal.Read<uint>(statx[136..]),
            MemoryMarshal.Read<uint>(statx[140..]),
            MemoryMarshal.Read<ulong>(statx[32..]));
    }

    /// <summary><c>major:minor inode</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DeviceMajor}:{DeviceMinor} {Inode}");
}
