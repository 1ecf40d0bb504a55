using System.Globalization;
using System.Text;

namespace BpfSharp.Cli.Tools.Profile;

/// <summary>
/// A flame graph drawn as a static SVG, no library and no script: the stacks merged into a tree from a root
/// (<c>all</c>) through the command name to the innermost frames, one rectangle per frame, as wide as its share of
/// the samples and stacked upwards from the root, with the name written in it (clipped to the width) and a tooltip
/// (<c>&lt;title&gt;</c>) giving the full name, its samples and its percentage. Siblings are in name order, as
/// flamegraph.pl draws them, so the x axis is not time. Kernel frames are drawn in orange, user frames in red to yellow.
/// </summary>
internal static class FlameGraphSvg
{
    internal const int Width = 1200;
    internal const int FrameHeight = 16;
    private const int Margin = 10;
    private const int TitleHeight = 44;
    private const int FooterHeight = 20;
    private const double CharWidth = 6.6;   // average advance of 11px monospace
    private const double MinFrameWidth = 0.1;

    /// <summary>A node of the merged stack tree.</summary>
    internal sealed class Node(string name, bool isKernel)
    {
        internal string Name { get; } = name;
        internal bool IsKernel { get; } = isKernel;
        internal ulong Count { get; set; }
        internal SortedDictionary<(string, bool), Node> Children { get; } = new(Comparer<(string, bool)>.Create(
            static (a, b) => { int c = string.CompareOrdinal(a.Item1, b.Item1); return c != 0 ? c : a.Item2.CompareTo(b.Item2); }));

        internal int Depth => Children.Count == 0 ? 1 : 1 + Children.Values.Max(c => c.Depth);
    }

    /// <summary>Merges the stacks into a tree: root <c>all</c>, then the command name, then the frames outer to inner.</summary>
    internal static Node BuildTree(IEnumerable<ProfileStack> stacks)
    {
        var root = new Node("all", false);
        foreach (ProfileStack stack in stacks)
        {
            root.Count += stack.Count;
            Node node = Child(root, stack.Comm, false);
            node.Count += stack.Count;
            foreach (StackFrame frame in stack.Frames)
            {
                node = Child(node, frame.Name, frame.IsKernel);
                node.Count += stack.Count;
            }
        }
        return root;
    }

    private static Node Child(Node parent, string name, bool isKernel)
    {
        if (!parent.Children.TryGetValue((name, isKernel), out Node? child))
        {
            child = new Node(name, isKernel);
            parent.Children.Add((name, isKernel), child);
        }
        return child;
    }

    /// <summary>Writes the flame graph of <paramref name="stacks"/> to <paramref name="writer"/>.</summary>
    /// <param name="writer">Where the SVG goes.</param>
    /// <param name="stacks">The stacks.</param>
    /// <param name="title">The heading (the totals are added below it).</param>
    internal static void Write(TextWriter writer, IEnumerable<ProfileStack> stacks, string title)
    {
        Node root = BuildTree(stacks);
        int depth = root.Depth;
        int height = TitleHeight + depth * FrameHeight + FooterHeight;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\">\n");
        svg.Append("<style>text { font-family: monospace; font-size: 11px; fill: #000; } .title { font-size: 16px; } .sub { font-size: 12px; fill: #555; }</style>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"0\" y=\"0\" width=\"{Width}\" height=\"{height}\" fill=\"#f8f8f8\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"title\" x=\"{Width / 2}\" y=\"20\" text-anchor=\"middle\">{Escape(title)}</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"sub\" x=\"{Width / 2}\" y=\"36\" text-anchor=\"middle\">{root.Count} samples; width is the share of samples, the root at the bottom; hover a frame for its name and count</text>\n");
        if (root.Count > 0)
        {
            double scale = (Width - 2.0 * Margin) / root.Count;
            DrawNode(svg, root, Margin, height - FooterHeight - FrameHeight, scale, root.Count, isRoot: true);
        }
        svg.Append("</svg>\n");
        writer.Write(svg.ToString());
    }

    private static void DrawNode(StringBuilder svg, Node node, double x, double y, double scale, ulong total, bool isRoot = false)
    {
        double width = node.Count * scale;
        if (width < MinFrameWidth)
        {
            return;
        }
        string label = node.IsKernel ? node.Name + StackFrame.KernelSuffix : node.Name;
        double percent = 100.0 * node.Count / total;
        svg.Append("<g><title>").Append(Escape(label)).Append(CultureInfo.InvariantCulture, $" ({node.Count} samples, {percent:0.##}%)</title>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{width:0.##}\" height=\"{FrameHeight - 1}\" fill=\"{Colour(node, isRoot)}\" rx=\"2\" ry=\"2\"/>");
        string text = Clip(label, width);
        if (text.Length > 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 3:0.##}\" y=\"{y + FrameHeight - 4.5:0.##}\">{Escape(text)}</text>");
        }
        svg.Append("</g>\n");
        double childX = x;
        foreach (Node child in node.Children.Values)
        {
            DrawNode(svg, child, childX, y - FrameHeight, scale, total);
            childX += child.Count * scale;
        }
    }

    /// <summary>The part of <paramref name="name"/> that fits in <paramref name="width"/> pixels: all of it, a prefix and "..", or nothing.</summary>
    internal static string Clip(string name, double width)
    {
        int fits = (int)((width - 6) / CharWidth);
        if (fits >= name.Length)
        {
            return name;
        }
        return fits < 3 ? "" : name[..(fits - 2)] + "..";
    }

    /// <summary>A stable colour per name: kernel frames orange, user frames red to yellow (the classic "hot" palette).</summary>
    private static string Colour(Node node, bool isRoot)
    {
        if (isRoot)
        {
            return "rgb(200,200,200)";
        }
        uint hash = 2166136261;
        foreach (char c in node.Name)
        {
            hash = (hash ^ c) * 16777619;
        }
        double v1 = (hash & 0xff) / 255.0, v2 = ((hash >> 8) & 0xff) / 255.0, v3 = ((hash >> 16) & 0xff) / 255.0;
        return node.IsKernel
            ? string.Create(CultureInfo.InvariantCulture, $"rgb({(int)(220 + 35 * v1)},{(int)(120 + 60 * v2)},{(int)(20 + 40 * v3)})")
            : string.Create(CultureInfo.InvariantCulture, $"rgb({(int)(205 + 50 * v3)},{(int)(230 * v1)},{(int)(55 * v2)})");
    }

    /// <summary>Escapes text for XML content and attribute values.</summary>
    internal static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '"': escaped.Append("&quot;"); break;
                case '\'': escaped.Append("&apos;"); break;
                default:
                    // Control characters are not allowed in XML 1.0.
                    escaped.Append(c < 0x20 && c is not ('\t' or '\n' or '\r') ? '?' : c);
                    break;
            }
        }
        return escaped.ToString();
    }
}
