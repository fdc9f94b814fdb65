using FineTune.Training.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

public class LoraLinearTests
{
    private static LoraLinear Make(int rank = 4, double alpha = 8, ScalarType dtype = ScalarType.Float32, long seed = 7)
    {
        torch.manual_seed(seed);
        var linear = nn.Linear(6, 5, hasBias: true, dtype: dtype);
        return new LoraLinear(linear, rank, alpha / rank, dropout: 0);
    }

    [Fact]
    public void FreshAdapterLeavesTheBaseOutputUnchanged()
    {
        using var lora = Make();
        var x = randn(3, 6);
        var expected = lora.BaseLayer.call(x);
        Assert.True(lora.forward(x).eq(expected).all().item<bool>());
        Assert.True(lora.LoraB.abs().sum().item<float>() == 0);
        Assert.True(lora.LoraA.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void ShapesFollowPeftAndOnlyLoraWeightsAreTrainable()
    {
        using var lora = Make(rank: 3);
        Assert.Equal(new long[] { 3, 6 }, lora.LoraA.shape);
        Assert.Equal(new long[] { 5, 3 }, lora.LoraB.shape);
        var trainable = lora.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).Order().ToArray();
        Assert.Equal(new[] { "lora_A.weight", "lora_B.weight" }, trainable);
        Assert.Contains("base_layer.weight", lora.state_dict().Keys);
        Assert.Contains("base_layer.bias", lora.state_dict().Keys);
    }

    [Fact]
    public void KaimingUniformInitialisationBoundsLoraA()
    {
        // Kaiming-uniform with a=√5 on (r, in): bound = sqrt(6 / ((1 + a²) · fan_in)) = 1/sqrt(in)
        torch.manual_seed(1);
        using var lora = new LoraLinear(nn.Linear(400, 10, hasBias: false), 64, 1, 0);
        var bound = 1 / Math.Sqrt(400);
        var max = lora.LoraA.abs().max().item<float>();
        Assert.InRange(max, bound * 0.95, bound * 1.0000001);
    }

    [Fact]
    public void MergeAddsScaledBTimesAAndIsIdempotent()
    {
        using var lora = Make(rank: 2, alpha: 6);
        using (no_grad()) lora.LoraB.normal_();
        var x = randn(4, 6);
        var before = lora.forward(x);
        var w0 = ((TorchSharp.Modules.Linear)lora.BaseLayer).weight!.clone();
        var expectedW = w0 + lora.LoraB.matmul(lora.LoraA) * 3.0;

        lora.Merge();
        var once = ((TorchSharp.Modules.Linear)lora.BaseLayer).weight!.clone();
        lora.Merge();

        Assert.True(lora.Merged);
        Assert.True(once.allclose(expectedW, rtol: 0, atol: 1e-6));
        Assert.True(((TorchSharp.Modules.Linear)lora.BaseLayer).weight!.eq(once).all().item<bool>());
        Assert.True(lora.forward(x).allclose(before, rtol: 0, atol: 1e-5));
    }

    [Fact]
    public void RsLoraScalesByAlphaOverSquareRootOfRank()
    {
        Assert.Equal(16.0 / 4, new LoraOptions { Rank = 4, Alpha = 16 }.Scaling);
        Assert.Equal(16.0 / 2, new LoraOptions { Rank = 4, Alpha = 16, UseRsLora = true }.Scaling);
    }

    [Fact]
    public void DropoutAppliesOnlyInTraining()
    {
        torch.manual_seed(3);
        using var lora = new LoraLinear(nn.Linear(6, 5), 4, 2, dropout: 0.5);
        using (no_grad()) lora.LoraB.normal_();
        var x = randn(8, 6);
        lora.eval();
        var a = lora.forward(x);
        var b = lora.forward(x);
        Assert.True(a.eq(b).all().item<bool>());
        lora.train();
        var c = lora.forward(x);
        Assert.False(c.allclose(a));
    }
}
