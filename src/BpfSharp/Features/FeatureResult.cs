namespace BpfSharp.Features;

/// <summary>What probing found for one feature.</summary>
public enum FeatureStatus
{
    /// <summary>The kernel has the feature and lets this process use it.</summary>
    Supported,

    /// <summary>The kernel does not have the feature (too old, or configured without it).</summary>
    Unsupported,

    /// <summary>
    /// The kernel knows the feature but refuses it to this process even as root (EPERM): a
    /// lockdown or security policy, not a missing feature.
    /// </summary>
    Refused,

    /// <summary>The probe could not decide: the kernel answered in a way that says neither yes nor no.</summary>
    Error,
}

/// <summary>The outcome of one probe: a status and what it is based on.</summary>
/// <param name="Status">Whether the feature is there.</param>
/// <param name="Detail">What the probe saw: the kernel's error, a file's content, the verifier's words.</param>
public sealed record FeatureResult(FeatureStatus Status, string Detail)
{
    /// <summary>True when <see cref="Status"/> is <see cref="FeatureStatus.Supported"/>.</summary>
    public bool IsSupported => Status == FeatureStatus.Supported;

    internal static FeatureResult Supported(string detail = "") => new(FeatureStatus.Supported, detail);

    internal static FeatureResult Unsupported(string detail) => new(FeatureStatus.Unsupported, detail);

    internal static FeatureResult Refused(string detail) => new(FeatureStatus.Refused, detail);

    internal static FeatureResult Failed(string detail) => new(FeatureStatus.Error, detail);

    /// <inheritdoc />
    public override string ToString() => Detail.Length == 0 ? Status.ToString() : $"{Status}: {Detail}";
}
