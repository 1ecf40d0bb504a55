using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

/// <summary>
/// The libc entry points BpfSharp uses. This is the only file in the library with P/Invoke:
/// everything else reaches the kernel through the typed wrappers of the Kernel namespace.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    // syscall(2) is variadic in C; passing six register-sized integers is ABI-compatible with
    // the variadic call on the 64-bit Linux ABIs we support (x86-64, arm64), and lets us issue
    // system calls glibc has no wrapper for (bpf, perf_event_open).
    [LibraryImport(Library, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport(Library, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, nint argument);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint address, nuint length);

    [LibraryImport(Library, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(Library, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int operation, int fd, EpollEvent* ev);

    [LibraryImport(Library, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, EpollEvent* events, int maxEvents, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Library, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string fileSystemType, nuint flags, nint data);

    // A vDSO call that never blocks: without the GC transition, a garbage collection cannot stall the caller
    // between two clock reads that are meant to be taken together.
    [LibraryImport(Library, EntryPoint = "clock_gettime")]
    [SuppressGCTransition]
    internal static partial int ClockGetTime(int clock, TimeSpec* time);

    [LibraryImport(Library, EntryPoint = "clock_nanosleep")]
    internal static partial int ClockNanosleep(int clock, int flags, TimeSpec* request, TimeSpec* remaining);

    [LibraryImport(Library, EntryPoint = "getpagesize")]
    internal static partial int GetPageSize();

    [LibraryImport(Library, EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport(Library, EntryPoint = "gettid")]
    internal static partial int GetTid();

    [LibraryImport(Library, EntryPoint = "geteuid")]
    internal static partial uint GetEuid();

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int SetSockOpt(int socket, int level, int option, void* value, uint length);

    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint IfNameToIndex(string name);

    [LibraryImport(Library, EntryPoint = "if_indextoname", SetLastError = true)]
    internal static partial byte* IfIndexToName(uint index, byte* name);

    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int socket, void* address, uint length);

    [LibraryImport(Library, EntryPoint = "send", SetLastError = true)]
    internal static partial nint Send(int socket, void* buffer, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    internal static partial nint Recv(int socket, void* buffer, nuint length, int flags);

    internal const int AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000, NETLINK_ROUTE = 0;
    internal const int SOL_SOCKET = 1, SOL_NETLINK = 270, NETLINK_EXT_ACK = 11, NETLINK_CAP_ACK = 10;
    internal const int SO_ATTACH_BPF = 50, SO_DETACH_BPF = 27;
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, O_DIRECTORY = 0x10000;
    internal const int F_DUPFD_CLOEXEC = 1030;
    internal const int CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7;
    internal const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2;
    internal const int MAP_SHARED = 1, MAP_PRIVATE = 2;
    internal const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010, EPOLLET = 1u << 31;
}

/// <summary><c>struct epoll_event</c>: packed on x86-64 (12 bytes), naturally aligned elsewhere.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct EpollEvent
{
    public uint Events;
    public ulong Data;
}

/// <summary><c>struct timespec</c> on 64-bit Linux.</summary>
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}
