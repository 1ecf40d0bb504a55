using BpfSharp.Kernel;

namespace BpfSharp.Tests;

/// <summary>
/// A test that needs the real kernel as root. Marked Category=Kernel (by the trait on the class
/// or method); skipped with a reason, not failed, where the process is not root.
/// </summary>
public sealed class KernelFactAttribute : FactAttribute
{
    public KernelFactAttribute()
    {
        if (LibC.GetEuid() != 0)
        {
            Skip = "needs root: run the suite with ./test.sh as root";
        }
    }
}

/// <summary>The theory form of <see cref="KernelFactAttribute"/>.</summary>
public sealed class KernelTheoryAttribute : TheoryAttribute
{
    public KernelTheoryAttribute()
    {
        if (LibC.GetEuid() != 0)
        {
            Skip = "needs root: run the suite with ./test.sh as root";
        }
    }
}
