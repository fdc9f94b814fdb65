using FineTune.Contracts.Lora;
using FineTune.Contracts.Optim;

namespace FineTune.Contracts.Jobs;

/// <summary>
/// A fine-tuning job: every hyper-parameter in one document (YAML or JSON, snake_case keys), grouped as
/// model / data / lora / sft / training / eval. <see cref="TrainingJobFile"/> reads and validates it; docs/training.md
/// lists every field with the seeds' values as examples. FineTune.Training turns the sections into its option records
/// (TrainingJobOptions); this document needs no TorchSharp, so the front door validates jobs with it.
/// </summary>
public sealed class TrainingJob
{
    /// <summary>Base model folder (HF layout: config.json, *.safetensors, tokenizer files).</summary>
    public string? Model { get; set; }

    /// <summary>Training data file (JSONL or a JSON array of conversations / instruction pairs).</summary>
    public string? Data { get; set; }

    /// <summary>Held-out data file; when absent, <see cref="EvalSplit"/> of the training data is held out.</summary>
    public string? EvalData { get; set; }

    /// <summary>
    /// Pre-tokenized data (a preprocess worker's <c>shards/&lt;hash&gt;</c> folder) for <see cref="Data"/> and, when they cover it,
    /// <see cref="EvalData"/>: training examples are read from its shards instead of encoding the data in-process. The manifest
    /// must match the model's tokenizer and chat template (FineTune.Training's ShardSource checks it).
    /// </summary>
    public string? Shards { get; set; }

    /// <summary>Fraction of the training data held out for evaluation when no eval_data is given (0 = none).</summary>
    public double EvalSplit { get; set; }

    /// <summary>Output folder: adapter/, checkpoints/, metrics.jsonl.</summary>
    public string? Output { get; set; }

    public LoraSection Lora { get; set; } = new();

    public SftSection Sft { get; set; } = new();

    public TrainingSection Training { get; set; } = new();

    public EvalSection Eval { get; set; } = new();

    public sealed class LoraSection
    {
        public int R { get; set; } = 8;
        public double Alpha { get; set; } = 16;
        public double Dropout { get; set; } = 0.05;
        /// <summary>List of module names, or the single entry "all-linear".</summary>
        public List<string> TargetModules { get; set; } = [.. LoraTargets.Default];
        public bool UseRslora { get; set; }
        public List<string> ModulesToSave { get; set; } = [];
        /// <summary>The frozen base's storage while training: none, nf4 (QLoRA) or int8.</summary>
        public string Quantization { get; set; } = "none";
        /// <summary>NF4 only: quantize the block scales again (bnb_4bit_use_double_quant).</summary>
        public bool DoubleQuant { get; set; } = true;
        /// <summary>The dtype quantized weights are dequantized to for the matmul (bnb_4bit_compute_dtype); null: the model's.</summary>
        public string? ComputeDtype { get; set; }
    }

    public sealed class SftSection
    {
        public int MaxSeqLen { get; set; } = 1024;
        public bool Packing { get; set; }
        public bool TrainOnInputs { get; set; }
        /// <summary>System prompt added to conversations that have none (optional).</summary>
        public string? SystemPrompt { get; set; }
    }

    public sealed class TrainingSection
    {
        public int MicroBatchSize { get; set; } = 2;
        public int GradientAccumulationSteps { get; set; } = 4;
        public double Epochs { get; set; } = 3;
        public int MaxSteps { get; set; }
        public double LearningRate { get; set; } = 2e-4;
        public string LrScheduler { get; set; } = "linear";
        public int WarmupSteps { get; set; } = 5;
        public double WeightDecay { get; set; }
        public double AdamBeta1 { get; set; } = 0.9;
        public double AdamBeta2 { get; set; } = 0.999;
        public double AdamEpsilon { get; set; } = 1e-8;
        public double MaxGradNorm { get; set; } = 1.0;
        public int Seed { get; set; } = 3407;
        public int LoggingSteps { get; set; } = 1;
        public int EvalSteps { get; set; }
        public int SaveSteps { get; set; }
        /// <summary>
        /// Checkpoint at least every this fraction of the job's steps (default 0.1; 0 = off): one failure (a killed replica, a
        /// lost data-parallel member) then repeats at most ~10 % of the job (or 10 steps, whichever is more), whatever save_steps says.
        /// </summary>
        public double SaveFraction { get; set; } = 0.1;
        /// <summary>Checkpoint at least every this many minutes of training (default 10; 0 = off): a cap for long jobs.</summary>
        public double SaveMinutes { get; set; } = 10;
        public int SaveTotalLimit { get; set; } = 2;
        public bool Deterministic { get; set; }
        public int Threads { get; set; }
        /// <summary>On CPU, split each micro-batch's rows over this many threads of one intra-op thread each (0 = as many as
        /// `threads`; 1 = off). Not with gradient checkpointing or data-parallel replicas (docs/training.md, "Row threads").</summary>
        public int RowThreads { get; set; }
        /// <summary>Recompute decoder-layer activations in backward instead of keeping them (less memory, ~1 more forward).</summary>
        public bool GradientCheckpointing { get; set; }
        /// <summary>cpu or cuda[:n]. On CUDA the frozen base is BF16; LoRA weights, optimizer state and loss stay FP32.</summary>
        public string Device { get; set; } = "cpu";
        /// <summary>
        /// Trainer replicas that train this job together (data parallel, 1..16, at most gradient_accumulation_steps): each takes
        /// a disjoint share of the micro-batches of every global batch. Only the trainer service reads it (docs/streams.md).
        /// </summary>
        public int Parallelism { get; set; } = 1;

        /// <summary>Parses <c>training.lr_scheduler</c> (HF's names); a <see cref="FormatException"/> names the allowed values.</summary>
        public static LrScheduleKind ParseSchedule(string value) => value.ToLowerInvariant() switch
        {
            "constant" or "constant_with_warmup" => LrScheduleKind.Constant,
            "linear" => LrScheduleKind.Linear,
            "cosine" => LrScheduleKind.Cosine,
            _ => throw new FormatException($"unknown lr_scheduler '{value}' (constant, linear, cosine)"),
        };
    }

    public sealed class EvalSection
    {
        /// <summary>Greedy-generate each held-out answer and score JSON exact match (for extraction tasks like seed 003).</summary>
        public bool JsonExactMatch { get; set; }
        /// <summary>Cap on generated tokens per answer.</summary>
        public int MaxNewTokens { get; set; } = 128;
        /// <summary>Cap on held-out examples scored by generation (0 = all).</summary>
        public int MaxExamples { get; set; }
    }
}
