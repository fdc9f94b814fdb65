// The output file types we produce and their general.file_type (llama_ftype) codes.
namespace FineTune.Formats.Gguf;

/// <summary>A GGUF output type as users name it (<c>f16</c>, <c>q4_k_m</c>, …).</summary>
public sealed record GgufFileType(string Name, LlamaFileType FileType, GgmlType DefaultType)
{
    public static readonly GgufFileType F32 = new("f32", LlamaFileType.AllF32, GgmlType.F32);
    public static readonly GgufFileType F16 = new("f16", LlamaFileType.MostlyF16, GgmlType.F16);
    public static readonly GgufFileType BF16 = new("bf16", LlamaFileType.MostlyBF16, GgmlType.BF16);
    public static readonly GgufFileType Q8_0 = new("q8_0", LlamaFileType.MostlyQ8_0, GgmlType.Q8_0);
    public static readonly GgufFileType Q4_0 = new("q4_0", LlamaFileType.MostlyQ4_0, GgmlType.Q4_0);
    public static readonly GgufFileType Q4_K_M = new("q4_k_m", LlamaFileType.MostlyQ4_K_M, GgmlType.Q4_K);

    public static IReadOnlyList<GgufFileType> All { get; } = [F32, F16, BF16, Q8_0, Q4_0, Q4_K_M];

    public bool IsQuantized => DefaultType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);

    public static GgufFileType Parse(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown GGUF type '{name}'; expected one of {string.Join(", ", All.Select(t => t.Name))}.");

    public override string ToString() => Name;
}
