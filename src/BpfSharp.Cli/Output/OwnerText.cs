using System.Text.Json;
using BpfSharp.Kernel;

namespace BpfSharp.Cli.Output;

/// <summary>How the <c>prog</c>, <c>map</c> and <c>link</c> listings show who keeps an object alive.</summary>
internal static class OwnerText
{
    /// <summary>"comm(pid), comm(pid)", or "-" when no process holds the object.</summary>
    internal static string Holders(BpfObjectOwners owners, BpfObjectKind kind, uint id)
    {
        IReadOnlyList<BpfObjectHolder> holders = owners.Holders(kind, id);
        return holders.Count == 0 ? "-" : string.Join(", ", holders.Select(h => $"{h.Command}({h.Pid})"));
    }

    /// <summary>The pin paths, comma-separated, or "-".</summary>
    internal static string Pins(BpfObjectOwners owners, BpfObjectKind kind, uint id)
    {
        IReadOnlyList<string> pins = owners.Pins(kind, id);
        return pins.Count == 0 ? "-" : string.Join(", ", pins);
    }

    /// <summary>Writes <c>"pids": [{"pid": N, "comm": "..."}...], "pinned": ["..."]</c>.</summary>
    internal static void WriteJson(Utf8JsonWriter json, BpfObjectOwners owners, BpfObjectKind kind, uint id)
    {
        json.WriteStartArray("pids");
        foreach (BpfObjectHolder holder in owners.Holders(kind, id))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", holder.Pid);
            json.WriteString("comm", holder.Command);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("pinned");
        foreach (string pin in owners.Pins(kind, id))
        {
            json.WriteStringValue(pin);
        }
        json.WriteEndArray();
    }
}
