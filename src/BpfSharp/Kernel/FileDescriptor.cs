using System.Runtime.InteropServices;

namespace BpfSharp.Kernel;

/// <summary>
/// An owned Linux file descriptor (a map, program, link, BTF object, perf event, epoll instance):
/// closed exactly once, when disposed or finalized. Kernel calls borrow it through
/// <see cref="Borrow"/>, so a concurrent dispose cannot close it, or let the number be reused,
/// while a call is using it.
/// </summary>
public sealed class FileDescriptor : SafeHandle
{
    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    /// <param name="fd">An open descriptor.</param>
    /// <param name="description">What it is, for error messages: <c>map 'counts'</c>.</param>
    public FileDescriptor(int fd, string? description = null) : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
        Description = description ?? "file descriptor";
    }

    /// <summary>What this descriptor refers to, for messages.</summary>
    public string Description { get; internal set; }

    /// <inheritdoc />
    public override bool IsInvalid => handle < 0;

    /// <summary>
    /// The descriptor number. Valid only while this object is alive and not disposed; prefer
    /// <see cref="Borrow"/> around a call that uses it.
    /// </summary>
    public int Value
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (int)handle;
        }
    }

    /// <summary>
    /// Keeps the descriptor open for the lifetime of the returned lease and yields its number.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The descriptor was already closed.</exception>
    public Lease Borrow()
    {
        bool added = false;
        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(Description, $"The {Description} was disposed; its kernel object can no longer be used through this handle.");
        }
        return new Lease(this, (int)handle);
    }

    /// <summary>Duplicates the descriptor (F_DUPFD_CLOEXEC): an independent owner of the same kernel object.</summary>
    public FileDescriptor Duplicate()
    {
        using Lease lease = Borrow();
        int copy = LibC.Fcntl(lease.Fd, LibC.F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
        {
            throw Errors.FromLastError("fcntl(F_DUPFD_CLOEXEC)", Description);
        }
        return new FileDescriptor(copy, Description);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle() => LibC.Close((int)handle) == 0;

    /// <inheritdoc />
    public override string ToString() => IsClosed ? $"{Description} (closed)" : $"{Description} (fd {(int)handle})";

    /// <summary>A borrowed descriptor number; dispose to give it back.</summary>
    public readonly ref struct Lease
    {
        private readonly FileDescriptor _owner;

        internal Lease(FileDescriptor owner, int fd)
        {
            _owner = owner;
            Fd = fd;
        }

        /// <summary>The descriptor number, valid until this lease is disposed.</summary>
        public int Fd { get; }

        /// <summary>Releases the borrow.</summary>
        public void Dispose() => _owner?.DangerousRelease();
    }
}
