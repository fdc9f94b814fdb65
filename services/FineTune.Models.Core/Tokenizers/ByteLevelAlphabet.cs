namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// GPT-2's reversible byte ↔ printable-character table used by byte-level BPE: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 upwards in byte order.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    public static char Encode(byte b) => ByteToChar[b];

    public static bool TryDecode(char c, out byte b) => CharToByte.TryGetValue(c, out b);

    private static char[] Build()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }
}
