using System.Text.RegularExpressions;
using BpfSharp.Asm;
using BpfSharp.Kernel;
using BpfSharp.Maps;
using BpfSharp.Programs;

namespace BpfSharp.Tests.Kernel;

public class UapiNamesTests
{
    // The machine's UAPI header (older than the one the enums come from): every name it has must match.
    private const string Header = "/usr/include/linux/bpf.h";

    [Fact]
    public void ProgramAndMapTypeNamesAreTheUapiNames()
    {
        string text = File.ReadAllText(Header);
        foreach ((string name, int value) in EnumItems(text, "bpf_prog_type", "BPF_PROG_TYPE_"))
        {
            Assert.Equal(name, UapiNames.Name((ProgramType)value));
        }
        foreach ((string name, int value) in EnumItems(text, "bpf_map_type", "BPF_MAP_TYPE_"))
        {
            Assert.Equal(name, UapiNames.Name((MapType)value));
        }
        foreach ((string name, int value) in EnumItems(text, "bpf_attach_type", "BPF_"))
        {
            Assert.Equal(name, UapiNames.Name((AttachType)value));
        }
    }

    [Fact]
    public void HelperNamesAreTheCNames()
    {
        string text = File.ReadAllText(Header);
        string mapper = Regex.Match(text, @"#define (?:___)?__BPF_FUNC_MAPPER\(FN(?:, ctx\.\.\.)?\)(.*?)\n\n", RegexOptions.Singleline).Groups[1].Value;
        MatchCollection helpers = Regex.Matches(mapper, @"FN\((\w+)(?:,\s*(\d+))?");
        Assert.True(helpers.Count > 150);
        for (int i = 1; i < helpers.Count; i++) // 0 is unspec
        {
            int id = helpers[i].Groups[2].Success ? int.Parse(helpers[i].Groups[2].Value) : i;
            Assert.Equal("bpf_" + helpers[i].Groups[1].Value, UapiNames.Name((HelperFunction)id));
        }
    }

    [Fact]
    public void NamesParseBackAndUnknownValuesStayReadable()
    {
        Assert.Equal(ProgramType.SocketFilter, UapiNames.ParseProgramType("socket_filter"));
        Assert.Equal(ProgramType.Xdp, UapiNames.ParseProgramType("XDP"));
        Assert.Equal(MapType.RingBuf, UapiNames.ParseMapType("ringbuf"));
        Assert.Null(UapiNames.ParseProgramType("no_such_type"));
        Assert.Equal("prog_type_999", UapiNames.Name((ProgramType)999));
    }

    private static IEnumerable<(string Name, int Value)> EnumItems(string text, string enumName, string prefix)
    {
        string body = Regex.Match(text, "enum " + enumName + @" \{(.*?)\n\};", RegexOptions.Singleline).Groups[1].Value;
        body = Regex.Replace(body, @"/\*.*?\*/", "", RegexOptions.Singleline);
        int next = 0;
        foreach (string raw in body.Split(','))
        {
            string item = Regex.Replace(raw, "//.*", "").Trim();
            if (item.Length == 0)
            {
                continue;
            }
            string[] parts = item.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && int.TryParse(parts[1], out int explicitValue))
            {
                next = explicitValue;
            }
            string name = parts[0];
            int value = next++;
            if (name.StartsWith("__", StringComparison.Ordinal) || name.EndsWith("_DEPRECATED", StringComparison.Ordinal) || !name.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            yield return (name[prefix.Length..].ToLowerInvariant(), value);
        }
    }
}
