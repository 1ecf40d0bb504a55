using System.Text.Json;

namespace BpfSharp.Cli.Output;

/// <summary>Writes one JSON object per line to standard output (the --json form of live commands).</summary>
internal sealed class JsonLines : IDisposable
{
    private readonly Stream _stdout = Console.OpenStandardOutput();
    private readonly Utf8JsonWriter _writer;

    internal JsonLines()
    {
        // Relaxed escaping: this is terminal and pipe output, not HTML, so "<idle>" stays readable.
        _writer = new Utf8JsonWriter(_stdout, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Writes one object: <paramref name="fill"/> writes its properties.</summary>
    internal void Write(Action<Utf8JsonWriter> fill)
    {
        _writer.WriteStartObject();
        fill(_writer);
        _writer.WriteEndObject();
        _writer.Flush();
        _writer.Reset();
        _stdout.WriteByte((byte)'\n');
        _stdout.Flush();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _stdout.Dispose();
    }
}
