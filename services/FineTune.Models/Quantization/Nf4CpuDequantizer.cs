// Written by hand: no library dequantizes NF4 on the CPU into a TorchSharp tensor without intermediate tensors.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// NF4 to FP32 on the CPU straight from the packed bytes: a 256-entry table turns each byte into its two code values
/// (high nibble first), then each block is multiplied by its scale. The tensor form (codes → Int64 indices →
/// index_select → multiply) allocates 17 bytes per weight and writes them all; this allocates the 4-byte result only.
/// Each value is the same FP32 product code × scale, so the result is bit-equal to the tensor form (tests compare them).
/// Blocks are split over the calling thread's libtorch intra-op thread count (one on a row shard's thread).
/// </summary>
internal static class Nf4CpuDequantizer
{
    /// <summary>PairBits[b]: the two FP32 code values of byte b as one little-endian 8-byte word, high nibble's first.</summary>
    private static readonly ulong[] PairBits = BuildPairs();

    /// <summary>Writes the weight into <paramref name="output"/>: a contiguous FP32 CPU tensor of the weight's element count.</summary>
    /// <param name="packed">Two codes per byte, contiguous, on the CPU.</param>
    /// <param name="scales">One FP32 scale per block, contiguous, on the CPU.</param>
    public static void DequantizeInto(Tensor packed, Tensor scales, Tensor output, int blockSize)
    {
        var numel = output.numel();
        var blocks = (numel + blockSize - 1) / blockSize;
        var source = new Buffers(TensorIO.DataPointer(packed), TensorIO.DataPointer(scales), TensorIO.DataPointer(output), numel, blockSize);
        var workers = (int)Math.Clamp(Math.Min(get_num_threads(), blocks / 4096), 1, Environment.ProcessorCount);
        if (workers == 1) source.Run(0, blocks);
        else Parallel.For(0, workers, w => source.Run(blocks * w / workers, blocks * (w + 1) / workers));
    }

    private static ulong[] BuildPairs()
    {
        var pairs = new ulong[256];
        for (var b = 0; b < 256; b++)
        {
            var high = (ulong)BitConverter.SingleToUInt32Bits(Nf4.CodeBook[b >> 4]);
            var low = (ulong)BitConverter.SingleToUInt32Bits(Nf4.CodeBook[b & 15]);
            pairs[b] = BitConverter.IsLittleEndian ? high | (low << 32) : (high << 32) | low;
        }
        return pairs;
    }

    /// <summary>The three buffers as addresses (pointers cannot be captured by the Parallel.For lambda).</summary>
    private readonly record struct Buffers(IntPtr Packed, IntPtr Scales, IntPtr Output, long Numel, int BlockSize)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe void Run(long firstBlock, long endBlock)
        {
            var packed = (byte*)Packed;
            var scales = (float*)Scales;
            var output = (float*)Output;
            fixed (ulong* pairs = PairBits)
                for (var b = firstBlock; b < endBlock; b++)
                {
                    var start = b * BlockSize;
                    var count = Math.Min(BlockSize, Numel - start);
                    if (count == BlockSize) FullBlock(pairs, packed + start / 2, scales[b], output + start);
                    else PartialBlock(packed + start / 2, scales[b], output + start, count);
                }
        }

        private unsafe void FullBlock(ulong* pairs, byte* codes, float scale, float* output)
        {
            var words = (ulong*)output;
            for (var k = 0; k < BlockSize / 2; k++) words[k] = pairs[codes[k]];
            var s = Vector256.Create(scale);
            var j = 0;
            for (; j + 8 <= BlockSize; j += 8) Vector256.Store(Vector256.Load(output + j) * s, output + j);
            for (; j < BlockSize; j++) output[j] *= scale;
        }

        private static unsafe void PartialBlock(byte* codes, float scale, float* output, long count)
        {
            for (var j = 0L; j < count; j++)
            {
                var code = (j & 1) == 0 ? codes[j / 2] >> 4 : codes[j / 2] & 15;
                output[j] = Nf4.CodeBook[code] * scale;
            }
        }
    }
}
