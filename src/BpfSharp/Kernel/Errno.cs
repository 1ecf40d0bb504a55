namespace BpfSharp.Kernel;

/// <summary>Linux error numbers (asm-generic/errno-base.h and errno.h) that BPF calls report.</summary>
#pragma warning disable CS1591 // the names are the C names; Errors.Describe gives their meaning
public enum Errno
{
    None = 0,
    EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8,
    EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, ENOTBLK = 15,
    EBUSY = 16, EEXIST = 17, EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
    ENFILE = 23, EMFILE = 24, ENOTTY = 25, ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29,
    EROFS = 30, EMLINK = 31, EPIPE = 32, EDOM = 33, ERANGE = 34, EDEADLK = 35, ENAMETOOLONG = 36,
    ENOLCK = 37, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENOMSG = 42, EIDRM = 43, ENODATA = 61,
    ETIME = 62, ENOLINK = 67, EPROTO = 71, EBADMSG = 74, EOVERFLOW = 75, EBADFD = 77,
    EOPNOTSUPP = 95, EAFNOSUPPORT = 97, EADDRINUSE = 98, EADDRNOTAVAIL = 99, ENETDOWN = 100,
    ENOBUFS = 105, ETIMEDOUT = 110, ECONNREFUSED = 111, EALREADY = 114, EINPROGRESS = 115,
    ESTALE = 116, EDQUOT = 122, ECANCELED = 125, EKEYREJECTED = 129,
    ENOTSUPP = 524, // kernel-internal "operation not supported" that leaks to user space from BPF
}
#pragma warning restore CS1591
