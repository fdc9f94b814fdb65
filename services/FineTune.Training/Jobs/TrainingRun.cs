using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FineTune.Contracts.Jobs;
using FineTune.Data.Shards;
using FineTune.Data.Storage;
using FineTune.Models;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Generation;
using FineTune.Training.Checkpoints;
using FineTune.Training.Evaluation;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using FineTune.Training.Parallel;
using FineTune.Training.Peft;
using FineTune.Training.Preprocessing;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Jobs;

/// <summary>
/// One fine-tuning job end to end, shared by <c>ft train</c> and the trainer service: load the base model and its tokenizer,
/// get the data as preprocessed examples — from the preprocess worker's shards, or by running the same
/// <see cref="ExamplePreprocessor"/> in-process on the data files — hold out an eval split, build the rows (cut to
/// max_seq_len, packed best-fit when asked: <see cref="SftDataset"/>), inject LoRA, train (streaming
/// <see cref="TrainingEvent"/>s), evaluate before and after, write the adapter in PEFT format to &lt;output&gt;/adapter and
/// every record to &lt;output&gt;/metrics.jsonl.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    public const string AdapterFolder = "adapter";
    public const string CheckpointFolder = "checkpoints";
    public const string MetricsFile = "metrics.jsonl";
    public const string SummaryFile = "summary.json";

    private readonly CausalLM _model;
    private readonly Generator _random;
    private readonly SftTrainer _trainer;
    private readonly JsonExactMatchMetric? _exactMatch;

    private TrainingRun(TrainingJob job, string output, CausalLM model, Generator random, ConversationEncoder encoder, LoraAdapter adapter,
        SftDataset train, SftDataset? eval, SftTrainer trainer, JsonExactMatchMetric? exactMatch, Device device)
    {
        Job = job;
        Output = output;
        _model = model;
        _random = random;
        Encoder = encoder;
        Adapter = adapter;
        Train = train;
        Eval = eval;
        _trainer = trainer;
        _exactMatch = exactMatch;
        Device = device;
    }

    public TrainingJob Job { get; }
    public string Output { get; }
    public ConversationEncoder Encoder { get; }
    public LoraAdapter Adapter { get; }
    public SftDataset Train { get; }
    public SftDataset? Eval { get; }
    public Device Device { get; }
    public int TotalSteps => _trainer.TotalSteps;
    public ParameterCount Parameters => Adapter.CountParameters();

    /// <summary>
    /// Data-parallel group membership (given to <see cref="PrepareAsync"/>; default one replica). A member other than rank 0
    /// trains its shard of every step and writes nothing: no evaluation, no checkpoints, no metrics.jsonl, no adapter; it
    /// resumes from the coordinator's checkpoints.
    /// </summary>
    public IGradientSync GradientSync => _trainer.GradientSync;

    /// <summary>The token id padding is collated with.</summary>
    public int PadId => PadIdOf(Encoder);

    /// <summary>The rows of global micro-batch <paramref name="index"/>, as the trainer collates them (seeded order).</summary>
    public IReadOnlyList<SftSequence> MicroBatch(long index) => _trainer.MicroBatch(index);

    /// <summary>Evaluation before training (step 0), once <see cref="RunAsync"/> has produced it.</summary>
    public EvalRecord? Before { get; private set; }

    /// <summary>The last evaluation, once training has finished.</summary>
    public EvalRecord? After { get; private set; }

    /// <summary>Outputs of the exact-match metric on the last evaluation (held-out prompts in order).</summary>
    public IReadOnlyList<string> LastGenerations => _exactMatch?.LastOutputs ?? [];

    /// <summary>The exact-match examples: expected answers, in order (empty without the metric).</summary>
    public IReadOnlyList<string> ExactMatchExpected => _exactMatch?.Examples.Select(e => e.Expected).ToList() ?? [];

    /// <summary>The last user message of each exact-match example, in the same order (for before/after tables).</summary>
    public IReadOnlyList<string> ExactMatchPrompts { get; private init; } = [];

    /// <summary>Outputs of the exact-match metric before training (step 0; read back from the output folder after a resume).</summary>
    public IReadOnlyList<string> BeforeGenerations { get; private set; } = [];

    /// <summary>The shard folder the training examples were read from, or null when the data was encoded in-process.</summary>
    public string? Shards { get; private init; }

    /// <summary>File in the output folder holding <see cref="BeforeGenerations"/> (JSON array of strings).</summary>
    public const string BeforeGenerationsFile = "generations-before.json";

    /// <summary>
    /// Loads everything the job names; throws with the file/field at fault. Paths are relative to <paramref name="baseDirectory"/>.
    /// <paramref name="gradientSync"/>: the data-parallel group this replica trains in (null: alone).
    /// </summary>
    public static async Task<TrainingRun> PrepareAsync(TrainingJob job, string? baseDirectory = null, CancellationToken cancellationToken = default,
        IGradientSync? gradientSync = null)
    {
        var errors = TrainingJobFile.Validate(job);
        if (errors.Count > 0) throw new TrainingJobException("job: " + string.Join("; ", errors));
        string Resolve(string? path, string field) => path is null
            ? throw new TrainingJobException($"job: {field} is required")
            : Path.GetFullPath(path, baseDirectory ?? Environment.CurrentDirectory);
        var modelFolder = Resolve(job.Model, "model");
        var output = Resolve(job.Output ?? "out", "output");
        var t = job.Training;

        ApplyDeterminism(t.ToOptions());
        var device = t.Device == "cpu" ? CPU : new Device(t.Device);
        // TorchSharp has no autocast: on CUDA the frozen base is BF16 and LoRA weights, optimizer state and loss are FP32.
        var dtype = device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

        var preprocessor = new ExamplePreprocessor(ConversationEncoder.FromFolder(modelFolder), PreprocessOptions.ForJob(job));
        var dataFile = Resolve(job.Data, "data");
        var evalFile = job.EvalData is null ? null : Resolve(job.EvalData, "eval_data");
        var data = job.Shards is null
            ? await PreprocessInProcessAsync(job, preprocessor, dataFile, evalFile, cancellationToken)
            : await ReadShardsAsync(job, preprocessor, modelFolder, dataFile, evalFile, Resolve(job.Shards, "shards"), baseDirectory, cancellationToken);
        var sft = job.Sft.ToOptions();
        var train = SftDataset.Build(data.Train, sft);
        var eval = data.Eval.Examples.Count == 0 ? null : SftDataset.Build(data.Eval, sft with { Packing = false, TrainOnInputs = false });

        var lora = job.Lora.ToOptions();
        var model = CausalLM.Load(modelFolder, lora.Quantization, device, dtype);   // nf4/int8: quantized on load
        // The job's own random stream: lora_A first, then (on CPU) every dropout mask, whatever else the process draws.
        var random = new Generator((ulong)t.Seed, CPU);
        try
        {
            var trainable = new CausalLMTrainable(model);
            var adapter = LoraInjector.Inject(trainable, lora, random);
            var (exactMatch, prompts) = ExactMatch(job, model, preprocessor.Encoder, data.EvalConversations);
            var trainer = new SftTrainer(adapter, train, eval, t.ToOptions(), PadIdOf(preprocessor.Encoder), device,
                Path.Combine(output, CheckpointFolder), new PeftAdapterMetadata(job.Model),
                exactMatch is null ? [] : [exactMatch], gradientSync, random);
            return new TrainingRun(job, output, model, random, preprocessor.Encoder, adapter, train, eval, trainer, exactMatch, device)
                { ExactMatchPrompts = prompts, Shards = data.ShardFolder };
        }
        catch
        {
            random.Dispose();
            model.Dispose();
            throw;
        }
    }

    private static int PadIdOf(ConversationEncoder encoder) => encoder.Tokenizer.PadId ?? encoder.Tokenizer.EosId ?? 0;

    /// <summary>The JSON exact-match metric on the held-out conversations (when the job asks), and their last user messages.</summary>
    private static (JsonExactMatchMetric? Metric, IReadOnlyList<string> Prompts) ExactMatch(TrainingJob job, CausalLM model, ConversationEncoder encoder,
        List<IReadOnlyList<ChatMessage>> evalSet)
    {
        if (!job.Eval.JsonExactMatch || evalSet.Count == 0) return (null, []);
        var answered = evalSet
            .Where(c => c.Count >= 2 && c[^1].Role == "assistant")
            .Take(job.Eval.MaxExamples > 0 ? job.Eval.MaxExamples : int.MaxValue)
            .ToList();
        var examples = answered
            .Select(c => new GenerationExample(encoder.EncodePrompt(c.Take(c.Count - 1).ToList()), c[^1].Content ?? ""))
            .ToList();
        var modelName = Path.GetFileName((job.Model ?? "finetune").TrimEnd('/'));
        var metric = new JsonExactMatchMetric(examples, (m, prompts, ct) => GenerateGreedy(model, encoder, prompts, job.Eval.MaxNewTokens, ct, modelName: modelName));
        var prompts = answered
            .Select(c => c.Take(c.Count - 1).LastOrDefault(m => m.Role == "user")?.Content ?? "")
            .ToList();
        return (metric, prompts);
    }

    /// <summary>
    /// Trains to the end (or resumes from the newest checkpoint when <paramref name="resume"/> is set), yielding every record.
    /// Records are appended to metrics.jsonl; the adapter and summary.json are written at the end.
    /// </summary>
    public async IAsyncEnumerable<TrainingEvent> RunAsync(bool resume = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var resumedFrom = resume ? _trainer.ResumeFromLatest() : null;
        if (!_trainer.IsCoordinator)
        {
            await foreach (var e in _trainer.RunAsync(cancellationToken)) yield return e;
            yield break;
        }

        Directory.CreateDirectory(Output);
        await using var metrics = new StreamWriter(Path.Combine(Output, MetricsFile), append: resumedFrom is not null);
        var clock = Stopwatch.StartNew();

        if (resumedFrom is null)
        {
            Before = await EvaluateBeforeAsync(metrics, cancellationToken);
            if (Before is not null) yield return Before;
        }
        else await RestoreBeforeAsync(resumedFrom, cancellationToken);

        await foreach (var e in _trainer.RunAsync(cancellationToken))
        {
            if (e is EvalRecord eval) After = eval;
            await WriteRecordAsync(metrics, e);
            yield return e;
        }

        PeftAdapterFiles.Save(Adapter, Path.Combine(Output, AdapterFolder), new PeftAdapterMetadata(Job.Model));
        await WriteSummaryAsync(resumedFrom, clock.Elapsed, cancellationToken);
    }

    /// <summary>The step-0 evaluation (recorded in the state and metrics.jsonl) and the generations it made.</summary>
    private async Task<EvalRecord?> EvaluateBeforeAsync(StreamWriter metrics, CancellationToken cancellationToken)
    {
        var before = _trainer.Evaluate(cancellationToken);
        if (_exactMatch is not null)
        {
            BeforeGenerations = [.. _exactMatch.LastOutputs];
            await WriteAtomicAsync(Path.Combine(Output, BeforeGenerationsFile), JsonSerializer.Serialize(BeforeGenerations), cancellationToken);
        }
        if (before is not null)
        {
            _trainer.State.Evals.Add(before);
            await WriteRecordAsync(metrics, before);
        }
        return before;
    }

    /// <summary>After a resume: the step-0 evaluation from the checkpoint, its generations from the output folder.</summary>
    private async Task RestoreBeforeAsync(string resumedFrom, CancellationToken cancellationToken)
    {
        Before = CheckpointStore.ReadState(resumedFrom).Evals.FirstOrDefault(e => e.Step == 0);
        var before = Path.Combine(Output, BeforeGenerationsFile);
        if (File.Exists(before)) BeforeGenerations = JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(before, cancellationToken)) ?? [];
    }

    private async Task WriteSummaryAsync(string? resumedFrom, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var summary = new
        {
            adapter = Path.Combine(Output, AdapterFolder),
            steps = _trainer.State.GlobalStep,
            train_examples = Train.Examples,
            shards = Shards,
            train_rows = Train.Rows.Count,
            truncated = Train.Truncated,
            dropped_without_labels = Train.DroppedWithoutLabels,
            eval_examples = Eval?.Examples ?? 0,
            parameters = new { trainable = Parameters.Trainable, total = Parameters.Total, percent = Parameters.Percent },
            before = Before,
            after = After,
            final_loss = _trainer.State.Steps.LastOrDefault()?.Loss,
            samples = _exactMatch is null ? null : _exactMatch.Examples.Zip(_exactMatch.LastOutputs)
                .Take(10).Select(p => new { expected = p.First.Expected, generated = p.Second }).ToList(),
            seconds = elapsed.TotalSeconds,
            resumed_from = resumedFrom,
        };
        await File.WriteAllTextAsync(Path.Combine(Output, SummaryFile), JsonSerializer.Serialize(summary, CheckpointStore.Json), cancellationToken);
    }

    /// <summary>Writes a checkpoint now (between steps): the trainer service does this on shutdown before releasing the job.</summary>
    public string SaveCheckpoint() => _trainer.SaveCheckpoint();

    /// <summary>Writes the PEFT adapter now (e.g. after cancelling).</summary>
    public string SaveAdapter()
    {
        var folder = Path.Combine(Output, AdapterFolder);
        PeftAdapterFiles.Save(Adapter, folder, new PeftAdapterMetadata(Job.Model));
        return folder;
    }

    public void Dispose()
    {
        _model.Dispose();
        _random.Dispose();
    }

    /// <summary>
    /// Seeds torch and sets the thread count. TorchSharp 0.107 does not implement use_deterministic_algorithms, so the
    /// deterministic CPU mode is one intra-op thread (CPU kernels then reduce in a fixed order) plus the seed.
    /// </summary>
    public static void ApplyDeterminism(TrainingOptions options)
    {
        var threads = options.Deterministic ? 1 : options.Threads;
        if (threads > 0) torch.set_num_threads(threads);
        torch.manual_seed(options.Seed);
    }

    /// <summary>The preprocessed train and held-out examples, and the held-out conversations with the system prompt (for generation metrics).</summary>
    private sealed record JobData(PreprocessedExamples Train, PreprocessedExamples Eval,
        List<IReadOnlyList<ChatMessage>> EvalConversations, string? ShardFolder);

    /// <summary>Held-out examples are always masked to the assistant turns, whatever train_on_inputs says.</summary>
    private static ExamplePreprocessor HeldOut(ExamplePreprocessor preprocessor) =>
        new(preprocessor.Encoder, preprocessor.Options with { TrainOnInputs = false });

    private static List<IReadOnlyList<ChatMessage>> WithSystemPrompt(ExamplePreprocessor preprocessor, IEnumerable<IReadOnlyList<ChatMessage>> conversations) =>
        [.. conversations.Select(preprocessor.WithSystemPrompt)];

    /// <summary>
    /// Without shards: reads the data and eval files (or splits eval_split off the data, seeded) and runs them through the
    /// preprocessor in-process — the same step the preprocess worker runs with a job's options, giving the same examples.
    /// </summary>
    private static async Task<JobData> PreprocessInProcessAsync(TrainingJob job, ExamplePreprocessor preprocessor, string dataFile, string? evalFile,
        CancellationToken cancellationToken)
    {
        var conversations = await ConversationFile.ReadAsync(dataFile, cancellationToken);
        List<IReadOnlyList<ChatMessage>> trainSet, evalSet;
        if (evalFile is not null)
        {
            trainSet = conversations;
            evalSet = await ConversationFile.ReadAsync(evalFile, cancellationToken);
        }
        else
        {
            var members = DatasetSplit.EvalMembers(conversations.Count, job.EvalSplit, job.Training.Seed);
            trainSet = [.. conversations.Where((_, i) => !members[i])];
            evalSet = [.. conversations.Where((_, i) => members[i])];
        }
        return new JobData(preprocessor.ProcessAll(trainSet), HeldOut(preprocessor).ProcessAll(evalSet), WithSystemPrompt(preprocessor, evalSet), null);
    }

    /// <summary>
    /// With shards (<see cref="TrainingJob.Shards"/>), the training examples are the shards' records: the "train" split, or
    /// with eval_split the "records" split (every record in file order, checked to align with the data file) split the same
    /// seeded way; the held-out examples come from the shards' "eval" split when eval_data is that same dataset's eval file,
    /// else eval_data is preprocessed in-process (generation metrics need its text anyway).
    /// </summary>
    private static async Task<JobData> ReadShardsAsync(TrainingJob job, ExamplePreprocessor preprocessor, string modelFolder, string dataFile,
        string? evalFile, string shardFolder, string? baseDirectory, CancellationToken cancellationToken)
    {
        var shards = ShardSource.Open(shardFolder);
        shards.CheckMatches(preprocessor.Encoder, modelFolder, job);
        if (evalFile is not null)
        {
            var evalSet = await ConversationFile.ReadAsync(evalFile, cancellationToken);
            var datasetEval = Path.GetFullPath(Path.Combine("datasets", shards.Manifest.DatasetId, DatasetFiles.Eval), baseDirectory ?? Environment.CurrentDirectory);
            var fromShards = !shards.Manifest.TrainOnInputs && shards.Has(ShardManifest.EvalSplit) && Path.GetFullPath(evalFile) == datasetEval;
            var eval = fromShards ? shards.Read(ShardManifest.EvalSplit) : HeldOut(preprocessor).ProcessAll(evalSet);
            return new JobData(shards.Read(ShardManifest.TrainSplit), eval, WithSystemPrompt(preprocessor, evalSet), shardFolder);
        }
        if (job.EvalSplit <= 0) return new JobData(shards.Read(ShardManifest.TrainSplit), new([], 0, 0), [], shardFolder);

        // eval_split: the shards' records split exactly as the data file's conversations are.
        var records = shards.Read(ShardManifest.RecordsSplit).Examples;
        var all = await ConversationFile.ReadAsync(dataFile, cancellationToken);
        if (records.Count != all.Count)
            throw new TrainingJobException($"job: shards: {Path.Combine(shardFolder, ShardManifest.FileName)} has {records.Count} records but {dataFile} has {all.Count}: they are not the same data");
        var split = DatasetSplit.EvalMembers(all.Count, job.EvalSplit, job.Training.Seed);
        var heldOut = all.Where((_, i) => split[i]).ToList();
        var evalExamples = shards.Manifest.TrainOnInputs
            ? HeldOut(preprocessor).ProcessAll(heldOut)
            : new PreprocessedExamples([.. records.Where((_, i) => split[i])], 0, 0);
        return new JobData(new([.. records.Where((_, i) => !split[i])], 0, 0), evalExamples, WithSystemPrompt(preprocessor, heldOut), shardFolder);
    }

    private static async Task WriteAtomicAsync(string path, string text, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp";
        await File.WriteAllTextAsync(temp, text, cancellationToken);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Batched greedy decoding with the KV cache (FineTune.Models' TextGenerator), stopping at end-of-turn ids.</summary>
    public static IReadOnlyList<string> GenerateGreedy(CausalLM model, ConversationEncoder encoder, IReadOnlyList<int[]> prompts,
        int maxNewTokens, CancellationToken cancellationToken, int batchSize = 16, string modelName = "finetune")
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            var generator = new TextGenerator(model, ids => encoder.Tokenizer.Decode(ids, skipSpecialTokens: true));
            var options = new GenerationOptions
            {
                Greedy = true, MaxNewTokens = maxNewTokens,
                EosTokenIds = [.. encoder.EndOfTurnIds.Concat(encoder.Tokenizer.EosIds).Distinct()],
            };
            var outputs = new List<string>(prompts.Count);
            for (var start = 0; start < prompts.Count; start += batchSize)
            {
                var chunk = prompts.Skip(start).Take(batchSize).ToList();
                var started = DateTimeOffset.UtcNow;
                var index = 0;
                foreach (var result in generator.Generate(chunk, options, cancellationToken: cancellationToken))
                {
                    var text = encoder.Tokenizer.Decode(result.TokenIds, skipSpecialTokens: true);
                    outputs.Add(text);
                    var prompt = chunk[Math.Min(index++, chunk.Count - 1)];
                    Telemetry.GenAiTelemetry.Completion(modelName, started, maxNewTokens, prompt.Length, result.TokenIds.Length,
                        result.FinishReason.ToString().ToLowerInvariant(), Telemetry.GenAiTelemetry.CaptureContent ? encoder.Tokenizer.Decode(prompt, skipSpecialTokens: false) : "", text);
                }
            }
            return outputs;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static async Task WriteRecordAsync(StreamWriter writer, TrainingEvent e)
    {
        var kind = e switch { StepRecord => "train", EvalRecord => "eval", CheckpointRecord => "checkpoint", _ => "event" };
        var node = JsonSerializer.SerializeToNode(e, e.GetType(), CheckpointStore.Json)!.AsObject();
        node["kind"] = kind;
        await writer.WriteLineAsync(node.ToJsonString());
        await writer.FlushAsync();
    }
}
