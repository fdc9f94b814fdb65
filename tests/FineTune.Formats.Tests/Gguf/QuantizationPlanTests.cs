using FineTune.Formats.Gguf;

namespace FineTune.Formats.Tests.Gguf;

public sealed class QuantizationPlanTests
{
    private static List<PlannedTensor> Model(int layers, long nEmbd, long nFf, long nVocab, bool tied)
    {
        var list = new List<PlannedTensor> { new("token_embd.weight", [nEmbd, nVocab]), new("output_norm.weight", [nEmbd]) };
        if (!tied) list.Add(new("output.weight", [nEmbd, nVocab]));
        for (var i = 0; i < layers; i++)
        {
            list.Add(new($"blk.{i}.attn_norm.weight", [nEmbd]));
            list.Add(new($"blk.{i}.attn_q.weight", [nEmbd, nEmbd]));
            list.Add(new($"blk.{i}.attn_q.bias", [nEmbd]));
            list.Add(new($"blk.{i}.attn_k.weight", [nEmbd, nEmbd / 4]));
            list.Add(new($"blk.{i}.attn_v.weight", [nEmbd, nEmbd / 4]));
            list.Add(new($"blk.{i}.attn_output.weight", [nEmbd, nEmbd]));
            list.Add(new($"blk.{i}.ffn_norm.weight", [nEmbd]));
            list.Add(new($"blk.{i}.ffn_gate.weight", [nEmbd, nFf]));
            list.Add(new($"blk.{i}.ffn_up.weight", [nEmbd, nFf]));
            list.Add(new($"blk.{i}.ffn_down.weight", [nFf, nEmbd]));
        }
        return list;
    }

    private static Dictionary<string, GgmlType> PlanOf(GgufFileType ft, List<PlannedTensor> model) =>
        QuantizationPlan.Plan(ft, model).ToDictionary(p => p.Tensor.Name, p => p.Type);

    [Theory]
    [InlineData(24, new[] { 0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23 })]
    [InlineData(28, new[] { 0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27 })]
    [InlineData(32, new[] { 0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31 })]
    public void Q4KMGivesQ6KToAttnVAndFfnDownOfTheLayersLlamaCppChooses(int layers, int[] q6Layers)
    {
        var plan = PlanOf(GgufFileType.Q4_K_M, Model(layers, 256, 512, 1000, tied: false));
        for (var i = 0; i < layers; i++)
        {
            var expected = q6Layers.Contains(i) ? GgmlType.Q6_K : GgmlType.Q4_K;
            Assert.Equal(expected, plan[$"blk.{i}.attn_v.weight"]);
            Assert.Equal(expected, plan[$"blk.{i}.ffn_down.weight"]);
            Assert.Equal(GgmlType.Q4_K, plan[$"blk.{i}.attn_q.weight"]);
            Assert.Equal(GgmlType.Q4_K, plan[$"blk.{i}.ffn_up.weight"]);
            Assert.Equal(GgmlType.F32, plan[$"blk.{i}.attn_norm.weight"]);
            Assert.Equal(GgmlType.F32, plan[$"blk.{i}.attn_q.bias"]);
        }
        Assert.Equal(GgmlType.Q6_K, plan["output.weight"]);
        Assert.Equal(GgmlType.Q4_K, plan["token_embd.weight"]);
    }

    [Fact]
    public void Q4KMTreatsPhi3sFusedQkvAsLlamaQuantizeDoesLikeAttnV()
    {
        var model = Model(32, 256, 512, 1000, tied: false)
            .Select(t => t.Name.EndsWith("attn_v.weight", StringComparison.Ordinal) ? t with { Name = t.Name.Replace("attn_v", "attn_qkv") } : t)
            .Where(t => !t.Name.Contains("attn_q.", StringComparison.Ordinal) && !t.Name.Contains("attn_k.", StringComparison.Ordinal)).ToList();
        var plan = PlanOf(GgufFileType.Q4_K_M, model);
        int[] q6Layers = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        for (var i = 0; i < 32; i++)
            Assert.Equal(q6Layers.Contains(i) ? GgmlType.Q6_K : GgmlType.Q4_K, plan[$"blk.{i}.attn_qkv.weight"]);
    }

    [Fact]
    public void Q4KMWithTiedEmbeddingsGivesTheEmbeddingTheOutputType()
    {
        var plan = PlanOf(GgufFileType.Q4_K_M, Model(2, 256, 512, 1000, tied: true));
        Assert.Equal(GgmlType.Q6_K, plan["token_embd.weight"]);
    }

    [Fact]
    public void Q4KMFallsBackWhenRowsAreNotMultiplesOf256LikeQwen25With896()
    {
        // Qwen2.5-0.5B: n_embd 896, n_ff 4864 (= 19·256), tied embeddings, 24 layers.
        var plan = PlanOf(GgufFileType.Q4_K_M, Model(24, 896, 4864, 151936, tied: true));
        Assert.Equal(GgmlType.Q8_0, plan["token_embd.weight"]);             // Q6_K → Q8_0 (896 % 256 != 0)
        Assert.Equal(GgmlType.Q5_0, plan["blk.3.attn_q.weight"]);           // Q4_K → Q5_0
        Assert.Equal(GgmlType.Q5_0, plan["blk.3.ffn_gate.weight"]);
        Assert.Equal(GgmlType.Q8_0, plan["blk.0.attn_v.weight"]);           // Q6_K (more bits) → Q8_0
        Assert.Equal(GgmlType.Q5_0, plan["blk.3.attn_v.weight"]);
        Assert.Equal(GgmlType.Q6_K, plan["blk.0.ffn_down.weight"]);         // ne[0] = 4864 fits 256: no fallback
        Assert.Equal(GgmlType.Q4_K, plan["blk.3.ffn_down.weight"]);
    }

    [Fact]
    public void RowsThatFitNoQuantBlockFallBackToF16()
    {
        var plan = PlanOf(GgufFileType.Q4_K_M, Model(1, 48, 96, 100, tied: false));
        Assert.Equal(GgmlType.F16, plan["blk.0.attn_q.weight"]);
        Assert.Equal(GgmlType.F16, plan["output.weight"]);
        Assert.Equal(GgmlType.Q8_0, plan["blk.0.ffn_down.weight"]);        // the only layer gets more bits: Q6_K → Q8_0 (96 = 3·32)
    }

    [Fact]
    public void UniformTypesKeepOneDimensionalTensorsInF32()
    {
        foreach (var ft in new[] { GgufFileType.F16, GgufFileType.BF16, GgufFileType.Q8_0 })
        {
            var plan = PlanOf(ft, Model(2, 64, 128, 100, tied: false));
            Assert.Equal(ft.DefaultType, plan["output.weight"]);
            Assert.Equal(ft.DefaultType, plan["blk.1.ffn_down.weight"]);
            Assert.Equal(GgmlType.F32, plan["output_norm.weight"]);
        }
        Assert.All(PlanOf(GgufFileType.F32, Model(1, 64, 128, 100, false)).Values, t => Assert.Equal(GgmlType.F32, t));
    }

    [Fact]
    public void Q4_0GivesTheOutputQ6KAsLlamaQuantizeDoes()
    {
        var plan = PlanOf(GgufFileType.Q4_0, Model(2, 256, 512, 1000, tied: false));
        Assert.Equal(GgmlType.Q6_K, plan["output.weight"]);
        Assert.Equal(GgmlType.Q4_0, plan["token_embd.weight"]);
        Assert.Equal(GgmlType.Q4_0, plan["blk.0.attn_v.weight"]);
    }

    [Fact]
    public void TensorsAreOrderedByLayerThenName()
    {
        var order = QuantizationPlan.Plan(GgufFileType.F16, Model(11, 64, 128, 100, false)).Select(p => p.Tensor.Name).ToList();
        Assert.Equal(["output.weight", "output_norm.weight", "token_embd.weight"], order.Take(3));
        Assert.Equal("blk.0.attn_k.weight", order[3]);
        Assert.True(order.IndexOf("blk.2.ffn_up.weight") < order.IndexOf("blk.10.attn_k.weight"));
    }
}
