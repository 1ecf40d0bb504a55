using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Programs;

/// <summary>What a VerifierException says, and how a tool says where the log is instead.</summary>
public sealed class VerifierMessageTests
{
    private const string Log = "func#0 @0\n0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000)\n";

    [Fact]
    public void TheMessagePointsToTheLogAndATextCanSayItsOwnWay()
    {
        var e = new VerifierException("no_return", Errno.EACCES, Log, logTruncated: false);
        Assert.StartsWith("loading program 'no_return': BPF_PROG_LOAD failed: EACCES", e.Message, StringComparison.Ordinal);
        Assert.Contains("R0 !read_ok", e.Reason);
        Assert.DoesNotContain("VerifierException.Log", e.Reason);
        Assert.EndsWith("; the whole log is in VerifierException.Log", e.Message, StringComparison.Ordinal);
        string tool = e.MessageWith("--log prints the whole verifier log");
        Assert.Equal(e.Message.Replace("the whole log is in VerifierException.Log", "--log prints the whole verifier log", StringComparison.Ordinal), tool);
    }

    [Fact]
    public void ATruncatedLogIsSaidInTheReason()
    {
        var e = new VerifierException("no_return", Errno.EACCES, Log, logTruncated: true);
        Assert.EndsWith("(the log was truncated)", e.Reason, StringComparison.Ordinal);
        Assert.EndsWith("(the log was truncated); the whole log is in VerifierException.Log", e.Message, StringComparison.Ordinal);
    }
}
