using System.Globalization;
using SkiaSharp;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>
/// Draws a <see cref="HeatmapLayout"/> as a PNG with SkiaSharp: address buckets (y, lowest address at the bottom)
/// against time (x), colour by fault count on a log scale, one labelled band per mapping, and a colour scale.
/// This is the only class that touches SkiaSharp, whose native library (libSkiaSharp.so) is the one native
/// dependency of the CLI: when it cannot load, --heatmap fails with an explanation and nothing else is affected.
/// </summary>
internal static class HeatmapImage
{
    /// <summary>The default image size.</summary>
    internal const int DefaultWidth = 1200, DefaultHeight = 800;

    private const float Left = 250, Right = 120, Top = 48, Bottom = 56;

    private static readonly string[] FontCandidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
        "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    ];

    // The colour scale, low to high ("inferno"-like: dark purple, red, orange, pale yellow).
    private static readonly (float At, byte R, byte G, byte B)[] Scale =
    [
        (0f, 40, 11, 84), (0.25f, 101, 21, 110), (0.5f, 188, 55, 84), (0.75f, 249, 142, 9), (1f, 252, 255, 164),
    ];

    /// <summary>Fails now, before tracing starts, when SkiaSharp's native library cannot load.</summary>
    /// <exception cref="ToolException">libSkiaSharp.so cannot load; the message says why and what to do.</exception>
    internal static void EnsureAvailable()
    {
        try
        {
            using var bitmap = new SKBitmap(1, 1);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>The rows the plot area of an image of this height has room for (at least two pixels each).</summary>
    internal static int MaxRows(int height) => Math.Max(1, (int)((height - Top - Bottom) / 2));

    /// <summary>The columns the plot area of an image of this width has room for (at least two pixels each).</summary>
    internal static int MaxColumns(int width) => Math.Max(1, (int)((width - Left - Right) / 2));

    /// <summary>The smallest size that leaves room for the labels.</summary>
    internal const int MinWidth = 400, MinHeight = 200;

    /// <summary>Writes the heatmap to <paramref name="path"/> as a PNG of <paramref name="width"/> x <paramref name="height"/> pixels.</summary>
    /// <exception cref="ToolException">SkiaSharp cannot load, or the file cannot be written.</exception>
    internal static void Write(string path, HeatmapLayout layout, int width, int height, string title)
    {
        try
        {
            Draw(path, layout, width, height, title);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>The colour of a cell: white when empty, else the scale at log(count)/log(max).</summary>
    internal static SKColor ColorOf(uint count, uint max)
    {
        if (count == 0)
        {
            return SKColors.White;
        }
        float t = max <= 1 ? 1f : (float)(Math.Log(count) / Math.Log(max));
        return ScaleAt(t);
    }

    private static SKColor ScaleAt(float t)
    {
        t = Math.Clamp(t, 0f, 1f);
        for (int i = 1; i < Scale.Length; i++)
        {
            if (t <= Scale[i].At)
            {
                (float a, byte r0, byte g0, byte b0) = Scale[i - 1];
                (float b, byte r1, byte g1, byte b1) = Scale[i];
                float f = (t - a) / (b - a);
                return new SKColor((byte)(r0 + (r1 - r0) * f), (byte)(g0 + (g1 - g0) * f), (byte)(b0 + (b1 - b0) * f));
            }
        }
        return new SKColor(Scale[^1].R, Scale[^1].G, Scale[^1].B);
    }

    private static void Draw(string path, HeatmapLayout layout, int width, int height, string title)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new ToolException($"cannot create a {width}x{height} image for the heatmap");
        SKCanvas canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using SKTypeface typeface = LoadTypeface();
        using var font = new SKFont(typeface, 12);
        using var titleFont = new SKFont(typeface, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var grey = new SKPaint { Color = new SKColor(120, 120, 120), StrokeWidth = 1, IsAntialias = true };
        using var separator = new SKPaint { Color = new SKColor(215, 215, 215), StrokeWidth = 1, IsAntialias = false };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = false };

        var plot = new SKRect(Left, Top, width - Right, height - Bottom);
        float rowHeight = plot.Height / layout.RowCount;
        float columnWidth = plot.Width / layout.ColumnCount;

        canvas.DrawText(title, width / 2f, 24, SKTextAlign.Center, titleFont, ink);

        // Cells: row 0 (lowest address) at the bottom.
        for (int row = 0; row < layout.RowCount; row++)
        {
            float y1 = plot.Bottom - row * rowHeight;
            float y0 = y1 - rowHeight;
            for (int column = 0; column < layout.ColumnCount; column++)
            {
                uint count = layout.Counts[row, column];
                if (count == 0)
                {
                    continue;
                }
                fill.Color = ColorOf(count, layout.MaxCount);
                float x0 = plot.Left + column * columnWidth;
                // Snap to pixels, at least one pixel wide and high, so a lone fault stays visible.
                canvas.DrawRect(SKRect.Create(MathF.Floor(x0), MathF.Floor(y0), MathF.Max(1, MathF.Ceiling(columnWidth)), MathF.Max(1, MathF.Ceiling(rowHeight))), fill);
            }
        }

        // Bands: a line between mappings (the collapsed gaps), the mapping's name and address range at the left.
        foreach (HeatmapBand band in layout.Bands)
        {
            float bottom = plot.Bottom - band.FirstRow * rowHeight;
            float top = bottom - band.Rows * rowHeight;
            canvas.DrawLine(plot.Left, top, plot.Right, top, separator);
            canvas.DrawLine(plot.Left - 6, top, plot.Left, top, grey);
            if (bottom - top >= 12)
            {
                string name = Fit(Path.GetFileName(band.Label.TrimEnd('/')) is { Length: > 0 } file ? file : band.Label, font, Left - 40); // clear of the rotated axis title
                float middle = (top + bottom) / 2;
                canvas.DrawText(name, plot.Left - 8, bottom - top >= 26 ? middle - 2 : middle + 4, SKTextAlign.Right, font, ink);
                if (bottom - top >= 26)
                {
                    canvas.DrawText($"0x{band.Low:x}", plot.Left - 8, middle + 12, SKTextAlign.Right, font, grey);
                }
            }
        }
        canvas.DrawLine(plot.Left - 6, plot.Bottom, plot.Right, plot.Bottom, grey);

        // Frame and time axis.
        using var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(plot, frame);
        double seconds = Math.Max(layout.Seconds, 1e-3);
        double step = NiceStep(seconds / 8);
        for (double t = 0; t <= seconds + step / 1000; t += step)
        {
            float x = plot.Left + (float)(t / seconds) * plot.Width;
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + 5, frame);
            canvas.DrawText(FormatSeconds(t, step), x, plot.Bottom + 18, SKTextAlign.Center, font, ink);
        }
        canvas.DrawText("time since start (s)", plot.MidX, height - 12, SKTextAlign.Center, font, ink);
        canvas.Save();
        canvas.RotateDegrees(-90, 14, plot.MidY);
        canvas.DrawText("address (pages that faulted, by mapping; gaps collapsed)", 14, plot.MidY + 4, SKTextAlign.Center, font, ink);
        canvas.Restore();

        // Colour scale.
        var bar = new SKRect(width - Right + 30, plot.Top, width - Right + 48, plot.Bottom);
        for (int y = 0; y < (int)bar.Height; y++)
        {
            fill.Color = ScaleAt(1f - y / bar.Height);
            canvas.DrawRect(SKRect.Create(bar.Left, bar.Top + y, bar.Width, 1), fill);
        }
        canvas.DrawRect(bar, frame);
        uint max = Math.Max(layout.MaxCount, 1);
        canvas.DrawText(max.ToString(CultureInfo.InvariantCulture), bar.Right + 4, bar.Top + 10, SKTextAlign.Left, font, ink);
        if (max > 3)
        {
            uint middle = (uint)Math.Round(Math.Sqrt(max));
            canvas.DrawText(middle.ToString(CultureInfo.InvariantCulture), bar.Right + 4, bar.MidY + 4, SKTextAlign.Left, font, ink);
        }
        canvas.DrawText("1", bar.Right + 4, bar.Bottom, SKTextAlign.Left, font, ink);
        canvas.DrawText("faults", bar.MidX, bar.Top - 8, SKTextAlign.Center, font, ink);
        canvas.DrawText("(log)", bar.MidX, bar.Bottom + 18, SKTextAlign.Center, font, ink);

        using SKImage image = surface.Snapshot();
        using SKData png = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new ToolException("SkiaSharp could not encode the heatmap as PNG");
        try
        {
            using FileStream file = File.Create(path);
            png.SaveTo(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolException($"cannot write the heatmap to {path}: {e.Message}");
        }
    }

    private static SKTypeface LoadTypeface()
    {
        foreach (string candidate in FontCandidates)
        {
            if (File.Exists(candidate) && SKTypeface.FromFile(candidate) is SKTypeface typeface)
            {
                return typeface;
            }
        }
        Console.Error.WriteLine("pagefaults: no TrueType font found (install fonts-dejavu-core): the heatmap's labels may be missing");
        return SKTypeface.Default;
    }

    private static string Fit(string text, SKFont font, float width)
    {
        if (font.MeasureText(text) <= width)
        {
            return text;
        }
        while (text.Length > 1 && font.MeasureText("…" + text) > width)
        {
            text = text[1..];
        }
        return "…" + text;
    }

    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double fraction = rough / power;
        return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    }

    private static string FormatSeconds(double seconds, double step) =>
        seconds.ToString(step >= 1 ? "0" : step >= 0.1 ? "0.0" : step >= 0.01 ? "0.00" : "0.000", CultureInfo.InvariantCulture);

    private static ToolException Unavailable(Exception e)
    {
        // The loader's message lists every path it tried: the first line says enough.
        string reason = e.GetBaseException().Message.Split('\n')[0].Trim();
        int advice = reason.IndexOf(" In order to help", StringComparison.Ordinal);
        reason = advice > 0 ? reason[..advice] : reason;
        return new ToolException($"cannot draw the heatmap: SkiaSharp's native library (libSkiaSharp.so) did not load: {reason} "
            + "bpfsharp carries it as runtimes/RID/native/libSkiaSharp.so (package SkiaSharp.NativeAssets.Linux.NoDependencies, built for glibc and musl on x64, arm64 and arm); "
            + "reinstall bpfsharp for this machine's architecture, or run without --heatmap.");
    }
}
