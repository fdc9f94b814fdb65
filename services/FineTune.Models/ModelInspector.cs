using System.Text.Json;
using FineTune.Formats.Safetensors;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>What a model folder holds, read from its headers only (no weights are loaded).</summary>
public sealed record ModelSummary(
    string Folder,
    string Architecture,
    string ModelType,
    long ParameterCount,
    IReadOnlyDictionary<string, long> ParametersByDtype,
    long WeightBytes,
    IReadOnlyList<string> WeightFiles,
    int Layers,
    int HiddenSize,
    int IntermediateSize,
    int AttentionHeads,
    int KeyValueHeads,
    int HeadDim,
    int VocabSize,
    int MaxPositionEmbeddings,
    bool TieWordEmbeddings,
    string? RopeScaling,
    int? SlidingWindow,
    string TokenizerKind,
    bool HasChatTemplate);

public static class ModelInspector
{
    /// <summary>Summarises <paramref name="folder"/>: config, checkpoint headers, tokenizer files.</summary>
    public static ModelSummary Inspect(string folder)
    {
        folder = Path.GetFullPath(folder);
        var config = ModelConfig.FromFolder(folder);
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        var byDType = checkpoint.Tensors.GroupBy(t => t.DType.HeaderName())
            .ToDictionary(g => g.Key, g => g.Sum(t => t.ElementCount));
        return new ModelSummary(
            folder, config.Architecture, config.ModelType,
            byDType.Values.Sum(), byDType, checkpoint.TotalBytes,
            [.. checkpoint.Files.Select(f => Path.GetFileName(f.Path))],
            config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads,
            config.NumKeyValueHeads, config.HeadDim, config.VocabSize, config.MaxPositionEmbeddings,
            config.TieWordEmbeddings,
            config.RopeScaling is { } s ? $"{s.Type} x{s.Factor}" : null,
            config.SlidingWindow,
            TokenizerKind(folder),
            HasChatTemplate(folder));
    }

    /// <summary>
    /// The tokenizer family from tokenizer.json: "byte-level BPE" (GPT-2/Qwen2/Llama 3), "SentencePiece BPE"
    /// (▁ and byte fallback: Llama 2/Mistral/TinyLlama), "Unigram", "WordPiece", or "none".
    /// </summary>
    public static string TokenizerKind(string folder)
    {
        var path = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(path)) return File.Exists(Path.Combine(folder, "tokenizer.model")) ? "SentencePiece model (tokenizer.model)" : "none";
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var root = doc.RootElement;
            var type = root.TryGetProperty("model", out var m) && m.TryGetProperty("type", out var t) ? t.GetString() : null;
            var text = root.GetRawText();
            return type switch
            {
                "BPE" when m.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True => "SentencePiece BPE (byte fallback)",
                "BPE" when text.Contains("\"ByteLevel\"", StringComparison.Ordinal) => "byte-level BPE",
                "BPE" => "BPE",
                null => "unknown",
                _ => type,
            };
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }

    private static bool HasChatTemplate(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(Path.Combine(folder, "chat_template.jinja"))) return true;
        if (!File.Exists(path)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("chat_template", out var ct) && ct.ValueKind is JsonValueKind.String or JsonValueKind.Array;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }
    }
}
