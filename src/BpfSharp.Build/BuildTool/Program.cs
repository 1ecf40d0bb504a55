using BpfSharp.Btf;
using BpfSharp.Skeletons;
using BpfSharp.Specs;

// bpfsharp-build: what BpfSharp.Build runs for projects that cannot run the bpfsharp CLI.
//   bpfsharp-build vmlinux-header BTF_FILE OUTPUT_HEADER
//   bpfsharp-build gen skeleton OBJECT --output FILE [--namespace NS] [--class NAME] [--internal] [--type T]...
//                  [--from-resource NAME | --from-file PATH]    (the options of bpfsharp gen skeleton)
// Outputs are written to FILE.tmp and renamed, so an interrupted run never leaves a file that looks complete.
const string Usage = "usage: bpfsharp-build vmlinux-header BTF_FILE OUTPUT_HEADER | gen skeleton OBJECT --output FILE [options]";
try
{
    switch (args)
    {
        case ["vmlinux-header", string btf, string header]:
            BtfSpec spec = KernelBtf.Open(btf);
            using (var stream = File.Create(header + ".tmp"))
            {
                BtfCWriter.WriteHeader(spec, stream);
            }
            File.Move(header + ".tmp", header, overwrite: true);
            return 0;
        case ["gen", "skeleton", string objectPath, .. string[] rest]:
            (SkeletonOptions options, string? output) = ParseSkeletonOptions(rest);
            if (output is null)
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
            File.WriteAllText(output + ".tmp", SkeletonGenerator.Generate(objectPath, options));
            File.Move(output + ".tmp", output, overwrite: true);
            return 0;
        default:
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or BtfException or BpfObjectException or ArgumentException)
{
    Console.Error.WriteLine($"error: bpfsharp-build {string.Join(' ', args)}: {e.Message}");
    return 1;
}

static (SkeletonOptions Options, string? Output) ParseSkeletonOptions(string[] options)
{
    string? output = null, ns = null, className = null, resource = null, file = null;
    bool isInternal = false;
    var types = new List<string>();
    for (int i = 0; i < options.Length; i++)
    {
        string Value() => ++i < options.Length ? options[i] : throw new ArgumentException($"{options[i - 1]} needs a value");
        switch (options[i])
        {
            case "--output" or "-o": output = Value(); break;
            case "--namespace" or "-n": ns = Value(); break;
            case "--class": className = Value(); break;
            case "--internal": isInternal = true; break;
            case "--type" or "-t": types.Add(Value()); break;
            case "--from-resource": resource = Value(); break;
            case "--from-file": file = Value(); break;
            default: throw new ArgumentException($"unknown option {options[i]}");
        }
    }
    var skeleton = new SkeletonOptions { Namespace = ns, ClassName = className, Internal = isInternal, Types = types, ResourceName = resource, ObjectPath = file };
    return (skeleton, output);
}
