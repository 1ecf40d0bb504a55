using System.Buffers.Binary;

namespace BpfSharp.Asm;

/// <summary>Converts between instructions and their 8-byte little-endian wire form (struct bpf_insn).</summary>
public static class InstructionEncoding
{
    /// <summary>Size of one instruction slot in bytes.</summary>
    public const int SlotSize = 8;

    /// <summary>Number of 8-byte slots the instructions occupy.</summary>
    public static int CountSlots(IEnumerable<Instruction> instructions) => instructions.Sum(i => i.Slots);

    /// <summary>Encodes instructions into the kernel's wire form.</summary>
    public static byte[] Encode(IReadOnlyList<Instruction> instructions)
    {
        byte[] bytes = new byte[CountSlots(instructions) * SlotSize];
        int offset = 0;
        foreach (Instruction instruction in instructions)
        {
            offset += Encode(instruction, bytes.AsSpan(offset));
        }
        return bytes;
    }

    /// <summary>Encodes one instruction; returns the number of bytes written (8 or 16).</summary>
    public static int Encode(Instruction instruction, Span<byte> destination)
    {
        if ((byte)instruction.Dst > 15 || (byte)instruction.Src > 15)
        {
            throw new ArgumentException($"register out of range in {instruction}", nameof(instruction));
        }
        destination[0] = instruction.OpCode;
        destination[1] = (byte)((byte)instruction.Dst | (byte)instruction.Src << 4);
        BinaryPrimitives.WriteInt16LittleEndian(destination[2..], instruction.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], unchecked((int)instruction.Constant));
        if (!instruction.IsLoadImm64)
        {
            return SlotSize;
        }
        // The second slot is all zero but for the high 32 bits of the constant.
        destination.Slice(8, 4).Clear();
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], unchecked((int)(instruction.Constant >> 32)));
        return 2 * SlotSize;
    }

    /// <summary>Decodes a sequence of instructions (a program section).</summary>
    /// <exception cref="FormatException">The length is not a multiple of 8, or an ld_imm64 is cut off.</exception>
    public static List<Instruction> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % SlotSize != 0)
        {
            throw new FormatException($"BPF code is {bytes.Length} bytes long, not a multiple of {SlotSize}");
        }
        var instructions = new List<Instruction>(bytes.Length / SlotSize);
        for (int offset = 0; offset < bytes.Length;)
        {
            Instruction instruction = Decode(bytes[offset..], out int size);
            instructions.Add(instruction);
            offset += size;
        }
        return instructions;
    }

    /// <summary>Decodes the instruction at the start of <paramref name="bytes"/>.</summary>
    public static Instruction Decode(ReadOnlySpan<byte> bytes, out int size)
    {
        if (bytes.Length < SlotSize)
        {
            throw new FormatException("truncated BPF instruction");
        }
        byte opCode = bytes[0];
        long constant = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        size = SlotSize;
        if (opCode == 0x18)
        {
            if (bytes.Length < 2 * SlotSize)
            {
                throw new FormatException("truncated ld_imm64: its second slot is missing");
            }
            long high = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
            constant = (long)((ulong)(uint)constant | (ulong)high << 32);
            size = 2 * SlotSize;
        }
        return new Instruction
        {
            OpCode = opCode,
            Dst = (Register)(bytes[1] & 0x0f),
            Src = (Register)(bytes[1] >> 4),
            Offset = BinaryPrimitives.ReadInt16LittleEndian(bytes[2..]),
            Constant = constant,
        };
    }
}
