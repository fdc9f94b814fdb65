using System.Runtime.InteropServices;
using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Formats.Tests.Gguf;

/// <summary>
/// Our quantizers write the bytes llama.cpp's own quantizer writes: ggml_quantize_chunk from the libggml-base.so that
/// node-llama-cpp ships (eng/node, installed by eng/prereqs.sh), called on the same floats. The scalar reference in
/// this project is our reading of ggml-quants.c; this checks that reading against the compiled original.
/// </summary>
public sealed class LlamaCppQuantizerParityTests
{
    private static readonly GgmlType[] Types = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16];

    /// <summary>NaN and ±Inf are left out: the export refuses them, and ggml's float→int casts of them are undefined in C.</summary>
    public static TheoryData<GgmlType, string> FiniteCases()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var type in Types)
            foreach (var kind in QuantizerInputs.Kinds.Keys.Where(k => k is not ("with nan" or "with infinity" or "max float")))
                data.Add(type, kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(FiniteCases))]
    public void BytesEqualLlamaCppsQuantizer(GgmlType type, string kind)
    {
        var x = QuantizerInputs.Of(kind, type);
        QuantizerInputs.AssertSameBlocks(type, x, Ggml.Quantize(type, x), GgmlQuantizer.Quantize(type, x));
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q5_0)]
    public void ManyBlocksOfModelLikeWeightsEqualLlamaCppsQuantizer(GgmlType type)
    {
        var rng = new Random(17 + (int)type);
        var x = QuantizerInputs.Fill(1 << 20, rng, r => (float)(r.NextGaussian() * 0.02 * (1 + r.Next(4))));
        QuantizerInputs.AssertSameBlocks(type, x, Ggml.Quantize(type, x), GgmlQuantizer.Quantize(type, x));
    }

    /// <summary>
    /// A Q4_K block (F16 weights from a random 0.5B checkpoint of ours) where make_qkx2_quants' error sum decides
    /// between two candidate scales by its last bit: ggml adds w·(diff²), and (w·diff)·diff rounded the other way.
    /// </summary>
    [Fact]
    public void AQ4KBlockDecidedByTheErrorSumsLastBitEqualsLlamaCpp()
    {
        var x = Convert.FromHexString(string.Concat(
            "46a7c0259ca2ed26a923b8150a25e128051d1ca7bb9eb6a55299ec241e1e0ba929244622ad252e9e9d27e49b4e25f6a14fa270a76c217b2182a475a6661ef89c",
            "6925b3a2b9a47f1393a0c6a1a8a381a2b2a7f726d1a45baa37a8512700a477a3e5a9f42500a7b09e6ba43c132da4a494afa862a69a0831a8dda89820ee24bba3",
            "53212f28b01f761fdf257e1deea070189fa7e326991ec221cfa486a73d9cc6a1b79b7f1e21a07e9a129db1a438188fa549263e1ae018f2a415a189a3a6a3dba0",
            "5e285e277ca8881e2b266228431c1122a9245b270f1993a7ec9b3a2431a174a68b206ca01fa7cc206f1dcca6f7a3db1de19f51a6b11e7627d1a3aaa068a5351f",
            "eda63027972761a3e49edb2a5522c9a473a026a0b924caa7afa4cea19f8ba224a80d91a3a3a0fe1e921c65a2ac1a9a97010cfba6b5210323d820490faca30b22",
            "8aa447211ea79d26fea44b2121a51e1bf3a71a24501a321bfc9cf7a88911bba7702931a8fa0ad8a30c24bd28dc2334a8dd28e59b41a9b4289ba39e9d1aa11a9e",
            "311c232833a47e1829266814c1a6bf26439dd89dc123baa4869fcc24959a3029e292512ad399f7202baac69cd01c5ca4522853a5e2240422b1a9e52015967d27",
            "a018bc25369d839ee0244222e8a57fa6f01e1e20d127a5225d0aed8db720179bdea47f119c08bc2324223bab3fa92da595a9e491e51c6c8cec974e25e49d0f29"));
        var floats = MemoryMarshal.Cast<byte, Half>(x).ToArray().Select(h => (float)h).ToArray();
        var expected = Ggml.Quantize(GgmlType.Q4_K, floats);
        Assert.Equal(expected, GgmlQuantizer.Quantize(GgmlType.Q4_K, floats));
        Assert.Equal(expected, ScalarReferenceQuantizer.Quantize(GgmlType.Q4_K, floats));
    }

    /// <summary>ggml_quantize_chunk(type, src, dst, start, nrows, n_per_row, imatrix) from node-llama-cpp's libggml-base.so.</summary>
    private static class Ggml
    {
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        private delegate nuint QuantizeChunk(int type, IntPtr src, IntPtr dst, long start, long rows, long perRow, IntPtr imatrix);

        private static readonly Lazy<QuantizeChunk> Chunk = new(Load);

        /// <summary>Rows of 256 elements (a multiple of every block size); no importance matrix, as llama-quantize without one.</summary>
        public static byte[] Quantize(GgmlType type, float[] x)
        {
            const int perRow = 256;
            Assert.True(x.Length % perRow == 0, $"{x.Length} elements: the parity inputs come in rows of {perRow}");
            var dst = new byte[GgmlTypeInfo.Of(type).RowBytes(x.Length)];
            var src = GCHandle.Alloc(x, GCHandleType.Pinned);
            var output = GCHandle.Alloc(dst, GCHandleType.Pinned);
            try
            {
                var written = Chunk.Value((int)type, src.AddrOfPinnedObject(), output.AddrOfPinnedObject(), 0, x.Length / perRow, perRow, IntPtr.Zero);
                Assert.Equal((nuint)dst.Length, written);
            }
            finally
            {
                src.Free();
                output.Free();
            }
            return dst;
        }

        private static QuantizeChunk Load()
        {
            var path = Path.Combine(Repo.LlamaCppLibraries, "libggml-base.so");
            if (!File.Exists(path))
                throw new FileNotFoundException($"llama.cpp's libggml-base.so is not at {path}: node-llama-cpp is installed by eng/prereqs.sh (./test.sh runs it).");
            return Marshal.GetDelegateForFunctionPointer<QuantizeChunk>(NativeLibrary.GetExport(NativeLibrary.Load(path), "ggml_quantize_chunk"));
        }
    }
}
