namespace BpfSharp.Kernel;

/// <summary>An epoll instance: waits for any of several descriptors (ring buffers, perf rings) to be readable.</summary>
internal sealed unsafe class Epoll : IDisposable
{
    private readonly FileDescriptor _fd;

    internal Epoll()
    {
        int fd = LibC.EpollCreate1(LibC.EPOLL_CLOEXEC);
        if (fd < 0)
        {
            throw Errors.FromLastError("epoll_create1");
        }
        _fd = new FileDescriptor(fd, "epoll instance");
    }

    /// <summary>Watches <paramref name="fd"/> for input; <paramref name="cookie"/> comes back from <see cref="Wait"/>.</summary>
    internal void Add(FileDescriptor fd, ulong cookie, bool edgeTriggered) =>
        Add(fd, cookie, LibC.EPOLLIN | (edgeTriggered ? LibC.EPOLLET : 0));

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/> (EPOLLIN, EPOLLOUT, EPOLLET, ...).</summary>
    internal void Add(FileDescriptor fd, ulong cookie, uint events)
    {
        using FileDescriptor.Lease self = _fd.Borrow();
        using FileDescriptor.Lease target = fd.Borrow();
        var ev = new EpollEvent { Events = events, Data = cookie };
        if (LibC.EpollCtl(self.Fd, LibC.EPOLL_CTL_ADD, target.Fd, &ev) < 0)
        {
            throw Errors.FromLastError("epoll_ctl(EPOLL_CTL_ADD)", fd.Description);
        }
    }

    /// <summary>Waits up to <paramref name="timeoutMs"/> (-1: forever); returns how many entries of <paramref name="ready"/> were filled.</summary>
    internal int Wait(Span<EpollEvent> ready, int timeoutMs)
    {
        using FileDescriptor.Lease self = _fd.Borrow();
        fixed (EpollEvent* p = ready)
        {
            while (true)
            {
                int n = LibC.EpollWait(self.Fd, p, ready.Length, timeoutMs);
                if (n >= 0)
                {
                    return n;
                }
                if (Errors.LastErrno != Errno.EINTR)
                {
                    throw Errors.FromLastError("epoll_wait");
                }
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}
