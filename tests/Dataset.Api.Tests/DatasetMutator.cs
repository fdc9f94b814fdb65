using System.Text;

namespace Dataset.Api.Tests;

/// <summary>
/// Seeded mutations of a valid dataset, the ways real uploads go wrong or are made to: truncation, flipped and inserted
/// bytes, deep nesting, huge lines, another encoding (UTF-16 LE/BE with and without BOM, UTF-32, Latin-1), garbage.
/// The same seed gives the same bytes.
/// </summary>
internal static class DatasetMutator
{
    public const int Kinds = 9;

    public static (string Kind, byte[] Bytes) Mutate(byte[] valid, int seed)
    {
        var random = new Random(seed);
        var text = Encoding.UTF8.GetString(valid);
        return (seed % Kinds) switch
        {
            0 => ("truncated", valid[..random.Next(1, valid.Length)]),
            1 => ("byte flips", Flip(valid, random, 1 + random.Next(8))),
            2 => ("inserted bytes", Insert(valid, random)),
            3 => ("deep nesting", DeepNesting(random.Next(65, 20_000), random.Next(2) == 0)),
            4 => ("huge line", HugeLine(valid, random.Next(9, 20) * 1024 * 1024)),
            5 => Reencoded(text, random.Next(5)),
            6 => ("garbage", Garbage(random, random.Next(1, 64 * 1024))),
            7 => ("cut multi-byte character", CutMultiByte(valid, random)),
            _ => ("NUL and control bytes", Flip(valid, random, 1 + random.Next(4), (byte)random.Next(0, 32))),
        };
    }

    private static byte[] Flip(byte[] valid, Random random, int count, byte? value = null)
    {
        var bytes = (byte[])valid.Clone();
        for (var i = 0; i < count; i++) bytes[random.Next(bytes.Length)] = value ?? (byte)random.Next(256);
        return bytes;
    }

    private static byte[] Insert(byte[] valid, Random random)
    {
        var at = random.Next(valid.Length);
        byte[] junk = [0xC3, 0x28, 0xFF, 0xFE, (byte)random.Next(0x80, 0x100)];
        return [.. valid[..at], .. junk, .. valid[at..]];
    }

    private static byte[] DeepNesting(int depth, bool asArray)
    {
        var open = string.Concat(Enumerable.Repeat("{\"input\": [", depth));
        var close = string.Concat(Enumerable.Repeat("]}", depth));
        var record = "{\"input\": \"q\", \"output\": " + open + "1" + close + "}";
        return Encoding.UTF8.GetBytes(asArray ? "[\n" + record + "\n]" : "{\"input\": \"q\", \"output\": \"a\"}\n" + record + "\n");
    }

    private static byte[] HugeLine(byte[] valid, int size)
    {
        var line = new byte[size];
        Array.Fill(line, (byte)'x');
        "{\"input\": \"q\", \"output\": \""u8.CopyTo(line);
        "\"}\n"u8.CopyTo(line.AsSpan(size - 3));
        return [.. valid, (byte)'\n', .. line];
    }

    private static (string, byte[]) Reencoded(string text, int which) => which switch
    {
        0 => ("UTF-16 LE with BOM", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)]),
        1 => ("UTF-16 LE without BOM", Encoding.Unicode.GetBytes(text)),
        2 => ("UTF-16 BE with BOM", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes(text)]),
        3 => ("UTF-32 with BOM", [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes(text)]),
        _ => ("Latin-1", Encoding.Latin1.GetBytes(text + "\n{\"input\": \"caf\u00e9\", \"output\": \"cr\u00e8me br\u00fbl\u00e9e\"}\n")),
    };

    private static byte[] Garbage(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] CutMultiByte(byte[] valid, Random random)
    {
        byte[] cut = [.. Encoding.UTF8.GetBytes("{\"input\": \"日本"), 0xE8, .. Encoding.UTF8.GetBytes("\", \"output\": \"a\"}\n")];
        var at = random.Next(valid.Length);
        while (at < valid.Length && valid[at] != (byte)'\n') at++;
        return at >= valid.Length ? [.. valid, (byte)'\n', .. cut] : [.. valid[..(at + 1)], .. cut, .. valid[(at + 1)..]];
    }
}
