using System.Text.Json;
using FineTune.Training.Lora;
using FineTune.Training.Peft;
using FineTune.Training.Optim;

namespace FineTune.Training.Checkpoints;

/// <summary>
/// checkpoint-NNNNNN folders under one directory, each holding the adapter in PEFT format (adapter_config.json,
/// adapter_model.safetensors), optimizer.bin (the AdamW state, in TorchSharp's AdamW layout), trainer_state.json. A checkpoint is written
/// to a temporary folder and renamed into place, so a crash never leaves a half-written one that looks complete.
/// </summary>
public sealed class CheckpointStore(string directory)
{
    public const string StateFile = "trainer_state.json";
    public const string OptimizerFile = "optimizer.bin";
    private const string Prefix = "checkpoint-";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public string Directory { get; } = Path.GetFullPath(directory);

    public string Save(TrainerState state, LoraAdapter adapter, AdamWOptimizer optimizer, PeftAdapterMetadata metadata)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var final = Path.Combine(Directory, $"{Prefix}{state.GlobalStep:D6}");
        var temp = Path.Combine(Directory, $".tmp-{Prefix}{state.GlobalStep:D6}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(temp);
        try
        {
            PeftAdapterFiles.Save(adapter, temp, metadata);
            using (var stream = File.Create(Path.Combine(temp, OptimizerFile)))
            using (var writer = new BinaryWriter(stream))
                optimizer.Save(writer);
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(temp, final);
            return final;
        }
        catch
        {
            try { System.IO.Directory.Delete(temp, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Complete checkpoints, oldest first.</summary>
    public IReadOnlyList<string> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return [.. System.IO.Directory.GetDirectories(Directory, Prefix + "*")
            .Where(d => File.Exists(Path.Combine(d, StateFile)))
            .OrderBy(d => d, StringComparer.Ordinal)];
    }

    public string? Latest() => List().LastOrDefault();

    /// <summary>Deletes the oldest checkpoints beyond <paramref name="keep"/> (0 keeps all).</summary>
    public void Prune(int keep)
    {
        if (keep <= 0) return;
        foreach (var old in List().SkipLast(keep)) System.IO.Directory.Delete(old, recursive: true);
    }

    public static TrainerState ReadState(string checkpoint)
    {
        var path = Path.Combine(checkpoint, StateFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{checkpoint} is not a checkpoint: {StateFile} is missing", path);
        var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json)
            ?? throw new InvalidDataException($"{path}: empty trainer state");
        if (state.Version != TrainerState.CurrentVersion)
            throw new InvalidDataException($"{path}: trainer state version {state.Version}, this build reads version {TrainerState.CurrentVersion}");
        return state;
    }

    /// <summary>Restores adapter tensors and optimizer state from <paramref name="checkpoint"/>; returns its trainer state.</summary>
    public static TrainerState Restore(string checkpoint, LoraAdapter adapter, AdamWOptimizer optimizer)
    {
        var state = ReadState(checkpoint);
        PeftAdapterFiles.LoadInto(adapter, checkpoint);
        var optimizerPath = Path.Combine(checkpoint, OptimizerFile);
        if (!File.Exists(optimizerPath)) throw new FileNotFoundException($"{checkpoint}: {OptimizerFile} is missing", optimizerPath);
        using (var stream = File.OpenRead(optimizerPath))
        using (var reader = new BinaryReader(stream))
            optimizer.Load(reader);
        return state;
    }
}
