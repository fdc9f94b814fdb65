using System.Runtime.InteropServices;
using FineTune.Export.Gguf;
using FineTune.Formats.Gguf;
using FineTune.Models.Tiny;

namespace FineTune.Export.Tests;

/// <summary>
/// A quantized export is what llama-quantize makes of our unquantized export: llama.cpp's own llama_model_quantize (from
/// the libllama that node-llama-cpp ships, called in-process) turns each family's GGUF in the checkpoint's own precision
/// (F32 for the tiny models, as llama.cpp's converter writes them with --outtype f32) into Q8_0, Q4_0 and Q4_K_M, and
/// every tensor's type and bytes must equal our direct export's. That checks the Q4_K_M mix (which tensors get Q6_K,
/// the fallbacks for rows that are not a multiple of 256) as well as the block math. Two sizes: nano (rows of 64, so
/// every K-quant falls back) and small (rows of 256, four layers).
/// </summary>
public sealed class LlamaQuantizeParityTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var family in TinyFamily.Names)
            foreach (var preset in new[] { "nano", "small" })
                foreach (var type in new[] { "q8_0", "q4_0", "q4_k_m" }) data.Add(family, preset, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OurExportEqualsLlamaQuantizeOfOurF32Export(string family, string preset, string type)
    {
        using var dir = new TempDirectory("llama-quantize");
        var folder = Path.Combine(dir.Path, "hf");
        TinyModel.Write(folder, seed: 13, TinyModelPreset.Named(preset), family: family);
        var fileType = GgufFileType.Parse(type);
        var f32 = Export(folder, dir.File("f32.gguf"), GgufFileType.F32);   // the checkpoint is F32: an F16 file would round the input first
        var ours = Export(folder, dir.File("ours.gguf"), fileType);
        var theirs = dir.File("llama-quantize.gguf");
        LlamaQuantize.Run(f32, theirs, fileType.FileType);

        using var a = GgufReader.Open(ours);
        using var b = GgufReader.Open(theirs);
        Assert.Equal(a.Tensors.Select(t => t.Name).Order(), b.Tensors.Select(t => t.Name).Order());
        foreach (var t in a.Tensors)
        {
            var expected = b.Tensor(t.Name);
            Assert.True(expected.Type == t.Type, $"{family} {preset} {type}: '{t.Name}' is {t.Type} in ours, {expected.Type} from llama-quantize");
            Assert.True(b.ReadTensorBytes(expected).AsSpan().SequenceEqual(a.ReadTensorBytes(t)), $"{family} {preset} {type}: '{t.Name}' ({t.Type}) differs from llama-quantize's bytes");
        }
    }

    /// <summary>general.name must not contain "phi3": llama.cpp would then expect Phi-3's SentencePiece tokens.</summary>
    private static string Export(string folder, string path, GgufFileType type) =>
        new HfToGgufConverter { Verify = true, ModelName = "ft tiny" }.Convert(folder, path, type).Path;

    /// <summary>llama_model_quantize(input, output, params) with llama.cpp's default parameters but the file type and two threads.</summary>
    private static class LlamaQuantize
    {
        /// <summary>The leading fields of llama_model_quantize_params; Size leaves room for the rest, which keeps its defaults.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 256)]
        private struct Params
        {
            public int Threads;
            public uint FileType;
        }

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate void BackendInit();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate Params DefaultParams();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate uint Quantize([MarshalAs(UnmanagedType.LPUTF8Str)] string input, [MarshalAs(UnmanagedType.LPUTF8Str)] string output, ref Params parameters);

        private static readonly Lazy<(DefaultParams Defaults, Quantize Quantize)> Library = new(Load);

        public static void Run(string input, string output, LlamaFileType type)
        {
            var parameters = Library.Value.Defaults();
            parameters.Threads = 2;
            parameters.FileType = (uint)type;
            var rc = Library.Value.Quantize(input, output, ref parameters);
            Assert.True(rc == 0, $"llama_model_quantize returned {rc} for {input}");
        }

        private static (DefaultParams, Quantize) Load()
        {
            var folder = Repo.LlamaCppLibraries;
            var path = Directory.Exists(folder)
                ? Directory.EnumerateFiles(folder, "libllama*.so").FirstOrDefault(p => !Path.GetFileName(p).StartsWith("libllama-", StringComparison.Ordinal))
                : null;
            if (path is null)
                throw new FileNotFoundException($"llama.cpp's libllama is not in {folder}: node-llama-cpp is installed by eng/prereqs.sh (./test.sh runs it).");
            var library = NativeLibrary.Load(path);
            Marshal.GetDelegateForFunctionPointer<BackendInit>(NativeLibrary.GetExport(library, "llama_backend_init"))();
            return (Marshal.GetDelegateForFunctionPointer<DefaultParams>(NativeLibrary.GetExport(library, "llama_model_quantize_default_params")),
                Marshal.GetDelegateForFunctionPointer<Quantize>(NativeLibrary.GetExport(library, "llama_model_quantize")));
        }
    }
}
