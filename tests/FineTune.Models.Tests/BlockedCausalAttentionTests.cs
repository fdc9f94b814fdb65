using FineTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>The blocked training path gives scaled_dot_product_attention's outputs and gradients, and is taken only where it may be.</summary>
public class BlockedCausalAttentionTests
{
    [Theory]
    [InlineData(1, 4, 16, 8)]      // one block
    [InlineData(2, 3, 200, 16)]    // a partial last block
    [InlineData(1, 2, 512, 32)]    // four full blocks
    public void CausalOutputsAndGradientsEqualTheFlashKernels(int batch, int heads, int length, int headSize)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var (q, k, v) = (Input(batch, heads, length, headSize), Input(batch, heads, length, headSize), Input(batch, heads, length, headSize));
        var dy = randn(batch, heads, length, headSize, dtype: ScalarType.Float64);

        AssertSameOutputsAndGradients([q, k, v], dy,
            nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true), BlockedCausalAttention.Apply(q, k, v, mask: null));
    }

    [Fact]
    public void AnExplicitSegmentMaskGivesTheMaskedKernelsOutputsAndGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        const int length = 300;
        var (q, k, v) = (Input(2, 2, length, 8), Input(2, 2, length, 8), Input(2, 2, length, 8));
        // row 0: two packed examples and padding; row 1: one example
        var segments = tensor(Enumerable.Range(0, length).Select(i => i < 140 ? 1L : i < 260 ? 2L : 0L)
            .Concat(Enumerable.Repeat(1L, length)).ToArray(), [2, length]);
        using var mask = AttentionMask.Build(length, 0, segments, segments, slidingWindow: 100, CPU);
        var dy = randn(2, 2, length, 8, dtype: ScalarType.Float64);

        AssertSameOutputsAndGradients([q, k, v], dy,
            nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask.Mask), BlockedCausalAttention.Apply(q, k, v, mask.Mask));
    }

    [Fact]
    public void OnlyModulesInTrainingModeOnShortSequencesWithoutCachedKeysTakeTheBlockedPath()
    {
        using var scope = NewDisposeScope();
        var shortSeq = zeros(1, 2, BlockedCausalAttention.MaxLength, 8);
        var longSeq = zeros(1, 2, BlockedCausalAttention.MaxLength + 1, 8);
        Assert.True(BlockedCausalAttention.Applies(shortSeq, shortSeq, cache: null, training: true));
        Assert.False(BlockedCausalAttention.Applies(shortSeq, shortSeq, cache: null, training: false));
        Assert.False(BlockedCausalAttention.Applies(longSeq, longSeq, cache: null, training: true));
        Assert.False(BlockedCausalAttention.Applies(shortSeq.narrow(2, 0, 1), shortSeq, cache: null, training: true));   // one query over cached keys
    }

    private static Tensor Input(int batch, int heads, int length, int headSize) =>
        randn(batch, heads, length, headSize, dtype: ScalarType.Float64).requires_grad_(true);

    /// <summary>Equal outputs, and equal gradients of <paramref name="inputs"/> for the output gradient <paramref name="dy"/>.</summary>
    private static void AssertSameOutputsAndGradients(Tensor[] inputs, Tensor dy, Tensor expected, Tensor actual)
    {
        AssertClose(expected, actual);
        var expectedGrads = autograd.grad([expected], inputs, [dy]);
        var actualGrads = autograd.grad([actual], inputs, [dy]);
        for (var i = 0; i < inputs.Length; i++) AssertClose(expectedGrads[i], actualGrads[i]);
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var worst = (expected - actual).abs().max().item<double>();
        Assert.True(worst < 1e-10, $"largest difference {worst:E2}");
    }
}
