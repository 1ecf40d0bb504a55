using System.Diagnostics;
using BpfSharp.Btf;
using BpfSharp.Btf.Core;
using BpfSharp.Elf;

// CO-RE resolution of every relocation of a BPF object against a BTF file (default: the kernel's).
//   CoreRelocateBench once OBJECT [BTF]       one process doing what 'bpftool gen min_core_btf' does up to
//                                             its output: parse the target BTF, read the object, resolve all
//   CoreRelocateBench steady OBJECT [BTF] [N] in-process medians: 'index' = first resolution on a fresh
//                                             target (builds the name index), 'resolve' = with the index built
string mode = args[0];
string objectPath = args[1];
string btfPath = args.Length > 2 ? args[2] : KernelBtf.VmlinuxPath;
int iterations = args.Length > 3 ? int.Parse(args[3]) : 20;

if (mode == "once")
{
    BtfSpec target = BtfSpec.Load(btfPath);
    int count = ResolveAll(ReadObject(objectPath), CoreTarget.FromSpec(target));
    return count > 0 ? 0 : 1;
}

var obj = ReadObject(objectPath);
BtfSpec vmlinux = BtfSpec.Load(btfPath);
for (int i = 0; i < 3; i++)
{
    ResolveAll(obj, CoreTarget.FromSpec(vmlinux));
}
Report("index", () => ResolveAll(obj, CoreTarget.FromSpec(vmlinux)));
CoreTarget warm = CoreTarget.FromSpec(vmlinux);
ResolveAll(obj, warm);
Report("resolve", () => ResolveAll(obj, warm));
return 0;

void Report(string name, Func<int> run)
{
    var times = new double[iterations];
    long allocated = 0;
    int count = 0;
    for (int i = 0; i < iterations; i++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        count = run();
        times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    }
    Array.Sort(times);
    Console.WriteLine($"bpfsharp {name} {count} relocations: median {times[iterations / 2]:F3} ms, min {times[0]:F3} ms, {allocated / 1024.0:F0} KiB allocated");
}

static (BtfSpec Btf, BtfExt Ext) ReadObject(string path)
{
    using ElfFile elf = ElfFile.Read(path);
    if (!elf.TryGetSection(".BTF", out ElfSection btf) || !elf.TryGetSection(".BTF.ext", out ElfSection ext))
    {
        throw new InvalidOperationException($"{path} has no .BTF and .BTF.ext sections");
    }
    BtfSpec spec = BtfSpec.Parse(btf.Data.ToArray());
    return (spec, BtfExt.Parse(ext.Data.ToArray(), spec));
}

static int ResolveAll((BtfSpec Btf, BtfExt Ext) obj, CoreTarget target)
{
    int count = 0;
    foreach (string section in obj.Ext.CoreRelocations.Keys)
    {
        count += CoreRelocator.Resolve(obj.Btf, obj.Ext, section, target).Count;
    }
    return count;
}
