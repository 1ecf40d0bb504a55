using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using BpfSharp.Kernel;
using BpfSharp.Tracing;

namespace BpfSharp.Events;

/// <summary>
/// The kernel trace buffer's consuming reader (<c>tracefs/trace_pipe</c>): what <c>bpf_printk</c>
/// writes. Reading consumes lines, so one reader at a time sees each line. Waits happen in epoll
/// with a short timeout on the caller's thread (or a dedicated one for the async form), so
/// cancellation is prompt and no thread-pool thread blocks on the pipe.
/// </summary>
public sealed unsafe class TracePipe : IDisposable
{
    private const int PollMilliseconds = 100;
    private readonly FileDescriptor _fd;
    private readonly Epoll _epoll = new();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly StringBuilder _partial = new();

    /// <summary>Opens the trace pipe of <paramref name="tracefs"/> (default: this machine's tracefs).</summary>
    public TracePipe(Tracefs? tracefs = null)
    {
        string path = Path.Combine((tracefs ?? Tracefs.Default).Root, "trace_pipe");
        int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK, 0);
        if (fd < 0)
        {
            throw Errors.FromLastError("open", path);
        }
        _fd = new FileDescriptor(fd, path);
        _epoll.Add(_fd, 0, edgeTriggered: false);
    }

    /// <summary>
    /// Reads lines until <paramref name="cancellationToken"/> is cancelled, handing each parsed
    /// line to <paramref name="onLine"/> (lines that are not records are skipped).
    /// </summary>
    public void Read(Action<TraceLine> onLine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onLine);
        Span<EpollEvent> ready = stackalloc EpollEvent[1];
        while (!cancellationToken.IsCancellationRequested)
        {
            if (_epoll.Wait(ready, PollMilliseconds) == 0)
            {
                continue;
            }
            DrainAvailable(onLine);
        }
    }

    /// <summary>The lines as an async stream; a dedicated thread waits on the pipe, and backpressure is bounded.</summary>
    public async IAsyncEnumerable<TraceLine> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<TraceLine>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = new Thread(() =>
        {
            try
            {
                Read(line =>
                {
                    // Block the reader thread (not the pool) while the consumer catches up.
                    while (!channel.Writer.TryWrite(line))
                    {
                        if (stop.IsCancellationRequested || !channel.Writer.WaitToWriteAsync(stop.Token).AsTask().GetAwaiter().GetResult())
                        {
                            return;
                        }
                    }
                }, stop.Token);
                channel.Writer.TryComplete();
            }
            catch (OperationCanceledException)
            {
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        })
        { IsBackground = true, Name = "bpfsharp trace_pipe" };
        reader.Start();
        try
        {
            await foreach (TraceLine line in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return line;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            reader.Join();
        }
    }

    private void DrainAvailable(Action<TraceLine> onLine)
    {
        using FileDescriptor.Lease lease = _fd.Borrow();
        while (true)
        {
            nint count;
            fixed (byte* buffer = _buffer)
            {
                count = LibC.Read(lease.Fd, buffer, (nuint)_buffer.Length);
            }
            if (count <= 0)
            {
                Errno errno = Errors.LastErrno;
                if (count == 0 || errno is Errno.EAGAIN or Errno.EINTR)
                {
                    return;
                }
                throw new BpfException("read", errno, _fd.Description);
            }
            _partial.Append(Encoding.UTF8.GetString(_buffer, 0, (int)count));
            EmitCompleteLines(onLine);
        }
    }

    private void EmitCompleteLines(Action<TraceLine> onLine)
    {
        string text = _partial.ToString();
        int start = 0;
        for (int newline = text.IndexOf('\n'); newline >= 0; newline = text.IndexOf('\n', start))
        {
            if (TraceLine.TryParse(text[start..newline]) is { } line)
            {
                onLine(line);
            }
            start = newline + 1;
        }
        _partial.Clear().Append(text, start, text.Length - start);
    }

    /// <summary>Closes the pipe.</summary>
    public void Dispose()
    {
        _epoll.Dispose();
        _fd.Dispose();
    }
}
