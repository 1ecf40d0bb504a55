namespace BpfSharp.Kernel;

/// <summary>
/// Keeps several descriptors open for the duration of one kernel call, the way
/// <see cref="FileDescriptor.Borrow"/> does for one. Needed where a call carries a variable number
/// of descriptors (a program load's BTF, attach target and fd array), which a ref struct lease
/// cannot hold.
/// </summary>
internal sealed class BorrowedDescriptors : IDisposable
{
    private readonly List<FileDescriptor> _held = [];

    /// <summary>Borrows <paramref name="descriptor"/> until this set is disposed; returns its number, or 0 for null.</summary>
    /// <exception cref="ObjectDisposedException">The descriptor was already closed.</exception>
    internal int Add(FileDescriptor? descriptor)
    {
        if (descriptor is null)
        {
            return 0;
        }
        bool added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(descriptor.Description,
                $"The {descriptor.Description} was disposed; its kernel object can no longer be used through this handle.");
        }
        _held.Add(descriptor);
        return (int)descriptor.DangerousGetHandle();
    }

    /// <summary>Releases every borrow.</summary>
    public void Dispose()
    {
        foreach (FileDescriptor descriptor in _held)
        {
            descriptor.DangerousRelease();
        }
        _held.Clear();
    }
}
