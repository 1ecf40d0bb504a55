using System.CommandLine;
using BpfSharp.Cli.Output;
using BpfSharp.Events;

namespace BpfSharp.Cli.Commands;

/// <summary><c>bpfsharp trace-pipe</c>: what BPF programs print with bpf_printk, as it arrives.</summary>
internal static class TracePipeCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line: task, pid, tgid, cpu, flags, timestamp, event, message" };
        var all = new Option<bool>("--all") { Description = "Show every trace line, not only bpf_printk output" };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: until Ctrl-C)" };
        var command = new Command("trace-pipe", "Print bpf_printk output from the kernel trace pipe until Ctrl-C")
        {
            json, all, duration,
        };
        command.SetAction(parse =>
        {
            using var until = new RunUntil(parse.GetValue(duration));
            using var pipe = new TracePipe();
            using JsonLines? lines = parse.GetValue(json) ? new JsonLines() : null;
            bool everything = parse.GetValue(all);
            pipe.Read(line =>
            {
                if (!everything && !line.IsBpfPrintk)
                {
                    return;
                }
                if (lines is null)
                {
                    Console.WriteLine($"{line.Timestamp,14:F6} {line.Cpu,3} {line.Task}-{line.Pid}: {line.Message}");
                    return;
                }
                lines.Write(w =>
                {
                    w.WriteString("task", line.Task);
                    w.WriteNumber("pid", line.Pid);
                    if (line.Tgid is int tgid)
                    {
                        w.WriteNumber("tgid", tgid);
                    }
                    w.WriteNumber("cpu", line.Cpu);
                    w.WriteString("flags", line.Flags);
                    w.WriteNumber("timestamp", line.Timestamp);
                    w.WriteString("event", line.Event);
                    w.WriteString("message", line.Message);
                });
            }, until.Token);
            return 0;
        });
        return command;
    }
}
