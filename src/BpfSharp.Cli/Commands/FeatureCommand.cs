using System.CommandLine;
using System.Text;
using System.Text.Json;
using BpfSharp.Cli.Output;
using BpfSharp.Features;
using BpfSharp.Kernel;
using BpfSharp.Programs;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp feature probe</c>: what this kernel supports, found by trying (like <c>bpftool feature probe</c>).</summary>
internal static class FeatureCommand
{
    internal static Command Create()
    {
        var command = new Command("feature", "Inspect which eBPF features the running kernel supports");
        command.Subcommands.Add(CreateProbe());
        return command;
    }

    private static Command CreateProbe()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table" };
        var helpers = new Option<bool>("--helpers") { Description = "Also probe which helpers each program type may call (200+ per type; slower)" };
        var programTypes = new Option<string[]>("--program-type")
        {
            Description = "Probe helpers only for these program types (names such as xdp or socket_filter); implies --helpers",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("probe", "Probe the kernel for program types, map types, attach kinds, kernel facts and (with --helpers) helpers");
        command.Options.Add(json);
        command.Options.Add(helpers);
        command.Options.Add(programTypes);
        command.SetAction(parseResult =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            string[] requested = parseResult.GetValue(programTypes) ?? [];
            var helperTypes = new List<ProgramType>();
            foreach (string name in requested)
            {
                if (UapiNames.ParseProgramType(name) is not ProgramType type)
                {
                    parseResult.InvocationConfiguration.Error.WriteLine(
                        $"unknown program type '{name}'; known: {string.Join(", ", KernelSupport.ProgramTypes.Select(UapiNames.Name))}");
                    return 2;
                }
                helperTypes.Add(type);
            }
            if (helperTypes.Count == 0 && parseResult.GetValue(helpers))
            {
                helperTypes.AddRange(KernelSupport.ProgramTypes);
            }

            if (!Environment.IsPrivilegedProcess)
            {
                // Probes need CAP_BPF and friends; without them most answers are "error: EPERM".
                parseResult.InvocationConfiguration.Error.WriteLine("note: not running as root; the kernel refuses most probes, so their results say error (run with sudo)");
            }
            Report report = Probe(helperTypes);
            if (parseResult.GetValue(json))
            {
                WriteJson(report, output);
            }
            else
            {
                WriteTable(report, output);
            }
            return 0;
        });
        return command;
    }

    private sealed record Section(string Key, string Title, IReadOnlyList<(string Name, FeatureResult Result)> Items);

    private sealed record Report(string KernelRelease, IReadOnlyList<Section> Sections, IReadOnlyList<(ProgramType Type, FeatureResult? Limitation, Section? Helpers)> Helpers);

    private static Report Probe(IReadOnlyList<ProgramType> helperTypes)
    {
        string release = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : "unknown";
        var sections = new List<Section>
        {
            new("kernel", "Kernel", [.. Enum.GetValues<KernelFeature>().Select(f => (JsonOutput.SnakeName(f), KernelSupport.For(f)))]),
            new("program_types", "Program types", [.. KernelSupport.ProgramTypes.Select(t => (UapiNames.Name(t), KernelSupport.ForProgramType(t)))]),
            new("map_types", "Map types", [.. KernelSupport.MapTypes.Select(t => (UapiNames.Name(t), KernelSupport.ForMapType(t)))]),
            new("hooks", "Attach and hook kinds", [.. Enum.GetValues<HookKind>().Select(h => (JsonOutput.SnakeName(h), KernelSupport.For(h)))]),
        };
        var helpers = new List<(ProgramType, FeatureResult?, Section?)>();
        foreach (ProgramType type in helperTypes.Distinct())
        {
            FeatureResult? limitation = KernelSupport.HelperProbeLimitation(type);
            Section? section = limitation is null
                ? new Section(UapiNames.Name(type), $"Helpers for {UapiNames.Name(type)} programs",
                    [.. KernelSupport.Helpers.Select(h => (UapiNames.Name(h), KernelSupport.ForHelper(type, h)))])
                : null;
            helpers.Add((type, limitation, section));
        }
        return new Report(release, sections, helpers);
    }

    private static void WriteTable(Report report, TextWriter output)
    {
        output.WriteLine($"Kernel {report.KernelRelease}");
        foreach (Section section in report.Sections)
        {
            WriteSection(section, output);
        }
        foreach ((ProgramType type, FeatureResult? limitation, Section? helpers) in report.Helpers)
        {
            if (helpers is null)
            {
                output.WriteLine();
                output.WriteLine($"Helpers for {UapiNames.Name(type)} programs: not probed: {limitation?.Detail}");
                continue;
            }
            WriteSection(helpers, output);
        }
    }

    private static void WriteSection(Section section, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine(section.Title);
        int width = section.Items.Max(item => item.Name.Length) + 2;
        foreach ((string name, FeatureResult result) in section.Items)
        {
            string line = $"  {name.PadRight(width)}{StatusName(result.Status),-12}{result.Detail}";
            output.WriteLine(line.TrimEnd());
        }
    }

    private static void WriteJson(Report report, TextWriter output) => JsonOutput.WriteDocument(output, writer =>
    {
        writer.WriteString("kernel_release", report.KernelRelease);
        foreach (Section section in report.Sections)
        {
            WriteJsonSection(writer, section.Key, section.Items);
        }
        if (report.Helpers.Count > 0)
        {
            writer.WriteStartObject("helpers");
            foreach ((ProgramType type, FeatureResult? limitation, Section? helpers) in report.Helpers)
            {
                if (helpers is null)
                {
                    // Say why a requested type has no helper list rather than leaving it out silently.
                    writer.WriteStartObject(UapiNames.Name(type));
                    writer.WriteString("not_probed", limitation?.Detail ?? "");
                    writer.WriteEndObject();
                    continue;
                }
                WriteJsonSection(writer, helpers.Key, helpers.Items);
            }
            writer.WriteEndObject();
        }
    });

    private static void WriteJsonSection(Utf8JsonWriter writer, string key, IReadOnlyList<(string Name, FeatureResult Result)> items)
    {
        writer.WriteStartObject(key);
        foreach ((string name, FeatureResult result) in items)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", StatusName(result.Status));
            writer.WriteString("detail", result.Detail);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static string StatusName(FeatureStatus status) => status switch
    {
        FeatureStatus.Supported => "supported",
        FeatureStatus.Unsupported => "unsupported",
        FeatureStatus.Refused => "refused",
        _ => "error",
    };
}
