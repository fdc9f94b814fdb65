using FineTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>RMSNorm, RoPE and attention against values worked out by hand.</summary>
public class BuildingBlockTests
{
    [Fact]
    public void RMSNormDividesByRootMeanSquareThenScales()
    {
        using var scope = NewDisposeScope();
        using var norm = new RMSNorm(4, eps: 0);
        using (no_grad()) norm.Weight.copy_(tensor(new float[] { 1, 1, 2, 0.5f }));
        var x = tensor(new float[] { 1, 2, 3, 4 }, [1, 4]);

        var y = norm.call(x);

        // rms = sqrt((1 + 4 + 9 + 16) / 4) = sqrt(7.5) = 2.7386128
        var expected = new[] { 1 / 2.7386128f, 2 / 2.7386128f, 2 * 3 / 2.7386128f, 0.5f * 4 / 2.7386128f };
        Assert.Equal(expected, y.data<float>().ToArray(), new FloatComparer(1e-6f));
    }

    [Fact]
    public void RMSNormOfBFloat16InputIsComputedInFloat32()
    {
        using var scope = NewDisposeScope();
        using var norm = new RMSNorm(2, eps: 0, dtype: ScalarType.BFloat16);
        // 300² overflows nothing in f32 but would lose the sum's precision in bf16; result must be [1, 1] · (1/√1) scaled.
        var x = tensor(new float[] { 300, 300 }, [1, 2]).to_type(ScalarType.BFloat16);
        var y = norm.call(x).to_type(ScalarType.Float32);
        Assert.Equal(new[] { 1f, 1f }, y.data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, norm.call(x).dtype);
    }

    [Fact]
    public void RopeRotatesFirstAndSecondHalfPairsByPositionTimesFrequency()
    {
        using var scope = NewDisposeScope();
        var config = TinyDecoder.Config(TinyDecoder.ConfigJson(hidden: 4, heads: 1, kvHeads: 1));
        var inv = Rope.InverseFrequencies(config); // head_dim 4, theta 1e4: [1, 1e4^(-1/2)] = [1, 0.01]
        Assert.Equal(new[] { 1.0, 0.01 }, inv.Select(v => Math.Round(v, 12)));

        var (cos, sin) = Rope.Tables(inv, tensor(new long[] { 2 }, [1, 1]));
        var x = tensor(new float[] { 1, 2, 3, 4 }, [1, 1, 1, 4]); // pairs (x0, x2) at freq 1 and (x1, x3) at freq 0.01
        var y = Rope.Apply(x, cos, sin).data<float>().ToArray();

        // angle 2 for the first pair, 0.02 for the second: (a, b) → (a cos − b sin, b cos + a sin)
        var expected = new[]
        {
            (float)(1 * Math.Cos(2) - 3 * Math.Sin(2)), (float)(2 * Math.Cos(0.02) - 4 * Math.Sin(0.02)),
            (float)(3 * Math.Cos(2) + 1 * Math.Sin(2)), (float)(4 * Math.Cos(0.02) + 2 * Math.Sin(0.02)),
        };
        Assert.Equal(expected, y, new FloatComparer(1e-5f));
    }

    [Fact]
    public void RopeRejectsMismatchedShapesNamingThem()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => Rope.Apply(zeros(1, 1, 3, 4), zeros(1, 2, 4), zeros(1, 2, 4)));
        Assert.Contains("[1, 1, 3, 4]", e.Message);
        Assert.Contains("[1, 2, 4]", e.Message);
    }

    [Fact]
    public void Llama3ScalingKeepsHighSlowsLowAndSmoothsMediumFrequencies()
    {
        var json = TinyDecoder.ConfigJson(hidden: 4, heads: 1, kvHeads: 1);
        json["rope_scaling"] = new System.Text.Json.Nodes.JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
            ["original_max_position_embeddings"] = 1000,
        };
        // head_dim 4: inv [1, 0.01], wavelengths 2π and 628.3; low/high thresholds 1000 and 250.
        // 628.3 is medium: smooth = (1000/628.3185 − 1)/3 = 0.197184; inv = (1−s)·0.01/8 + s·0.01 = 0.00297536
        var inv4 = Rope.InverseFrequencies(TinyDecoder.Config(json));
        Assert.Equal(1.0, inv4[0], 12);
        Assert.Equal(0.00297536, inv4[1], 7);

        // head_dim 6: inv [1, 0.0464159, 0.00215443]; wavelength 2916 > 1000 → divided by 8
        json["hidden_size"] = 6;
        var inv6 = Rope.InverseFrequencies(TinyDecoder.Config(json));
        Assert.Equal(0.046415888, inv6[1], 8);
        Assert.Equal(0.0021544347 / 8, inv6[2], 10);
    }

    [Fact]
    public void LinearScalingDividesAndDynamicScalingStretchesOnlyBeyondTheTrainedContext()
    {
        var json = TinyDecoder.ConfigJson(hidden: 4, heads: 1, kvHeads: 1);
        json["rope_scaling"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "linear", ["factor"] = 4.0 };
        Assert.Equal(new[] { 0.25, 0.0025 }, Rope.InverseFrequencies(TinyDecoder.Config(json)).Select(v => Math.Round(v, 12)));

        json["rope_scaling"] = new System.Text.Json.Nodes.JsonObject { ["rope_type"] = "dynamic", ["factor"] = 2.0 };
        var config = TinyDecoder.Config(json); // max_position_embeddings 128
        Assert.Equal(new[] { 1.0, 0.01 }, Rope.InverseFrequencies(config, 128).Select(v => Math.Round(v, 12)));
        // 256 tokens: base 1e4 · (2·256/128 − 1)^(4/2) = 1e4 · 9 → second frequency 1/sqrt(9e4)
        Assert.Equal(1 / Math.Sqrt(9e4), Rope.InverseFrequencies(config, 256)[1], 12);
    }

    [Fact]
    public void AttentionIsSoftmaxOfScaledDotProductsOverEarlierTokens()
    {
        using var scope = NewDisposeScope();
        var config = TinyDecoder.Config(TinyDecoder.ConfigJson(hidden: 2, heads: 1, kvHeads: 1, layers: 1));
        using var attn = new CausalSelfAttention(config, CPU, ScalarType.Float32);
        using (no_grad())
            foreach (var name in attn.LinearNames)
                ((TorchSharp.Modules.Linear)attn.GetLinear(name)).weight!.copy_(eye(2));
        var x = tensor(new float[] { 1, 0, 0, 1 }, [1, 2, 2]);
        var (cos, sin) = Rope.Tables(Rope.InverseFrequencies(config), zeros([1, 2], ScalarType.Int64)); // position 0: no rotation
        using var mask = AttentionMask.Build(2, 0, null, null, null, CPU);

        var y = attn.forward(x, cos, sin, mask, null, 0).data<float>().ToArray();

        // token 0 sees itself: [1, 0]. token 1 scores [0, 1/√2] → weights [1/(1+e^0.7071068), …] = [0.330238, 0.669762] over v = [[1,0],[0,1]]
        Assert.Equal(new[] { 1f, 0f, 0.330238f, 0.669762f }, y, new FloatComparer(1e-5f));
    }

    [Fact]
    public void MaskKeepsEachTokenInsideItsSegmentAndHidesPadding()
    {
        using var scope = NewDisposeScope();
        var segments = tensor(new long[] { 1, 1, 2, 2, 0 }, [1, 5]);

        using var mask = AttentionMask.Build(5, 0, segments, segments, null, CPU);

        var allowed = mask.Mask!.to_type(ScalarType.Int32).data<int>().ToArray();
        Assert.Equal(new[]
        {
            1, 0, 0, 0, 0,
            1, 1, 0, 0, 0,
            0, 0, 1, 0, 0,
            0, 0, 1, 1, 0,
            0, 0, 0, 0, 1, // padding sees only itself, so softmax stays finite
        }, allowed);
    }

    [Fact]
    public void SlidingWindowHidesKeysWindowOrMorePositionsBack()
    {
        using var scope = NewDisposeScope();
        using var mask = AttentionMask.Build(4, 0, null, null, slidingWindow: 2, CPU);
        Assert.Equal(new[] { 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1 },
            mask.Mask!.to_type(ScalarType.Int32).data<int>().ToArray());
    }

    [Fact]
    public void PositionsRestartAtEverySegment()
    {
        using var scope = NewDisposeScope();
        var p = CausalLM.PositionsWithinSegments(tensor(new long[] { 0, 0, 1, 1, 1, 2, 2, 0 }, [1, 8]));
        Assert.Equal(new long[] { 0, 1, 0, 1, 2, 0, 1, 0 }, p.data<long>().ToArray());
    }

    private sealed class FloatComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
