using System.Runtime.InteropServices;

namespace BpfSharp.Cli.Output;

/// <summary>
/// How long a live command runs: until Ctrl-C (SIGINT), SIGTERM, or an optional duration.
/// The first signal asks the command to stop cleanly (detach, print summaries); the token fires.
/// </summary>
internal sealed class RunUntil : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    internal RunUntil(double? durationSeconds = null, CancellationToken outer = default)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        if (durationSeconds is > 0)
        {
            _source.CancelAfter(TimeSpan.FromSeconds(durationSeconds.Value));
        }
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    internal CancellationToken Token => _source.Token;

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true; // keep the process alive so the command can clean up
        _source.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }
}
