using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Kernel;
using BpfSharp.Links;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp link list</c>: every BPF link in the kernel and what it attaches (like <c>bpftool link show</c>).</summary>
internal static class LinkCommand
{
    internal static Command Create()
    {
        var command = new Command("link", "Inspect the BPF links in the kernel");
        command.Subcommands.Add(CreateList());
        return command;
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON document instead of a table" };
        var command = new Command("list", "List every link: its type, program, what it is attached to, the processes holding it and its pins")
        {
            json,
        };
        command.Aliases.Add("show");
        command.SetAction(parse =>
        {
            List<LinkInfo> links = Link.All().ToList();
            BpfObjectOwners owners = BpfObjectOwners.Scan();
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                JsonOutput.WriteDocument(output, writer =>
                {
                    writer.WriteStartArray("links");
                    foreach (LinkInfo link in links)
                    {
                        writer.WriteStartObject();
                        writer.WriteNumber("id", link.Id);
                        writer.WriteString("type", UapiNames.Name(link.Type));
                        writer.WriteNumber("prog_id", link.ProgramId);
                        writer.WriteString("target", Target(link));
                        OwnerText.WriteJson(writer, owners, BpfObjectKind.Link, link.Id);
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                });
                return 0;
            }
            var table = new TextTable(">ID", "TYPE", ">PROG", "TARGET", "PIDS", "PINNED");
            foreach (LinkInfo link in links)
            {
                table.Add(link.Id, UapiNames.Name(link.Type), link.ProgramId == 0 ? "-" : link.ProgramId, Target(link),
                    OwnerText.Holders(owners, BpfObjectKind.Link, link.Id), OwnerText.Pins(owners, BpfObjectKind.Link, link.Id));
            }
            table.Write(output);
            return 0;
        });
        return command;
    }

    /// <summary>What the link attaches its program to, in the words of the kernel's own names.</summary>
    internal static string Target(LinkInfo link) => link switch
    {
        RawTracepointLinkInfo raw => $"raw_tp {raw.TracepointName}",
        TracingLinkInfo tracing => $"{UapiNames.Name(tracing.AttachType)} btf {tracing.TargetObjectId} type {tracing.TargetBtfId}",
        CgroupLinkInfo cgroup => $"{UapiNames.Name(cgroup.AttachType)} cgroup {cgroup.CgroupId}",
        IteratorLinkInfo iterator => iterator.MapId == 0 ? $"iter {iterator.TargetName}" : $"iter {iterator.TargetName} map {iterator.MapId}",
        NetnsLinkInfo netns => $"{UapiNames.Name(netns.AttachType)} netns {netns.NetnsInode}",
        XdpLinkInfo xdp => $"xdp {Interface(xdp.Ifindex)}",
        StructOpsLinkInfo structOps => $"struct_ops map {structOps.MapId}",
        NetfilterLinkInfo netfilter => $"netfilter pf {netfilter.ProtocolFamily} hook {netfilter.Hook} prio {netfilter.Priority}",
        KprobeMultiLinkInfo kprobes => $"{kprobes.Count} kernel functions",
        UprobeMultiLinkInfo uprobes => $"{uprobes.Count} offsets in {uprobes.Path}" + (uprobes.Pid != 0 ? $" pid {uprobes.Pid}" : ""),
        TcxLinkInfo tcx => $"{UapiNames.Name(tcx.AttachType)} {Interface(tcx.Ifindex)}",
        SockMapLinkInfo sockmap => $"{UapiNames.Name(sockmap.AttachType)} map {sockmap.MapId}",
        PerfEventLinkInfo perf => perf.Kind switch
        {
            PerfEventLinkKind.Tracepoint => $"tracepoint {perf.Name}",
            PerfEventLinkKind.Uprobe or PerfEventLinkKind.Uretprobe => $"{JsonOutput.SnakeName(perf.Kind)} {perf.Name}+0x{perf.Offset:x}",
            PerfEventLinkKind.Kprobe or PerfEventLinkKind.Kretprobe => $"{JsonOutput.SnakeName(perf.Kind)} {perf.Name}+0x{perf.Offset:x}",
            PerfEventLinkKind.Event => $"perf event type {perf.EventType} config {perf.EventConfig}",
            _ => "perf event",
        },
        _ => "-",
    };

    private static string Interface(int ifindex) =>
        NetworkInterfaces.Name(ifindex) is string name ? $"{name} (ifindex {ifindex})" : $"ifindex {ifindex}";
}
