namespace BpfSharp.Kernel;

/// <summary>
/// An eventfd(2) counter used to wake a thread blocked in epoll: cancellation of a reader
/// signals it, so the wait ends at once instead of at its next timeout.
/// </summary>
internal sealed unsafe class EventFd : IDisposable
{
    internal EventFd()
    {
        int fd = LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw Errors.FromLastError("eventfd");
        }
        Fd = new FileDescriptor(fd, "eventfd");
    }

    internal FileDescriptor Fd { get; }

    /// <summary>Makes the descriptor readable (adds 1 to the counter). Safe from any thread, also after disposal.</summary>
    internal void Signal()
    {
        bool added = false;
        try
        {
            Fd.DangerousAddRef(ref added);
            ulong one = 1;
            // EAGAIN (counter saturated) still leaves it readable, which is all a signal needs.
            LibC.Write((int)Fd.DangerousGetHandle(), &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Nobody can wait on a closed eventfd: nothing to wake.
        }
        finally
        {
            if (added)
            {
                Fd.DangerousRelease();
            }
        }
    }

    /// <summary>Resets the counter to 0; returns whether it was signalled.</summary>
    internal bool Reset()
    {
        using FileDescriptor.Lease lease = Fd.Borrow();
        ulong value;
        return LibC.Read(lease.Fd, &value, sizeof(ulong)) == sizeof(ulong);
    }

    public void Dispose() => Fd.Dispose();
}
