using System.Globalization;

namespace BpfSharp.Tracing;

/// <summary>
/// The layout of a tracepoint's record, as its tracefs <c>format</c> file describes it: this is the
/// context a tracepoint program receives (<c>struct trace_event_raw_*</c>).
/// </summary>
/// <param name="Name">The event name.</param>
/// <param name="Id">The event id.</param>
/// <param name="CommonFields">The fields every event starts with (<c>common_type</c>, <c>common_pid</c>, ...).</param>
/// <param name="Fields">The event's own fields.</param>
/// <param name="PrintFormat">The <c>print fmt</c> line: how the kernel renders the record as text.</param>
public sealed record TraceEventFormat(
    string Name,
    ulong Id,
    IReadOnlyList<TraceEventField> CommonFields,
    IReadOnlyList<TraceEventField> Fields,
    string PrintFormat)
{
    /// <summary>Common fields then the event's own, in offset order.</summary>
    public IEnumerable<TraceEventField> AllFields => CommonFields.Concat(Fields);

    /// <summary>The size of the fixed part of the record (the end of the last field).</summary>
    public int RecordSize => AllFields.Select(f => f.Offset + f.Size).DefaultIfEmpty(0).Max();

    /// <summary>A field by name (common or own), or null.</summary>
    public TraceEventField? Field(string name) => AllFields.FirstOrDefault(f => f.Name == name);

    /// <summary>Parses the text of a tracefs <c>format</c> file.</summary>
    /// <exception cref="FormatException">The text is not a format file; the message names the bad line.</exception>
    public static TraceEventFormat Parse(string text)
    {
        string? name = null, printFormat = null;
        ulong id = 0;
        var common = new List<TraceEventField>();
        var own = new List<TraceEventField>();
        bool inFormat = false;
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.StartsWith("name:", StringComparison.Ordinal))
            {
                name = line[5..].Trim();
            }
            else if (line.StartsWith("ID:", StringComparison.Ordinal))
            {
                id = ulong.Parse(line[3..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line == "format:")
            {
                inFormat = true;
            }
            else if (line.StartsWith("print fmt:", StringComparison.Ordinal))
            {
                printFormat = line[10..].Trim();
                inFormat = false;
            }
            else if (inFormat && line.StartsWith("field:", StringComparison.Ordinal))
            {
                TraceEventField field = TraceEventField.Parse(line);
                (field.Name.StartsWith("common_", StringComparison.Ordinal) ? common : own).Add(field);
            }
        }
        if (name is null)
        {
            throw new FormatException("not a tracefs event format: no 'name:' line");
        }
        return new TraceEventFormat(name, id, common, own, printFormat ?? "");
    }
}

/// <summary>One field of a tracepoint record.</summary>
/// <param name="Name">The field name, such as <c>address</c>.</param>
/// <param name="Type">The C type as declared, without the name: <c>unsigned long</c>, <c>char[16]</c>, <c>const char *</c>.</param>
/// <param name="Offset">Byte offset in the record.</param>
/// <param name="Size">Size in bytes (for <c>__data_loc</c> fields, the 4-byte locator).</param>
/// <param name="IsSigned">Whether the kernel declares the value signed.</param>
/// <param name="ArrayLength">The element count of a fixed array field, else 0.</param>
/// <param name="IsDynamic">
/// A <c>__data_loc</c> field: the 4 bytes at <see cref="Offset"/> hold the data's offset in the
/// record (low 16 bits) and its length (high 16 bits).
/// </param>
public sealed record TraceEventField(string Name, string Type, int Offset, int Size, bool IsSigned, int ArrayLength, bool IsDynamic)
{
    internal static TraceEventField Parse(string line)
    {
        // field:unsigned long address;	offset:8;	size:8;	signed:0;
        string declaration = "";
        int offset = -1, size = -1;
        bool signed = false;
        foreach (string part in line.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = part.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }
            string key = part[..colon], value = part[(colon + 1)..].Trim();
            switch (key)
            {
                case "field": declaration = value; break;
                case "offset": offset = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "size": size = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "signed": signed = value == "1"; break;
            }
        }
        if (declaration.Length == 0 || offset < 0 || size < 0)
        {
            throw new FormatException($"bad tracefs field line: '{line}'");
        }

        bool dynamic = declaration.StartsWith("__data_loc ", StringComparison.Ordinal);
        if (dynamic)
        {
            declaration = declaration["__data_loc ".Length..].Trim();
        }
        // The name is the last identifier; an array suffix [N] may follow it.
        string text = declaration;
        int arrayLength = 0;
        string arraySuffix = "";
        if (text.EndsWith(']'))
        {
            int open = text.LastIndexOf('[');
            string count = text[(open + 1)..^1];
            arraySuffix = text[open..];
            if (count.Length > 0 && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                arrayLength = n;
            }
            text = text[..open].TrimEnd();
        }
        int start = text.Length;
        while (start > 0 && (char.IsLetterOrDigit(text[start - 1]) || text[start - 1] == '_'))
        {
            start--;
        }
        string name = text[start..];
        string type = text[..start].TrimEnd();
        if (dynamic && type.EndsWith("[]", StringComparison.Ordinal))
        {
            // "__data_loc char[] filename": the brackets sit on the type.
            arraySuffix = "[]";
            type = type[..^2];
        }
        if (name.Length == 0)
        {
            throw new FormatException($"bad tracefs field declaration: '{declaration}'");
        }
        return new TraceEventField(name, type + arraySuffix, offset, size, signed, arrayLength, dynamic);
    }
}
