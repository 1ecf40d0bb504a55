using System.Diagnostics;
using BpfSharp.Kernel;
using Xunit;

namespace BpfSharp.Tests.Kernel;

public class ProcessControlTests
{
    [Theory]
    [InlineData("1234 (bash) S 1 1234 1234 0 -1", ProcessRunState.Sleeping)]
    [InlineData("99 (my (odd) name) T 1 2 3", ProcessRunState.Stopped)]
    [InlineData("7 (a) b) R 0", ProcessRunState.Running)]
    [InlineData("8 (zombie) Z 1", ProcessRunState.Exited)]
    [InlineData("9 (traced) t 1", ProcessRunState.Stopped)]
    public void ReadsTheStateAfterTheLastParenthesis(string stat, ProcessRunState state) =>
        Assert.Equal(state, ProcessControl.ParseStatState(stat));

    [Theory]
    [InlineData("no parenthesis")]
    [InlineData("1 (x)")]
    [InlineData("1 (x) Q 1")]
    public void RejectsWhatIsNotAStatLine(string stat) =>
        Assert.Throws<FormatException>(() => ProcessControl.ParseStatState(stat));

    [Fact]
    public void StopsAndContinuesAProcessThatStoppedItself()
    {
        using Process process = Process.Start(new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", "kill -STOP $$; exit 7" }, UseShellExecute = false })!;
        try
        {
            Assert.True(ProcessControl.WaitUntilStopped(process.Id, TimeSpan.FromSeconds(10)));
            Assert.Equal(ProcessRunState.Stopped, ProcessControl.State(process.Id));
            Assert.True(ProcessControl.IsAlive(process.Id));
            ProcessControl.Continue(process.Id);
            Assert.True(process.WaitForExit(10_000));
            Assert.Equal(7, process.ExitCode);
            Assert.Null(ProcessControl.State(process.Id));
            Assert.False(ProcessControl.IsAlive(process.Id));
            Assert.False(ProcessControl.WaitUntilStopped(process.Id, TimeSpan.FromMilliseconds(50)));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public void SignallingAMissingProcessSaysSo()
    {
        var error = Assert.Throws<BpfException>(() => ProcessControl.Signal(999_999_999, ProcessControl.SigCont));
        Assert.Equal(Errno.ESRCH, error.Errno);
    }
}
