using System.Runtime.InteropServices;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The UnicodeScripts pre-tokenizer, as the Rust tokenizers library specifies it: a new piece starts wherever the Unicode
/// Script of a character differs from the last non-space character's; the space is script-less (it stays with the piece
/// before it), Hiragana, Katakana and U+30FC count as Han, and text before the first non-space character is dropped.
/// .NET does not expose the Script property, so it is read from the system ICU (uscript_getScript, versioned symbol
/// names probed as for <see cref="UnicodeNormalization"/>); without ICU the component is refused when loaded.
/// </summary>
internal sealed class UnicodeScriptsPreTokenizer : PreTokenizer
{
    private const int Any = -1;
    private const int Han = 17;       // USCRIPT_HAN
    private const int Hiragana = 20;  // USCRIPT_HIRAGANA
    private const int Katakana = 22;  // USCRIPT_KATAKANA

    private delegate int GetScript(int codePoint, ref int status);

    private static readonly Lazy<GetScript?> Icu = new(LoadIcu);
    private readonly GetScript _getScript;

    public UnicodeScriptsPreTokenizer(string where) =>
        _getScript = Icu.Value ?? throw new NotSupportedException($"{where}: needs the Unicode Script property, read from the system ICU library, which was not found (install libicu).");

    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        var s = text.Text;
        var boundaries = new List<int>();
        int? last = null;
        for (var i = 0; i < s.Length;)
        {
            var width = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            var script = Script(width == 2 ? char.ConvertToUtf32(s[i], s[i + 1]) : s[i]);
            if (script != Any && last != script) boundaries.Add(i);
            if (script != Any) last = script;
            i += width;
        }
        boundaries.Add(s.Length);
        for (var k = 0; k + 1 < boundaries.Count; k++)
            if (boundaries[k + 1] > boundaries[k]) output.Add(text.Slice(boundaries[k], boundaries[k + 1]));
    }

    private int Script(int cp)
    {
        if (cp == 0x30FC) return Han;
        if (cp == ' ') return Any;
        var status = 0;
        var script = _getScript(cp, ref status);
        return script is Hiragana or Katakana ? Han : script;
    }

    private static GetScript? LoadIcu()
    {
        foreach (var version in Enumerable.Range(50, 50).Reverse().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(""))
        {
            var name = version.Length > 0 ? $"libicuuc.so.{version}" : "libicuuc.so";
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            var suffix = version.Length > 0 ? "_" + version : "";
            if (NativeLibrary.TryGetExport(handle, "uscript_getScript" + suffix, out var fn))
                return Marshal.GetDelegateForFunctionPointer<GetScript>(fn);
        }
        return null;
    }
}
