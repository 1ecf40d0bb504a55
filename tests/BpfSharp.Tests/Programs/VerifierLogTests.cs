using BpfSharp.Programs;

namespace BpfSharp.Tests.Programs;

public class VerifierLogTests
{
    [Fact]
    public void FailingInstructionAndProblemComeFromTheLogsEnd()
    {
        const string log = """
            0: R1=ctx() R10=fp0
            0: (b7) r1 = 1                        ; R1=1
            1: (95) exit
            R0 !read_ok
            processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0

            """;
        VerifierLog.Analysis analysis = VerifierLog.Analyze(log);
        Assert.Equal(1, analysis.InstructionIndex);
        Assert.Equal("R0 !read_ok", analysis.Problem);
    }

    [Fact]
    public void MultiLineProblemsKeepTheirLinesAndSkipState()
    {
        const string log = """
            0: R1=ctx() R10=fp0
            ; return bpf_get_current_comm(buf, 16);
            4: (85) call bpf_get_current_comm#16
            R1 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value
            from 2 to 4: R1=ctx() R10=fp0
            invalid indirect read from stack
            processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
            """;
        VerifierLog.Analysis analysis = VerifierLog.Analyze(log);
        Assert.Equal(4, analysis.InstructionIndex);
        Assert.Equal("R1 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value; invalid indirect read from stack", analysis.Problem);
    }

    [Fact]
    public void ChecksBeforeTheWalkNameTheInstructionInTheMessage()
    {
        VerifierLog.Analysis unreachable = VerifierLog.Analyze("unreachable insn 2\nprocessed 0 insns (limit 1000000)\n");
        Assert.Equal(2, unreachable.InstructionIndex);
        Assert.Equal("unreachable insn 2", unreachable.Problem);

        VerifierLog.Analysis attach = VerifierLog.Analyze("attach_btf_id 1 is not a supported struct\nprocessed 0 insns\n");
        Assert.Null(attach.InstructionIndex);
        Assert.Equal("attach_btf_id 1 is not a supported struct", attach.Problem);
    }

    [Fact]
    public void EmptyLogSaysSo()
    {
        VerifierLog.Analysis analysis = VerifierLog.Analyze("");
        Assert.Null(analysis.InstructionIndex);
        Assert.Equal("the log gives no reason", analysis.Problem);
    }
}
