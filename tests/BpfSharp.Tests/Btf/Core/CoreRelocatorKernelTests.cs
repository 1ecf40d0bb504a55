using System.Buffers.Binary;
using BpfSharp.Asm;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Elf;
using BpfSharp.Programs;
using Xunit.Abstractions;

namespace BpfSharp.Tests.Btf.Core;

/// <summary>
/// core_task.bpf.c (compiled against a vmlinux.h the build generates from this kernel) relocated
/// against the running kernel: resolved values checked against the kernel's BTF read independently,
/// then the patched program loaded and run, and the values it read checked against this process.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class CoreRelocatorKernelTests(ITestOutputHelper output)
{
    private const string Section = "syscall";

    private static (BtfSpec Btf, BtfExt Ext, List<Instruction> Instructions) ReadObject()
    {
        using ElfFile elf = ElfFile.Read(TestPrograms.Path("core_task"));
        Assert.True(elf.TryGetSection(Section, out ElfSection code));
        // The program uses no maps, globals or subprograms: its section needs no ELF relocations.
        Assert.DoesNotContain(elf.RelocationSections, r => r.TargetSectionIndex == (uint)code.Index);
        BtfSpec btf = BtfSpec.FromElf(elf);
        return (btf, BtfExt.FromElf(elf, btf)!, InstructionEncoding.Decode(code.Data.Span));
    }

    private static BtfType KernelTask => KernelBtf.Vmlinux.FindType("task_struct", BtfKind.Struct);

    private static BtfMember KernelMember(BtfType type, string name) => type.Members.Single(m => m.Name == name);

    private static long KernelEnumerator(string enumName, string name) =>
        KernelBtf.Vmlinux.FindType(enumName, BtfKind.Enum).Enumerators.Single(e => e.Name == name).Value;

    [KernelFact]
    public void Resolved_values_equal_the_kernel_btf()
    {
        (BtfSpec btf, BtfExt ext, _) = ReadObject();
        IReadOnlyList<CoreRelocationResult> results = CoreRelocator.Resolve(btf, ext, Section, CoreTarget.Running);
        foreach (CoreRelocationResult result in results)
        {
            output.WriteLine(result.ToString());
        }
        BtfType task = KernelTask;
        CoreRelocationResult Find(BtfCoreRelocationKind kind, string access) =>
            results.First(r => r.Kind == kind && r.LocalAccess == access);

        CoreRelocationResult pid = Find(BtfCoreRelocationKind.FieldByteOffset, "struct task_struct.pid");
        Assert.Equal(KernelMember(task, "pid").ByteOffset, pid.NewValue);
        Assert.Equal(task.Id, pid.TargetTypeId);
        Assert.Equal("vmlinux", pid.TargetSource);
        Assert.Equal(4, pid.NewSize);
        Assert.Equal(KernelMember(task, "tgid").ByteOffset, Find(BtfCoreRelocationKind.FieldByteOffset, "struct task_struct.tgid").NewValue);
        Assert.Equal(KernelMember(task, "real_parent").ByteOffset, Find(BtfCoreRelocationKind.FieldByteOffset, "struct task_struct.real_parent").NewValue);

        // The flavor resolves to the kernel's task_struct; its local offset (0) is not the kernel's.
        CoreRelocationResult flavored = Find(BtfCoreRelocationKind.FieldByteOffset, "struct task_struct___flavored.tgid");
        Assert.Equal(0UL, flavored.OriginalValue);
        Assert.Equal(KernelMember(task, "tgid").ByteOffset, flavored.NewValue);
        Assert.Equal(task.Id, flavored.TargetTypeId);

        Assert.Equal(1UL, Find(BtfCoreRelocationKind.FieldExists, "struct task_struct.pid").NewValue);
        Assert.All(results.Where(r => r.Kind == BtfCoreRelocationKind.FieldExists && r.LocalAccess == "struct task_struct___missing.bpfsharp_no_such_field"),
            r => Assert.Equal((1UL, 0UL, false), (r.OriginalValue, r.NewValue, r.IsPoisoned)));
        CoreRelocationResult missingRead = Find(BtfCoreRelocationKind.FieldByteOffset, "struct task_struct___missing.bpfsharp_no_such_field");
        Assert.True(missingRead.IsPoisoned);
        Assert.Contains("matches none", missingRead.PoisonReason);

        Assert.Equal(1UL, Find(BtfCoreRelocationKind.TypeExists, "struct task_struct").NewValue);
        CoreRelocationResult noType = Find(BtfCoreRelocationKind.TypeExists, "struct bpfsharp_no_such_type");
        Assert.Equal((1UL, 0UL, 0), (noType.OriginalValue, noType.NewValue, noType.CandidateCount));
        Assert.Equal(task.Size, Find(BtfCoreRelocationKind.TypeSize, "struct task_struct").NewValue);
        Assert.Equal((ulong)KernelBtf.Vmlinux.SizeOf(KernelMember(task, "comm").TypeId), Find(BtfCoreRelocationKind.FieldByteSize, "struct task_struct.comm").NewValue);

        Assert.Equal((ulong)KernelEnumerator("pid_type", "PIDTYPE_TGID"), Find(BtfCoreRelocationKind.EnumValue, "enum pid_type::PIDTYPE_TGID").NewValue);
        CoreRelocationResult sid = Find(BtfCoreRelocationKind.EnumValue, "enum pid_type___local::PIDTYPE_SID___local");
        Assert.Equal((99UL, (ulong)KernelEnumerator("pid_type", "PIDTYPE_SID")), (sid.OriginalValue, sid.NewValue));
        Assert.Equal(1UL, Find(BtfCoreRelocationKind.EnumValueExists, "enum pid_type___local::PIDTYPE_SID___local").NewValue);
    }

    [KernelFact]
    public void Relocated_program_reads_this_thread()
    {
        (BtfSpec btf, BtfExt ext, List<Instruction> instructions) = ReadObject();
        int slots = InstructionEncoding.CountSlots(instructions);
        CoreRelocationReport report = CoreRelocator.Apply(instructions, Section, btf, ext, CoreTarget.Running);
        output.WriteLine(report.ToString());
        Assert.Equal(slots, InstructionEncoding.CountSlots(instructions));
        Assert.True(report.PoisonedCount >= 1);
        Assert.Contains(instructions, i => i.IsHelperCall && i.Constant == CoreRelocator.PoisonHelperId);

        var spec = new ProgramSpec
        {
            Name = "core_task",
            Type = ProgramType.Syscall,
            Flags = ProgramFlags.Sleepable,
            Instructions = instructions,
            License = "GPL",
        };
        using Program program = Program.Load(spec);
        // A syscall program's context is copied back to the caller's buffer after the run.
        byte[] context = new byte[14 * sizeof(uint)];
        TestRunResult run = program.TestRun(new TestRunOptions { Context = context });
        Assert.Equal(0u, run.ReturnValue);
        uint Field(int index) => BinaryPrimitives.ReadUInt32LittleEndian(context.AsSpan(index * sizeof(uint)));

        // /proc/thread-self links to PID/task/TID of the calling thread, which ran the program.
        uint threadId = uint.Parse(Path.GetFileName(Directory.ResolveLinkTarget("/proc/thread-self", false)!.FullName));
        Assert.Equal(threadId, Field(0)); // pid: the kernel's id of this thread
        Assert.Equal((uint)Environment.ProcessId, Field(1)); // tgid
        string stat = File.ReadAllText("/proc/self/stat");
        uint parent = uint.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        Assert.Equal(parent, Field(2)); // real_parent->tgid
        Assert.Equal((uint)Environment.ProcessId, Field(3)); // through the ___flavored type
        Assert.Equal(1u, Field(4)); // has pid
        Assert.Equal(0u, Field(5)); // has the missing field
        Assert.Equal(0xdeadu, Field(6)); // the poisoned read was dead code
        Assert.Equal(1u, Field(7)); // task_struct exists
        Assert.Equal(0u, Field(8)); // the made-up type does not
        Assert.Equal(KernelTask.Size, Field(9));
        Assert.Equal(16u, Field(10)); // sizeof(task->comm)
        Assert.Equal((uint)KernelEnumerator("pid_type", "PIDTYPE_TGID"), Field(11));
        Assert.Equal((uint)KernelEnumerator("pid_type", "PIDTYPE_SID"), Field(12));
        Assert.Equal(1u, Field(13));
    }

    [KernelFact]
    public void Reachable_poisoned_instruction_fails_verification_there()
    {
        var local = new CoreTestBtf();
        int task = local.Struct("task_struct", 4, CoreTestBtf.M("bpfsharp_no_such_field", local.Int, 0));
        List<Instruction> code =
        [
            Instruction.Move64(Register.R0, 0),
            Instruction.LoadMemory(AccessSize.Word, Register.R2, Register.R1, 0),
            Instruction.Exit(),
        ];
        CoreRelocationReport report = CoreRelocator.Apply(code, [new BtfCoreRelocation(1, task, "0:0", BtfCoreRelocationKind.FieldByteOffset)],
            local.Spec, CoreTarget.Running, "syscall");
        Assert.Equal(1, report.PoisonedCount);
        var error = Assert.Throws<VerifierException>(() => Program.Load(new ProgramSpec
        {
            Name = "core_poisoned",
            Type = ProgramType.Syscall,
            Flags = ProgramFlags.Sleepable,
            Instructions = code,
            License = "GPL",
        }).Dispose());
        Assert.Contains("unknown#195896080", error.Log);
        Assert.Equal(1, error.InstructionIndex);
    }
}
