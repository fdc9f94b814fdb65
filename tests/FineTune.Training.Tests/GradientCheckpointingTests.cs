using FineTune.Contracts.Jobs;
using FineTune.Demo;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>training.gradient_checkpointing: decoder-layer activations recomputed in backward, with the same gradients.</summary>
public class GradientCheckpointingTests
{
    private const int Vocab = 64;

    /// <summary>
    /// LoRA (dropout 0.1, so the recomputation must replay the dropout masks), modules_to_save inside the layers
    /// (post_attention_layernorm) and outside them (lm_head, and embed_tokens in one case: then layer 0's input needs a
    /// gradient too), a packed row (segments, positions restarting) beside a padded one; or two unpadded rows of one
    /// sequence each, where the decoder uses plain causal attention (no mask tensor to keep for the recomputation).
    /// </summary>
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void GradientCheckpointingGivesTheSameGradients(bool trainEmbeddings, bool packedAndPadded)
    {
        var trainable = TinyModels.Llama(seed: 6, layers: 3, vocab: Vocab);
        using var model = trainable.Model;
        torch.manual_seed(11);
        var adapter = LoraInjector.Inject(trainable, new LoraOptions
        {
            Rank = 4, Alpha = 8, Dropout = 0.1,
            ModulesToSave = trainEmbeddings ? ["embed_tokens", "post_attention_layernorm", "lm_head"] : ["post_attention_layernorm", "lm_head"],
        });
        using (no_grad())
            foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_(0, 0.1); // B = 0 would hide A's gradient
        var examples = TestData.Random(4, Vocab, seed: 21);
        var sameLength = TestData.Random(2, Vocab, seed: 22, minPrompt: 6, maxPrompt: 6, minAnswer: 5, maxAnswer: 5);
        using var batch = packedAndPadded
            ? SftBatch.Collate([SftSequence.Pack(examples[..3]), SftSequence.FromExample(examples[3])], padId: 0)
            : SftBatch.Collate([.. sameLength.Select(e => SftSequence.FromExample(e))], padId: 0);
        Assert.Equal(packedAndPadded, batch.SegmentIds.eq(0).any().item<bool>());
        model.train();

        var calls = 0;
        var hook = ((LoraLinear)model.GetLinear("model.layers.1.self_attn.q_proj")).register_forward_hook(_ => calls++);

        var (plainLoss, plain, plainRng) = LossAndGradients(trainable, adapter, batch, checkpointing: false, seed: 5);
        Assert.Equal(1, calls);
        var (loss, checkpointed, rng) = LossAndGradients(trainable, adapter, batch, checkpointing: true, seed: 5);
        Assert.Equal(3, calls); // forward under no_grad, then again in backward

        Assert.Equal(plainLoss, loss, 6);
        Assert.Equal(plainRng, rng); // the random stream continues exactly as without checkpointing
        Assert.Equal(plain.Keys, checkpointed.Keys);
        Assert.Contains(plain.Keys, k => k.Contains("post_attention_layernorm", StringComparison.Ordinal));
        Assert.Equal(trainEmbeddings, plain.Keys.Any(k => k.Contains("embed_tokens", StringComparison.Ordinal)));
        foreach (var (key, expected) in plain)
        {
            var maxDiff = (checkpointed[key] - expected).abs().max().item<float>();
            Assert.True(maxDiff <= 1e-6, $"{key}: gradient differs by {maxDiff} with checkpointing");
            Assert.True(expected.abs().max().item<float>() > 0, $"{key}: gradient is zero, the comparison proves nothing");
        }

        // The dropout masks matter: another seed gives other gradients, so a recomputation with other masks would fail above.
        var (_, otherSeed, _) = LossAndGradients(trainable, adapter, batch, checkpointing: true, seed: 6);
        Assert.Contains(plain.Keys, k => (otherSeed[k] - plain[k]).abs().max().item<float>() > 1e-4);
        hook.remove();
    }

    [Fact]
    public void CheckpointedStepsLeaveNoTensorsAlive()
    {
        var trainable = TinyModels.Llama(seed: 6, layers: 2, vocab: Vocab);
        using var model = trainable.Model;
        torch.manual_seed(11);
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1 });
        trainable.SetGradientCheckpointing(true);
        model.train();
        using var batch = SftBatch.Collate([SftSequence.Pack(TestData.Random(3, Vocab, seed: 2))], padId: 0);
        // Tensor.TotalCount is process-wide: tensors that earlier tests or the setup left to the finalizer must be gone
        // before counting, or their collection during the passes reads as a change (it did: 5908, 5908, 4481, 3913).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var alive = new List<long>();
        for (var pass = 0; pass < 4; pass++)
        {
            using (var scope = NewDisposeScope())
                CausalLmLoss.Sum(trainable, batch).backward();
            alive.Add(Tensor.TotalCount);
        }
        Assert.True(alive.Skip(1).All(n => n == alive[1]), $"live tensors after each pass: {string.Join(", ", alive)}");
    }

    [Fact]
    public async Task GradientCheckpointingTrainsToTheSameAdapter()
    {
        var plain = await TrainAsync(checkpointing: false);
        var checkpointed = await TrainAsync(checkpointing: true);
        Assert.Equal(plain.Keys, checkpointed.Keys);
        foreach (var (key, expected) in plain)
        {
            var maxDiff = (checkpointed[key] - expected).abs().max().item<float>();
            Assert.True(maxDiff <= 1e-6, $"{key}: adapter differs by {maxDiff} after training with checkpointing");
        }
        Assert.Contains(plain, kv => kv.Key.EndsWith("lora_B.weight", StringComparison.Ordinal) && kv.Value.abs().max().item<float>() > 0);
    }

    [Fact]
    public async Task JobFileGradientCheckpointingReachesTheModel()
    {
        using var dir = new TempDirectory("ft-gc-run");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        ProductExtractionTask.WriteJsonl(dir.File("train.jsonl"), 4, seed: 1);
        File.WriteAllText(dir.File("job.yaml"), $$"""
            model: {{dir.File("model")}}
            data: {{dir.File("train.jsonl")}}
            output: {{dir.File("out")}}
            lora: { r: 4, alpha: 8, dropout: 0.05 }
            training: { max_steps: 1, micro_batch_size: 2, gradient_accumulation_steps: 1, gradient_checkpointing: true }
            """);
        var job = TrainingJobFile.Load(dir.File("job.yaml"));
        Assert.True(job.Training.ToOptions().GradientCheckpointing);

        using var run = await TrainingRun.PrepareAsync(job);
        Assert.True(((CausalLMTrainable)run.Adapter.Model).Model.GradientCheckpointing);
        var steps = new List<StepRecord>();
        await foreach (var e in run.RunAsync()) if (e is StepRecord s) steps.Add(s);
        Assert.Single(steps);
        Assert.True(double.IsFinite(steps[0].Loss) && steps[0].GradNorm > 0, $"loss {steps[0].Loss}, grad norm {steps[0].GradNorm}");
    }

    [Fact]
    public void GradientCheckpointingWithDropoutOffCpuIsRefusedNamingTheFields()
    {
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse("""
            lora:
              dropout: 0.05
            training:
              device: cuda
              gradient_checkpointing: true
            """, "job.yaml"));
        Assert.Contains("job.yaml", e.Message);
        Assert.Contains("training.gradient_checkpointing", e.Message);
        Assert.Contains("lora.dropout: 0", e.Message);

        // The same on CPU (dropout replayed exactly), or on CUDA without dropout, is accepted.
        TrainingJobFile.Parse("lora: { dropout: 0.05 }\ntraining: { gradient_checkpointing: true }", "cpu.yaml");
        TrainingJobFile.Parse("lora: { dropout: 0 }\ntraining: { device: cuda, gradient_checkpointing: true }", "cuda.yaml");
    }

    [Fact]
    public void ModelWithoutCheckpointingSupportRefusesTheOptionNamingIt()
    {
        using var model = new ToyCausalLM(vocab: 24, hidden: 12, intermediate: 16, seed: 5);
        var adapter = LoraInjector.Inject(model, new LoraOptions { Rank = 2, Alpha = 4 });
        var data = SftDataset.Build(TestData.Random(4, 24, seed: 1), new SftDataOptions { MaxSeqLen = 32 });
        var e = Assert.Throws<NotSupportedException>(() =>
            new SftTrainer(adapter, data, null, new TrainingOptions { GradientCheckpointing = true }, padId: 0, CPU));
        Assert.Contains("training.gradient_checkpointing", e.Message);
    }

    private static (double Loss, Dictionary<string, Tensor> Gradients, byte[] RngAfter) LossAndGradients(
        CausalLMTrainable trainable, LoraAdapter adapter, SftBatch batch, bool checkpointing, long seed)
    {
        trainable.SetGradientCheckpointing(checkpointing);
        foreach (var p in adapter.TrainableParameters) p.grad = null;
        torch.manual_seed(seed);
        double loss;
        using (var scope = NewDisposeScope())
        {
            var sum = CausalLmLoss.Sum(trainable, batch);
            sum.backward();
            loss = sum.item<float>();
        }
        using var rng = torch.random.get_rng_state();
        var grads = adapter.NamedTrainableParameters.ToDictionary(p => p.Key, p => p.Param.grad!.detach().clone());
        trainable.SetGradientCheckpointing(false);
        return (loss, grads, rng.bytes.ToArray());
    }

    /// <summary>A few deterministic optimizer steps on a tiny real decoder; the adapter tensors at the end.</summary>
    private static async Task<Dictionary<string, Tensor>> TrainAsync(bool checkpointing)
    {
        var options = new TrainingOptions
        {
            MicroBatchSize = 2, GradientAccumulationSteps = 2, MaxSteps = 4, LearningRate = 1e-2, WarmupSteps = 1,
            WeightDecay = 0.01, Seed = 3, GradientCheckpointing = checkpointing,
        };
        torch.manual_seed(options.Seed);
        var trainable = TinyModels.Llama(seed: 8, layers: 2, vocab: Vocab);
        using var model = trainable.Model;
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1, ModulesToSave = ["lm_head"] });
        var data = SftDataset.Build(TestData.Random(12, Vocab, seed: 31), new SftDataOptions { MaxSeqLen = 24, Packing = true });
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU);
        await foreach (var _ in trainer.RunAsync()) { }
        Assert.Equal(checkpointing, trainable.Model.GradientCheckpointing);
        return adapter.StateDict();
    }
}
