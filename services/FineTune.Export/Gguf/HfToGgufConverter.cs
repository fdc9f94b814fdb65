// Hugging Face folder (config.json, tokenizer files, safetensors, possibly sharded) → GGUF v3 that llama.cpp loads.
// Streaming: one tensor at a time is quantized across all cores (each block checked by dequantizing it), each core
// converting its part to float32 a cache-sized chunk at a time straight from the memory-mapped checkpoint and adapting
// it to llama.cpp's graph (llama q/k rows permuted; Gemma norms stored as 1 + w, its query scale folded into
// attn_q_norm). Tensors are written on a background task while the next ones are quantized; the file appears
// atomically when complete. Metadata per shared/reference/gguf-ollama.md §3–4 and llama.cpp's loaders.
using System.Diagnostics;
using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;
using FineTune.Formats.Safetensors;
using FineTune.Models.Core;

namespace FineTune.Export.Gguf;

public sealed record GgufTensorReport(string Name, GgmlType Type, long[] Ne, double? RelativeError);

public sealed record GgufExportResult(string Path, GgufFileType FileType, long InputBytes, long OutputBytes, TimeSpan Elapsed,
    IReadOnlyList<GgufTensorReport> Tensors)
{
    /// <summary>Where llama.cpp will behave differently from the Hugging Face model (see <see cref="GgufModelParameters.Warnings"/>).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public double InputMegabytesPerSecond => InputBytes / 1e6 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

public sealed class HfToGgufConverter
{
    /// <summary>When set, each quantized tensor is dequantized and checked against its original (error bound per type).</summary>
    public bool Verify { get; init; }

    /// <summary>Value of general.name; defaults to the folder name.</summary>
    public string? ModelName { get; init; }

    public IProgress<(int Done, int Total, string Tensor)>? Progress { get; init; }

    public GgufExportResult Convert(string hfFolder, string outputPath, GgufFileType fileType)
    {
        var sw = Stopwatch.StartNew();
        var p = GgufModelParameters.FromFolder(hfFolder);
        using var checkpoint = SafetensorsCheckpoint.Open(hfFolder);
        var sources = MapTensors(checkpoint, p);
        if (!sources.TryGetValue(GgufTensorNames.TokenEmbedding, out var embd))
            throw new InvalidDataException($"{checkpoint.Source}: model.embed_tokens.weight is missing.");
        var vocabRows = (int)embd.Shape[0];
        var vocab = GgufVocabulary.FromFolder(hfFolder, vocabRows, p.Architecture);
        var extra = GeneratedTensors(p);

        var planned = sources.Select(kv => new PlannedTensor(kv.Key, kv.Value.Shape.Reverse().ToArray())).ToList();
        planned.AddRange(extra.Select(kv => new PlannedTensor(kv.Key, [kv.Value.Length])));
        var plan = QuantizationPlan.Plan(fileType, planned);

        using var w = new GgufWriter(outputPath, p.Architecture);
        WriteMetadata(w, p, vocab, fileType, plan.Any(x => GgmlTypeInfo.Of(x.Type).IsQuantized), ModelName ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(hfFolder))));
        foreach (var (t, type) in plan) w.AddTensorInfo(t.Name, t.Ne.Reverse().ToArray(), type);
        w.WriteHeader();

        var (reports, inputBytes) = WriteTensors(w, plan, checkpoint, sources, extra, p);
        w.Commit();
        return new GgufExportResult(Path.GetFullPath(outputPath), fileType, inputBytes, new FileInfo(outputPath).Length, sw.Elapsed, reports)
        {
            Warnings = p.Warnings,
        };
    }

    /// <summary>
    /// Reads, adapts, quantizes (with the round-trip check) and writes every tensor in plan order. Pipelined: tensors are
    /// written on a background task (<see cref="TensorWriteQueue"/>) while the next ones are read and quantized on all cores.
    /// </summary>
    private (List<GgufTensorReport> Reports, long InputBytes) WriteTensors(GgufWriter w, IReadOnlyList<(PlannedTensor Tensor, GgmlType Type)> plan,
        SafetensorsCheckpoint checkpoint, Dictionary<string, SafetensorInfo> sources, Dictionary<string, float[]> extra, GgufModelParameters p)
    {
        var reports = new List<GgufTensorReport>(plan.Count);
        long inputBytes = 0;
        var writes = new TensorWriteQueue(w);
        try
        {
            for (var i = 0; i < plan.Count; i++)
            {
                var (t, type) = plan[i];
                var count = t.Ne.Aggregate(1L, (a, b) => a * b);
                ElementSource source;
                if (extra.TryGetValue(t.Name, out var generated)) source = ElementSources.Of(generated);
                else
                {
                    source = SourceOf(t.Name, sources[t.Name], checkpoint, p);
                    inputBytes += sources[t.Name].ByteLength;
                }
                var length = checked((int)GgmlTypeInfo.Of(type).RowBytes(count));
                var bytes = writes.Rent(length);
                var err = Quantize(t.Name, type, source, count, bytes);
                writes.Enqueue(t.Name, bytes, length);
                reports.Add(new GgufTensorReport(t.Name, type, t.Ne, err));
                Progress?.Report((i + 1, plan.Count, t.Name));
            }
            writes.Complete();
        }
        finally
        {
            writes.WaitQuietly();   // a failure stops the loop; writes in flight still end before the writer is disposed
        }
        return (reports, inputBytes);
    }

    /// <summary>Where GGUF tensor <paramref name="ggufName"/>'s float32 elements come from, adapted to llama.cpp's graph.</summary>
    private static ElementSource SourceOf(string ggufName, SafetensorInfo src, SafetensorsCheckpoint checkpoint, GgufModelParameters p)
    {
        var (sourceRow, columns) = p.PermutesQk ? QkSourceRows(ggufName, src.Shape, p) : (null, 1);
        var source = HfTensorData.Elements(checkpoint, src.Name, sourceRow, columns);
        if (!p.UnitOffsetNorms || !ggufName.EndsWith("norm.weight", StringComparison.Ordinal)) return source;
        return (start, scratch) =>
        {
            source(start, scratch).CopyTo(scratch);
            AdaptGemmaNorm(ggufName, scratch, p);
            return scratch;
        };
    }

    /// <summary>GGUF name → HF tensor; rejects tensors llama.cpp's graph would not know.</summary>
    private static Dictionary<string, SafetensorInfo> MapTensors(SafetensorsCheckpoint checkpoint, GgufModelParameters p)
    {
        var sources = new Dictionary<string, SafetensorInfo>(StringComparer.Ordinal);
        foreach (var t in checkpoint.Tensors)
        {
            if (GgufTensorNames.IsIgnored(t.Name)) continue;
            var gguf = GgufTensorNames.TryMap(t.Name, p.Architecture)
                ?? throw new NotSupportedException($"{checkpoint.Source}: tensor '{t.Name}' has no GGUF counterpart for architecture '{p.Architecture}'.");
            if (gguf == GgufTensorNames.Output && p.TieWordEmbeddings) continue; // llama.cpp reuses token_embd
            sources[gguf] = t;
        }
        return sources;
    }

    /// <summary>Tensors llama.cpp wants that the checkpoint does not store: llama3 rope_freqs, LongRoPE factors.</summary>
    private static Dictionary<string, float[]> GeneratedTensors(GgufModelParameters p)
    {
        var extra = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (p.RopeScaling?.Type == "llama3") extra[GgufTensorNames.RopeFreqs] = p.Llama3RopeFactors();
        if (p.LongRopeShort is not null)
        {
            extra[GgufTensorNames.RopeFactorsShort] = p.LongRopeShort;
            extra[GgufTensorNames.RopeFactorsLong] = p.LongRopeLong!;
        }
        return extra;
    }

    /// <summary>Quantizes one tensor; with <see cref="Verify"/>, also measures the round trip's error and fails past the type's bound.</summary>
    /// <remarks>The check dequantizes each block right after quantizing it (GgmlQuantizer.QuantizeChecked), so it reads the bytes that are written.</remarks>
    private double? Quantize(string name, GgmlType type, ElementSource source, long count, byte[] bytes)
    {
        var measured = GgmlQuantizer.QuantizeChecked(type, source, count, bytes, measure: Verify);
        if (!Verify) return null;
        var err = measured.Relative;
        if (double.IsNaN(err))   // a NaN or infinite weight: no bound can hold, and llama.cpp would compute with it
            throw new InvalidOperationException($"Tensor '{name}' holds NaN or infinite values; a model with them cannot be exported.");
        if (err > QuantizationErrorBound.RelativeRms(type))
            throw new InvalidOperationException($"Tensor '{name}' as {type}: relative RMS error {err:G3} exceeds the bound {QuantizationErrorBound.RelativeRms(type):G3}.");
        return err;
    }

    /// <summary>Gemma norms: llama.cpp multiplies by the stored weight, HF by 1 + w; attn_q_norm also carries the query scale.</summary>
    private static void AdaptGemmaNorm(string ggufName, Span<float> data, GgufModelParameters p)
    {
        var factor = ggufName.EndsWith(".attn_q_norm.weight", StringComparison.Ordinal) ? p.QueryNormFactor : 1f;
        for (var i = 0; i < data.Length; i++) data[i] = (data[i] + 1) * factor;
    }

    private static void WriteMetadata(GgufWriter w, GgufModelParameters p, GgufVocabulary vocab, GgufFileType fileType, bool anyQuantized, string name)
    {
        w.AddType("model");
        w.AddName(name);
        w.AddContextLength((uint)p.ContextLength);
        w.AddEmbeddingLength((uint)p.HiddenSize);
        w.AddBlockCount((uint)p.Layers);
        w.AddFeedForwardLength((uint)p.IntermediateSize);
        w.AddHeadCount((uint)p.Heads);
        w.AddHeadCountKv((uint)p.KvHeads);
        w.AddLayerNormRmsEps(p.RmsNormEps);
        w.AddRopeFreqBase(p.RopeTheta);
        w.AddRopeDimensionCount((uint)p.HeadDim);
        if (p.ExplicitHeadDim)
        {
            w.AddKeyLength((uint)p.HeadDim);
            w.AddValueLength((uint)p.HeadDim);
        }
        if (p.Architecture == "llama") w.AddVocabSize((uint)vocab.Tokens.Length);
        WriteFamilyMetadata(w, p);
        if (p.RopeScaling is { Type: "linear" or "yarn" } rs)
        {
            w.AddRopeScalingType(rs.Type);
            w.AddRopeScalingFactor(rs.Factor);
            if (rs.OriginalContextLength is { } oc) w.AddRopeScalingOriginalContextLength((uint)oc);
        }
        w.AddFileType(fileType.FileType);
        if (anyQuantized) w.AddQuantizationVersion();
        vocab.WriteTo(w);
    }

    /// <summary>The keys of llama.cpp's gemma3 and phi3 loaders (src/models/gemma3.cpp, phi3.cpp; llama-model.cpp).</summary>
    private static void WriteFamilyMetadata(GgufWriter w, GgufModelParameters p)
    {
        var a = p.Architecture;
        if (p.SlidingWindow is { } window)
        {
            w.AddUInt32($"{a}.attention.sliding_window", (uint)window);
            // Per layer, 1 = sliding (llama.cpp reads a bool/int array before falling back to its period-6 default).
            w.AddInt32s($"{a}.attention.sliding_window_pattern", p.SlidingLayers!.Select(s => s ? 1 : 0));
            if (p.RopeLocalTheta is { } local) w.AddFloat32($"{a}.rope.freq_base_swa", local);
        }
        if (p.FinalLogitSoftcapping is { } cap) w.AddFloat32($"{a}.final_logit_softcapping", cap);
        if (p.RopeAttentionFactor is { } af) w.AddFloat32($"{a}.rope.scaling.attn_factor", af);
        if (p.OriginalContextLength is { } oc) w.AddRopeScalingOriginalContextLength((uint)oc);
    }

    /// <summary>The llama q/k row order of attn_q/attn_k weights and biases; none for other tensors.</summary>
    private static (Func<long, long>? SourceRow, long Columns) QkSourceRows(string ggufName, long[] torchShape, GgufModelParameters p)
    {
        var isQ = ggufName.EndsWith(".attn_q.weight", StringComparison.Ordinal) || ggufName.EndsWith(".attn_q.bias", StringComparison.Ordinal);
        var isK = ggufName.EndsWith(".attn_k.weight", StringComparison.Ordinal) || ggufName.EndsWith(".attn_k.bias", StringComparison.Ordinal);
        if (!isQ && !isK) return (null, 1);
        var columns = torchShape.Length > 1 ? torchShape[1] : 1;
        return (LlamaQkPermutation.SourceRows(torchShape[0], isQ ? p.Heads : p.KvHeads), columns);
    }
}
