using FineTune.Contracts.Lora;
using FineTune.Contracts.Quantization;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace FineTune.Contracts.Jobs;

/// <summary>Reads a job file (YAML, or JSON which YAML also reads) and validates it; every error names the file and the field.</summary>
public static class TrainingJobFile
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    public static TrainingJob Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"job file not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    public static TrainingJob Parse(string text, string source)
    {
        TrainingJob? job;
        try
        {
            job = Deserializer.Deserialize<TrainingJob>(text);
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message ?? e.Message;
            throw new TrainingJobException($"{source}:{e.Start.Line}:{e.Start.Column}: {Clean(inner)}", e);
        }
        job ??= new TrainingJob();
        var errors = Validate(job);
        if (errors.Count > 0) throw new TrainingJobException($"{source}: " + string.Join("; ", errors));
        return job;
    }

    public static string ToYaml(TrainingJob job) => Serializer.Serialize(job);

    /// <summary>Every problem with the job, each naming its field (empty when valid).</summary>
    public static IReadOnlyList<string> Validate(TrainingJob job)
    {
        var errors = new List<string>();
        void Check(bool ok, string field, string rule, object? value)
        {
            if (!ok) errors.Add($"{field} {rule} (got {value ?? "nothing"})");
        }

        Check(job.EvalSplit is >= 0 and < 1, "eval_split", "must be in [0, 1)", job.EvalSplit);
        var l = job.Lora;
        Check(l.R >= 1, "lora.r", "must be >= 1", l.R);
        Check(l.Alpha > 0, "lora.alpha", "must be > 0", l.Alpha);
        Check(l.Dropout is >= 0 and < 1, "lora.dropout", "must be in [0, 1)", l.Dropout);
        Check(l.TargetModules.Count > 0, "lora.target_modules", "must name at least one module or be [all-linear]", "[]");
        Check(!(l.TargetModules.Contains(LoraTargets.AllLinear) && l.TargetModules.Count > 1), "lora.target_modules", "uses all-linear alone", string.Join(",", l.TargetModules));
        Check(QuantizationNames.ParseKind(l.Quantization) is not null, "lora.quantization", "must be none, nf4 or int8", l.Quantization);
        Check(l.ComputeDtype is null || QuantizationNames.ParseComputeDType(l.ComputeDtype) is not null, "lora.compute_dtype",
            "must be float32, bfloat16 or float16", l.ComputeDtype);
        var s = job.Sft;
        Check(s.MaxSeqLen >= 2, "sft.max_seq_len", "must be >= 2", s.MaxSeqLen);
        var t = job.Training;
        Check(t.MicroBatchSize >= 1, "training.micro_batch_size", "must be >= 1", t.MicroBatchSize);
        Check(t.GradientAccumulationSteps >= 1, "training.gradient_accumulation_steps", "must be >= 1", t.GradientAccumulationSteps);
        Check(t.MaxSteps > 0 || t.Epochs > 0, "training.epochs", "must be > 0 when max_steps is not set", t.Epochs);
        Check(t.MaxSteps >= 0, "training.max_steps", "must be >= 0", t.MaxSteps);
        Check(t.LearningRate > 0 && double.IsFinite(t.LearningRate), "training.learning_rate", "must be > 0", t.LearningRate);
        try { TrainingJob.TrainingSection.ParseSchedule(t.LrScheduler); }
        catch (FormatException) { errors.Add($"training.lr_scheduler must be constant, linear or cosine (got {t.LrScheduler})"); }
        Check(t.WarmupSteps >= 0, "training.warmup_steps", "must be >= 0", t.WarmupSteps);
        Check(t.WeightDecay >= 0, "training.weight_decay", "must be >= 0", t.WeightDecay);
        Check(t.AdamBeta1 is >= 0 and < 1, "training.adam_beta1", "must be in [0, 1)", t.AdamBeta1);
        Check(t.AdamBeta2 is >= 0 and < 1, "training.adam_beta2", "must be in [0, 1)", t.AdamBeta2);
        Check(t.AdamEpsilon > 0, "training.adam_epsilon", "must be > 0", t.AdamEpsilon);
        Check(t.MaxGradNorm >= 0, "training.max_grad_norm", "must be >= 0 (0 disables clipping)", t.MaxGradNorm);
        Check(t.LoggingSteps >= 1, "training.logging_steps", "must be >= 1", t.LoggingSteps);
        Check(t.EvalSteps >= 0, "training.eval_steps", "must be >= 0", t.EvalSteps);
        Check(t.SaveSteps >= 0, "training.save_steps", "must be >= 0", t.SaveSteps);
        Check(t.SaveFraction is >= 0 and <= 1, "training.save_fraction", "must be in [0, 1] (0 = off)", t.SaveFraction);
        Check(t.SaveMinutes is >= 0 and <= 10080, "training.save_minutes", "must be in [0, 10080] (0 = off)", t.SaveMinutes);
        Check(t.SaveTotalLimit >= 0, "training.save_total_limit", "must be >= 0", t.SaveTotalLimit);
        Check(t.Threads >= 0, "training.threads", "must be >= 0", t.Threads);
        Check(t.RowThreads >= 0, "training.row_threads", "must be >= 0", t.RowThreads);
        Check(t.Parallelism is >= 1 and <= 16, "training.parallelism", "must be in 1..16", t.Parallelism);
        Check(t.Parallelism <= t.GradientAccumulationSteps, "training.parallelism", "must be <= training.gradient_accumulation_steps (each replica takes whole micro-batches)", t.Parallelism);
        Check(t.Device == "cpu" || t.Device == "cuda" || t.Device.StartsWith("cuda:", StringComparison.Ordinal), "training.device", "must be cpu, cuda or cuda:N", t.Device);
        if (t.GradientCheckpointing && t.Device != "cpu" && l.Dropout > 0)
            errors.Add($"training.gradient_checkpointing on {t.Device} needs lora.dropout: 0 (got {l.Dropout}): TorchSharp 0.107 cannot save " +
                "the CUDA random generator, so dropout could not be replayed when activations are recomputed (on cpu it is replayed exactly)");
        Check(job.Eval.MaxNewTokens >= 1, "eval.max_new_tokens", "must be >= 1", job.Eval.MaxNewTokens);
        Check(job.Eval.MaxExamples >= 0, "eval.max_examples", "must be >= 0", job.Eval.MaxExamples);
        return errors;
    }

    /// <summary>YamlDotNet's "Property 'x' not found on type '…TrainingJob+TrainingSection'." → "unknown field 'x' in section training".</summary>
    private static string Clean(string message)
    {
        var m = System.Text.RegularExpressions.Regex.Match(message, @"Property '(?<field>[^']+)' not found on type '[^']*?(?:\+(?<section>\w+)Section)?'");
        if (!m.Success) return message;
        var section = m.Groups["section"].Success ? " in section " + m.Groups["section"].Value.ToLowerInvariant() : "";
        return $"unknown field '{m.Groups["field"].Value}'{section}";
    }
}

