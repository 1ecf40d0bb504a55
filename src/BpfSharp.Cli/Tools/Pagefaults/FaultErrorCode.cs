using System.Text;

namespace BpfSharp.Cli.Tools.Pagefaults;

/// <summary>The bits of the x86 page-fault error code (the hardware pushes it; exceptions:page_fault_user reports it).</summary>
[Flags]
internal enum X86FaultBits : uint
{
    /// <summary>P: the page was present, so this is a protection violation; clear: the page was not present.</summary>
    Present = 1 << 0,
    /// <summary>W/R: the access was a write; clear: a read (or an instruction fetch, see <see cref="InstructionFetch"/>).</summary>
    Write = 1 << 1,
    /// <summary>U/S: the access came from user mode.</summary>
    User = 1 << 2,
    /// <summary>RSVD: a reserved bit was set in a page-table entry.</summary>
    ReservedBit = 1 << 3,
    /// <summary>I/D: the access was an instruction fetch.</summary>
    InstructionFetch = 1 << 4,
    /// <summary>PK: a protection-key violation.</summary>
    ProtectionKey = 1 << 5,
    /// <summary>SS: a shadow-stack access.</summary>
    ShadowStack = 1 << 6,
    /// <summary>SGX: an SGX enclave access-control violation.</summary>
    Sgx = 1 << 15,
}

/// <summary>What kind of access faulted: the three counters the tool keeps.</summary>
internal enum FaultAccess
{
    Read,
    Write,
    Execute,
}

/// <summary>Decodes an x86 page-fault error code.</summary>
internal static class FaultErrorCode
{
    /// <summary>Read, write or execute: an instruction fetch wins over W/R (which is clear for fetches).</summary>
    internal static FaultAccess Access(uint errorCode) =>
        (errorCode & (uint)X86FaultBits.InstructionFetch) != 0 ? FaultAccess.Execute
        : (errorCode & (uint)X86FaultBits.Write) != 0 ? FaultAccess.Write
        : FaultAccess.Read;

    /// <summary>True when the page was present (a protection fault, such as copy-on-write); false when it was not (a first touch, a swapped-out or evicted page).</summary>
    internal static bool IsProtection(uint errorCode) => (errorCode & (uint)X86FaultBits.Present) != 0;

    /// <summary>A readable description: <c>write, not-present, user</c>, then any further bits by name.</summary>
    internal static string Describe(uint errorCode)
    {
        var text = new StringBuilder();
        text.Append(Access(errorCode) switch
        {
            FaultAccess.Execute => "exec",
            FaultAccess.Write => "write",
            _ => "read",
        });
        text.Append(IsProtection(errorCode) ? ", protection" : ", not-present");
        text.Append((errorCode & (uint)X86FaultBits.User) != 0 ? ", user" : ", kernel");
        if ((errorCode & (uint)X86FaultBits.ReservedBit) != 0)
        {
            text.Append(", reserved-bit");
        }
        if ((errorCode & (uint)X86FaultBits.ProtectionKey) != 0)
        {
            text.Append(", protection-key");
        }
        if ((errorCode & (uint)X86FaultBits.ShadowStack) != 0)
        {
            text.Append(", shadow-stack");
        }
        if ((errorCode & (uint)X86FaultBits.Sgx) != 0)
        {
            text.Append(", sgx");
        }
        uint known = (uint)(X86FaultBits.Present | X86FaultBits.Write | X86FaultBits.User | X86FaultBits.ReservedBit
            | X86FaultBits.InstructionFetch | X86FaultBits.ProtectionKey | X86FaultBits.ShadowStack | X86FaultBits.Sgx);
        if ((errorCode & ~known) != 0)
        {
            text.Append(", other bits 0x").Append((errorCode & ~known).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
