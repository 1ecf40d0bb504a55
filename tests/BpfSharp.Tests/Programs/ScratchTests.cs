using BpfSharp.Asm;
using BpfSharp.Programs;
using static BpfSharp.Tests.Programs.Insn;
namespace BpfSharp.Tests.Programs;
public class ScratchTests
{
    [KernelFact]
    public void Scratch()
    {
        void Try(ProgramSpec s) { try { Program.Load(s).Dispose(); Console.WriteLine("OK " + s.Name); } catch (Exception e) { Console.WriteLine($"MSG {e.GetType().Name}: {e.Message}"); if (e is VerifierException v) Console.WriteLine("LOG " + v.Log.Replace("\n", " | ")); } }
        Try(new ProgramSpec { Name = "a", Type = ProgramType.Xdp, Instructions = [MovImm(Register.R1, 1), Exit()], License = "GPL" });
        Try(new ProgramSpec { Name = "b", Type = ProgramType.Xdp, Instructions = [MovImm(Register.R0, 1), StoreDoubleImm(Register.R10, -520, 1), Exit()], License = "GPL" });
        Try(new ProgramSpec { Name = "c", Type = ProgramType.Xdp, Instructions = [MovImm(Register.R0, 1), new Instruction { OpCode = 0x05, Offset = -2 }, Exit()], License = "GPL" });
        Try(new ProgramSpec { Name = "d", Type = ProgramType.Tracing, ExpectedAttachType = AttachType.TraceFentry, AttachBtfId = BpfSharp.Features.VmlinuxFunctions.FindId("bpf_fentry_test1")!.Value, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "e", Type = ProgramType.Xdp, Instructions = [Call((HelperFunction)5000), Exit()], License = "GPL" });
        Try(new ProgramSpec { Name = "f", Type = ProgramType.Xdp, Instructions = [Call(HelperFunction.GetCurrentComm), Exit()], License = "GPL" });
        Try(new ProgramSpec { Name = "g", Type = ProgramType.SocketFilter, Instructions = [Call(HelperFunction.TracePrintk), Exit()], License = "" });
        Try(new ProgramSpec { Name = "h", Type = (ProgramType)77, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "i", Type = ProgramType.Lsm, ExpectedAttachType = AttachType.LsmMac, AttachBtfId = BpfSharp.Features.VmlinuxFunctions.FindId("bpf_lsm_file_open")!.Value, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "j", Type = ProgramType.Ext, AttachBtfId = BpfSharp.Features.VmlinuxFunctions.FindId("bpf_fentry_test1")!.Value, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "k", Type = ProgramType.StructOps, AttachBtfId = 1, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "l", Type = ProgramType.Kprobe, Instructions = Return(0), License = "GPL" });
        Try(new ProgramSpec { Name = "m", Type = ProgramType.Tracing, ExpectedAttachType = AttachType.TraceRawTp, AttachBtfId = BpfSharp.Features.VmlinuxFunctions.FindId("btf_trace_sched_switch") ?? 0, Instructions = Return(0), License = "GPL" });
    }
}
