using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BpfSharp.Cli.Output;

/// <summary>
/// The --json form of one-shot commands (<c>feature probe</c>, <c>obj info</c>, <c>obj load</c>): one indented JSON
/// document with snake_case keys, written in one piece so that a failure half way prints nothing partial.
/// </summary>
internal static class JsonOutput
{
    /// <summary>Writes one JSON object: <paramref name="fill"/> writes its properties.</summary>
    internal static void WriteDocument(TextWriter output, Action<Utf8JsonWriter> fill)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping: terminal and pipe output, not HTML, so "<idle>" and "->" stay readable.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            fill(writer);
            writer.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>The lower-case snake_case name of a BpfSharp enum value (KernelFeature.VmlinuxBtf is vmlinux_btf), for values that have no UAPI name.</summary>
    internal static string SnakeName<TEnum>(TEnum value) where TEnum : struct, Enum
    {
        string text = value.ToString();
        var name = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsUpper(c) && i > 0)
            {
                name.Append('_');
            }
            name.Append(char.ToLowerInvariant(c));
        }
        return name.ToString();
    }

    /// <summary>Writes <paramref name="value"/> as a string property, or null when it is null or empty.</summary>
    internal static void WriteStringOrNull(this Utf8JsonWriter writer, string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
