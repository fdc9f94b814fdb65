namespace FineTune.Training.Optim;

/// <summary>
/// Unsigned LEB128 integers, as TorchSharp writes the counts of its optimizer state files (its codec is internal, so
/// this small one is ours): 7 bits a byte, low bits first, the high bit set on every byte but the last.
/// </summary>
public static class Leb128
{
    public static void Write(BinaryWriter writer, long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        do
        {
            var low = (byte)(value & 0x7f);
            value >>= 7;
            writer.Write(value == 0 ? low : (byte)(low | 0x80));
        }
        while (value != 0);
    }

    public static long Read(BinaryReader reader)
    {
        long result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            result |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("a LEB128 integer runs past 64 bits");
    }
}
