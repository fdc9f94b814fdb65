using FineTune.Contracts.Jobs;
using FineTune.Contracts.Optim;
using FineTune.Training.Jobs;
using FineTune.Training.Optim;

namespace FineTune.Training.Tests;

public class TrainingJobFileTests
{
    private const string Seed003 = """
        # seed 003: Unsloth recipe (HTML product snippets -> JSON)
        model: models/tiny-llama
        data: data/extraction.jsonl
        eval_split: 0.1
        lora:
          r: 16
          alpha: 16
          dropout: 0
          target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
        sft:
          max_seq_len: 2048
        training:
          micro_batch_size: 2
          gradient_accumulation_steps: 4
          warmup_steps: 5
          max_steps: 60
          learning_rate: 2e-4
          weight_decay: 0.01
          lr_scheduler: linear
          seed: 3407
        eval:
          json_exact_match: true
        """;

    [Fact]
    public void SeedRecipeParsesIntoOptions()
    {
        var job = TrainingJobFile.Parse(Seed003, "seed003.yaml");
        var lora = job.Lora.ToOptions();
        var training = job.Training.ToOptions();
        Assert.Equal(16, lora.Rank);
        Assert.Equal(1.0, lora.Scaling);
        Assert.Equal(7, lora.TargetModules.Count);
        Assert.Equal(60, training.MaxSteps);
        Assert.Equal(2e-4, training.LearningRate);
        Assert.Equal(LrScheduleKind.Linear, training.LrScheduler);
        Assert.Equal(0.01, training.WeightDecay);
        Assert.True(job.Eval.JsonExactMatch);
        Assert.Equal(2048, job.Sft.MaxSeqLen);
    }

    [Fact]
    public void JsonJobsAreReadToo()
    {
        var job = TrainingJobFile.Parse("""{"model": "m", "lora": {"r": 8, "alpha": 32, "target_modules": ["q_proj", "v_proj"]}, "training": {"epochs": 3, "micro_batch_size": 4, "gradient_accumulation_steps": 8}}""", "job.json");
        Assert.Equal(32, job.Lora.Alpha);
        Assert.Equal(8, job.Training.GradientAccumulationSteps);
    }

    [Fact]
    public void InvalidValuesAreReportedWithTheirFieldNames()
    {
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse("""
            lora:
              r: 0
            training:
              learning_rate: -1
              lr_scheduler: polynomial
            """, "bad.yaml"));
        Assert.StartsWith("bad.yaml: ", e.Message);
        Assert.Contains("lora.r must be >= 1 (got 0)", e.Message);
        Assert.Contains("training.learning_rate must be > 0 (got -1)", e.Message);
        Assert.Contains("training.lr_scheduler", e.Message);
    }

    [Theory]
    [InlineData(0, "training.parallelism must be in 1..16 (got 0)")]
    [InlineData(17, "training.parallelism must be in 1..16 (got 17)")]
    [InlineData(5, "training.parallelism must be <= training.gradient_accumulation_steps")]
    public void ParallelismOutOfRangeNamesTheField(int parallelism, string expected)
    {
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse(
            $"model: m\ntraining:\n  gradient_accumulation_steps: 4\n  parallelism: {parallelism}\n", "dp.yaml"));
        Assert.StartsWith("dp.yaml: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ParallelismDefaultsToOneReplica() =>
        Assert.Equal(1, TrainingJobFile.Parse(Seed003, "seed003.yaml").Training.Parallelism);

    [Fact]
    public void RowThreadsReachTheTrainerAndMustNotBeNegative()
    {
        Assert.Equal(2, TrainingJobFile.Parse("model: m\ntraining:\n  row_threads: 2\n", "rows.yaml").Training.ToOptions().RowThreads);
        Assert.Equal(0, TrainingJobFile.Parse(Seed003, "seed003.yaml").Training.ToOptions().RowThreads);
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse("model: m\ntraining:\n  row_threads: -1\n", "rows.yaml"));
        Assert.Contains("training.row_threads must be >= 0 (got -1)", e.Message);
    }

    [Fact]
    public void UnknownFieldsAreReportedWithFileAndLine()
    {
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse("model: m\ntraining:\n  learning_rat: 1e-4\n", "typo.yaml"));
        Assert.StartsWith("typo.yaml:3:", e.Message);
        Assert.Contains("unknown field 'learning_rat' in section training", e.Message);
    }

    [Fact]
    public void SerialisedJobReadsBackEqual()
    {
        var job = TrainingJobFile.Parse(Seed003, "seed003.yaml");
        var again = TrainingJobFile.Parse(TrainingJobFile.ToYaml(job), "roundtrip.yaml");
        Assert.Equal(TrainingJobFile.ToYaml(job), TrainingJobFile.ToYaml(again));
    }
}
