using System.Net.Sockets;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Links;

/// <summary>
/// A socket filter program attached to one socket with SO_ATTACH_BPF: it sees every packet the
/// socket receives and decides how many bytes of it to keep (0 drops it). Not a BPF link;
/// disposing detaches with SO_DETACH_BPF (if the socket is still open).
/// </summary>
public sealed unsafe class SocketFilterLink : Link
{
    private readonly Socket _socket;

    private SocketFilterLink(Socket socket, string description) : base(null, description)
    {
        _socket = socket;
    }

    /// <summary>The socket filtered.</summary>
    public Socket Socket => _socket;

    /// <summary>Attaches a socket filter program to <paramref name="socket"/>; a program attached before is replaced.</summary>
    /// <exception cref="BpfException">The program is not a socket filter, or the kernel refused.</exception>
    public static SocketFilterLink Attach(Program program, Socket socket)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(socket);
        string description = $"socket filter {program.Name} on {socket.SocketType} socket";
        bool added = false;
        socket.SafeHandle.DangerousAddRef(ref added);
        try
        {
            using FileDescriptor.Lease lease = program.Fd.Borrow();
            int programFd = lease.Fd;
            if (LibC.SetSockOpt((int)socket.SafeHandle.DangerousGetHandle(), LibC.SOL_SOCKET, LibC.SO_ATTACH_BPF, &programFd, sizeof(int)) < 0)
            {
                Errno errno = Errors.LastErrno;
                throw new BpfException("setsockopt(SO_ATTACH_BPF)", errno, $"attaching {program} to a socket", errno == Errno.EINVAL
                    ? "only socket filter programs attach to sockets"
                    : Errors.GenericHint(errno));
            }
        }
        finally
        {
            if (added)
            {
                socket.SafeHandle.DangerousRelease();
            }
        }
        return new SocketFilterLink(socket, description);
    }

    private protected override void Release()
    {
        bool added = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            int unused = 0;
            LibC.SetSockOpt((int)_socket.SafeHandle.DangerousGetHandle(), LibC.SOL_SOCKET, LibC.SO_DETACH_BPF, &unused, sizeof(int));
        }
        catch (ObjectDisposedException)
        {
            // The socket is closed, and its filter went with it.
        }
        finally
        {
            if (added)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }
    }
}
