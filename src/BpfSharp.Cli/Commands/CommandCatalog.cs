using System.CommandLine;

namespace BpfSharp.Cli.Commands;

/// <summary>Every top-level command of the tool; each lives in its own file under Commands/ or Tools/.</summary>
internal static class CommandCatalog
{
    internal static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
        yield return TracePipeCommand.Create();
        yield return FeatureCommand.Create();
        yield return ObjCommand.Create();
        yield return BtfCommand.Create();
        yield return GenCommand.Create();
        yield return ProgCommand.Create();
        yield return MapCommand.Create();
        yield return LinkCommand.Create();
        yield return Tools.Execsnoop.ExecsnoopCommand.Create();
        yield return Tools.Syscount.SyscountCommand.Create();
        yield return Tools.Writesnoop.WritesnoopCommand.Create();
        yield return Tools.Run.RunCommand.Create();
        yield return Tools.Pagefaults.PagefaultsCommand.Create();
        yield return Tools.Profile.ProfileCommand.Create();
    }
}
