using System.Runtime.InteropServices;
using System.Text;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// NFC/NFD/NFKC/NFKD that also work when the process runs with InvariantGlobalization (this repository's default),
/// where <see cref="string.Normalize(NormalizationForm)"/> silently returns its input. Uses string.Normalize when it
/// works, else the system ICU library directly (unorm2_*, probing the versioned symbol names as .NET itself does).
/// </summary>
internal static class UnicodeNormalization
{
    private delegate IntPtr GetInstance(ref int status);
    private delegate int NormalizeFn(IntPtr normalizer, ushort[] source, int length, ushort[] destination, int capacity, ref int status);

    private sealed record Icu(NormalizeFn Normalize, IntPtr Nfc, IntPtr Nfd, IntPtr Nfkc, IntPtr Nfkd);

    private static readonly bool BuiltInWorks = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";
    private static readonly Lazy<Icu?> IcuLibrary = new(LoadIcu);

    /// <summary>Whether normalization is available in this process (built in or through ICU).</summary>
    public static bool Available => BuiltInWorks || IcuLibrary.Value is not null;

    public static string Normalize(string text, NormalizationForm form)
    {
        if (text.Length == 0) return text;
        // Below U+0300 there are no combining marks and every character is already composed.
        if (form == NormalizationForm.FormC && text.All(c => c < '\u0300')) return text;
        if (BuiltInWorks) return text.Normalize(form);
        var icu = IcuLibrary.Value ?? throw new NotSupportedException(
            "This tokenizer's normalizer needs Unicode normalization, but the process runs with invariant globalization and no ICU library was found (install libicu).");
        var instance = form switch
        {
            NormalizationForm.FormC => icu.Nfc,
            NormalizationForm.FormD => icu.Nfd,
            NormalizationForm.FormKC => icu.Nfkc,
            _ => icu.Nfkd,
        };
        var source = new ushort[text.Length];
        MemoryMarshal.Cast<char, ushort>(text.AsSpan()).CopyTo(source);
        var capacity = text.Length * 3 + 16;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var destination = new ushort[capacity];
            var status = 0;
            var length = icu.Normalize(instance, source, source.Length, destination, capacity, ref status);
            if (status <= 0) return new string(MemoryMarshal.Cast<ushort, char>(destination.AsSpan(0, length)));
            if (status != 15) throw new InvalidOperationException($"ICU unorm2_normalize failed with status {status}.");
            capacity = length + 16; // U_BUFFER_OVERFLOW_ERROR: retry with the size ICU asked for
        }
        throw new InvalidOperationException("ICU unorm2_normalize kept asking for a larger buffer.");
    }

    private static Icu? LoadIcu()
    {
        foreach (var version in Enumerable.Range(50, 50).Reverse().Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(""))
        {
            var name = version.Length > 0 ? $"libicuuc.so.{version}" : "libicuuc.so";
            if (!NativeLibrary.TryLoad(name, out var handle)) continue;
            var suffix = version.Length > 0 ? "_" + version : "";
            if (!NativeLibrary.TryGetExport(handle, "unorm2_normalize" + suffix, out var normalize)) continue;
            IntPtr Instance(string fn)
            {
                if (!NativeLibrary.TryGetExport(handle, fn + suffix, out var p)) return IntPtr.Zero;
                var status = 0;
                var instance = Marshal.GetDelegateForFunctionPointer<GetInstance>(p)(ref status);
                return status <= 0 ? instance : IntPtr.Zero;
            }
            var nfc = Instance("unorm2_getNFCInstance");
            var nfd = Instance("unorm2_getNFDInstance");
            var nfkc = Instance("unorm2_getNFKCInstance");
            var nfkd = Instance("unorm2_getNFKDInstance");
            if (nfc == IntPtr.Zero || nfd == IntPtr.Zero || nfkc == IntPtr.Zero || nfkd == IntPtr.Zero) continue;
            return new Icu(Marshal.GetDelegateForFunctionPointer<NormalizeFn>(normalize), nfc, nfd, nfkc, nfkd);
        }
        return null;
    }
}
