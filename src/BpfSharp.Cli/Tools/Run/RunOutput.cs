using System.Globalization;
using System.Text.Json;
using BpfSharp.Btf;
using BpfSharp.Cli.Output;
using BpfSharp.Events;
using BpfSharp.Specs;

namespace BpfSharp.Cli.Tools.Run;

/// <summary>
/// Where <c>run</c> prints: events as they arrive and maps at exit, as text lines on standard output or as one JSON
/// object per line. Decisions about event types are reported once per buffer and record size, on standard error.
/// </summary>
internal sealed class RunOutput : IDisposable
{
    private readonly BtfSpec? _btf;
    private readonly JsonLines? _json;
    private readonly TextWriter _text;
    private readonly bool _ownsText;

    internal RunOutput(CollectionSpec spec, bool json, TextWriter? text = null)
    {
        _btf = spec.Btf;
        _json = json && text is null ? new JsonLines() : null;
        _ownsText = text is null;
        _text = text ?? ToolHost.BufferedStandardOutput();
        IsJson = json;
    }

    internal bool IsJson { get; }

    internal TextWriter Text => _text;

    /// <summary>Writes one JSON object line (or, for a test's writer, the object as text).</summary>
    internal void WriteJson(Action<Utf8JsonWriter> fill)
    {
        if (_json is not null)
        {
            _json.Write(fill);
            return;
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            fill(writer);
            writer.WriteEndObject();
        }
        _text.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>The handler for the records of the buffer <paramref name="map"/>.</summary>
    /// <param name="map">The buffer's map name.</param>
    /// <param name="named">The type the user named for it, if any.</param>
    /// <param name="perfPadded">True for perf event arrays, whose records may carry up to 7 bytes of padding.</param>
    /// <param name="types">Guesses the type from the record size when none was named.</param>
    internal RecordHandler HandlerFor(string map, int? named, bool perfPadded, EventTypes types)
    {
        var decided = new Dictionary<int, EventType>();
        return record =>
        {
            if (!decided.TryGetValue(record.Length, out EventType type))
            {
                type = named is int id ? new EventType(id, null) : types.Guess(map, record.Length, perfPadded);
                decided[record.Length] = type;
                if (type.TypeId == 0)
                {
                    Console.Error.WriteLine($"run: {map}: printing {record.Length}-byte records as hex: {type.Explanation}");
                }
                else if (_btf is not null && _btf.SizeOf(type.TypeId) > record.Length)
                {
                    Console.Error.WriteLine($"run: {map}: {record.Length}-byte records are shorter than {_btf[type.TypeId].Describe()} ({_btf.SizeOf(type.TypeId)} bytes); printing them as hex");
                    type = new EventType(0, "too short");
                    decided[record.Length] = type;
                }
            }
            WriteEvent(map, type.TypeId, record);
        };
    }

    /// <summary>Prints one record: its struct's fields by name, or hex.</summary>
    internal void WriteEvent(string map, int typeId, ReadOnlySpan<byte> record)
    {
        string time = DateTime.Now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
        if (IsJson)
        {
            byte[] copy = record.ToArray(); // the JSON writer runs in a callback, after the span's lifetime
            WriteJson(w =>
            {
                w.WriteString("time", time);
                w.WriteString("map", map);
                if (typeId != 0 && _btf is not null)
                {
                    w.WriteString("type", _btf[typeId].Name);
                    w.WritePropertyName("value");
                    BtfValue.WriteJson(w, _btf, typeId, copy);
                }
                else
                {
                    w.WriteString("hex", Convert.ToHexStringLower(copy));
                }
            });
            return;
        }
        string value = typeId != 0 && _btf is not null ? BtfValue.Format(_btf, typeId, record) : "0x" + Convert.ToHexStringLower(record);
        _text.WriteLine($"{time} {map} {value}");
    }

    /// <summary>Writes buffered text to standard output.</summary>
    internal void Flush() => _text.Flush();

    public void Dispose()
    {
        _json?.Dispose();
        _text.Flush();
        if (_ownsText)
        {
            _text.Dispose();
        }
    }
}
