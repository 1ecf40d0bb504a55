using BpfSharp.Btf;

// Usage: bpfsharp-vmlinux-header BTF_FILE OUTPUT_HEADER
// Writes OUTPUT_HEADER.tmp first and renames it, so an interrupted run never leaves a header that looks complete.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: bpfsharp-vmlinux-header BTF_FILE OUTPUT_HEADER");
    return 2;
}
try
{
    BtfSpec spec = Path.GetFullPath(args[0]) == KernelBtf.VmlinuxPath ? KernelBtf.Vmlinux : BtfSpec.Load(args[0]);
    string temporary = args[1] + ".tmp";
    using (var stream = File.Create(temporary))
    {
        BtfCWriter.WriteHeader(spec, stream);
    }
    File.Move(temporary, args[1], overwrite: true);
    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or BtfException)
{
    Console.Error.WriteLine($"error: cannot write {args[1]} from {args[0]}: {e.Message}");
    return 1;
}
