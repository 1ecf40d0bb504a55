namespace BpfSharp.Kernel;

/// <summary>
/// A shared memory mapping of a kernel object (a ring buffer, a perf ring, an mmapable array),
/// unmapped exactly once when disposed or finalized.
/// </summary>
internal sealed unsafe class MemoryMapping : IDisposable
{
    private nint _address;

    private MemoryMapping(nint address, nuint length)
    {
        _address = address;
        Length = length;
    }

    internal static int PageSize { get; } = LibC.GetPageSize();

    internal nuint Length { get; }

    internal byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_address == 0, this);
            return (byte*)_address;
        }
    }

    internal bool IsDisposed => _address == 0;

    internal static MemoryMapping Map(FileDescriptor fd, nuint length, bool writable, long offset, string what)
    {
        using FileDescriptor.Lease lease = fd.Borrow();
        int protection = LibC.PROT_READ | (writable ? LibC.PROT_WRITE : 0);
        nint address = LibC.Mmap(0, length, protection, LibC.MAP_SHARED, lease.Fd, offset);
        if (address == -1)
        {
            throw Errors.FromLastError("mmap", what);
        }
        return new MemoryMapping(address, length);
    }

    public void Dispose()
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address != 0)
        {
            LibC.Munmap(address, Length);
        }
        GC.SuppressFinalize(this);
    }

    ~MemoryMapping()
    {
        Dispose();
    }
}
