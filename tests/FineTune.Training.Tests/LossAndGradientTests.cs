using FineTune.Training.Lora;
using FineTune.Training.Sft;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

public class LossAndGradientTests
{
    [Fact]
    public void LoraGradientsMatchFiniteDifferences()
    {
        using var model = new ToyCausalLM(vocab: 12, hidden: 8, intermediate: 10, dtype: ScalarType.Float64, seed: 11);
        var adapter = LoraInjector.Inject(model, new LoraOptions { Rank = 2, Alpha = 4 });
        using (no_grad())
            foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_(0, 0.3);   // make every path non-trivial
        var examples = TestData.Random(3, 12, seed: 2);
        using var batch = SftBatch.Collate(examples.Select(e => SftSequence.FromExample(e)).ToList(), padId: 0);

        double Loss() { using var _ = no_grad(); return CausalLmLoss.Sum(model, batch).item<double>(); }

        var loss = CausalLmLoss.Sum(model, batch);
        loss.backward();
        var checkedCount = 0;
        foreach (var (key, p) in adapter.NamedTrainableParameters)
        {
            var flat = p.view(-1);
            var grad = p.grad!.view(-1);
            foreach (var i in new long[] { 0, flat.numel() / 2, flat.numel() - 1 })
            {
                const double h = 1e-6;
                var original = flat[i].item<double>();
                using (no_grad()) flat[i] = original + h;
                var up = Loss();
                using (no_grad()) flat[i] = original - h;
                var down = Loss();
                using (no_grad()) flat[i] = original;
                var numeric = (up - down) / (2 * h);
                var analytic = grad[i].item<double>();
                Assert.True(Math.Abs(numeric - analytic) <= 1e-6 + 1e-5 * Math.Abs(numeric), $"{key}[{i}]: analytic {analytic}, numeric {numeric}");
                checkedCount++;
            }
        }
        Assert.Equal(12 * 3, checkedCount);
    }

    [Fact]
    public void ChangingAMaskedPromptTokenLeavesTheLossUnchanged()
    {
        // user → assistant → user: the trailing user turn is masked; changing its tokens must not move the loss.
        int[] ids = [5, 6, 7, 8, 9, 2, 4, 5, 6];
        bool[] mask = [false, false, false, true, true, true, false, false, false];
        int[] changed = [.. ids];
        changed[7] = 11;

        Assert.Equal(LossOf(ids, mask, trainOnInputs: false), LossOf(changed, mask, trainOnInputs: false));
        // control: when prompts are trained on, the same change does move the loss
        Assert.NotEqual(LossOf(ids, mask, trainOnInputs: true), LossOf(changed, mask, trainOnInputs: true));
    }

    private static float LossOf(int[] ids, bool[] mask, bool trainOnInputs)
    {
        using var model = new ToyCausalLM(vocab: 12, hidden: 8, intermediate: 10, seed: 4);
        var data = SftDataset.Build([new TokenizedExample(ids, mask)], new SftDataOptions { TrainOnInputs = trainOnInputs });
        using var batch = SftBatch.Collate(data.Rows, padId: 0);
        using var _ = no_grad();
        return CausalLmLoss.Sum(model, batch).item<float>();
    }

    [Fact]
    public void PackedRowsGiveTheSameLossAsSeparateRows()
    {
        using var model = new ToyCausalLM(vocab: 16, hidden: 8, intermediate: 10, seed: 9);
        var examples = TestData.Random(4, 16, seed: 3);
        using var _ = no_grad();
        using var separate = SftBatch.Collate(examples.Select(e => SftSequence.FromExample(e)).ToList(), padId: 0);
        using var packed = SftBatch.Collate([SftSequence.Pack(examples)], padId: 0);
        Assert.Equal(separate.LabelTokens, packed.LabelTokens);
        var a = CausalLmLoss.Sum(model, separate).item<float>();
        var b = CausalLmLoss.Sum(model, packed).item<float>();
        Assert.Equal(a, b, 4);
    }
}
