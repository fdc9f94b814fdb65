// export.json: what an export produced, with the sha256 of every artifact and of its inputs. The input hash makes the
// export idempotent: a second request with the same inputs finds a manifest whose artifacts still hash the same, and
// skips the work.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTune.Export;

public sealed record ExportArtifact(string Kind, string Path, long Bytes, string Sha256);

public sealed record ExportManifest
{
    public const string FileName = "export.json";

    public required string InputHash { get; init; }
    public required string GgufType { get; init; }
    public required string Architecture { get; init; }
    public required string ModelName { get; init; }
    public required IReadOnlyList<ExportArtifact> Artifacts { get; init; }
    public string? AdapterForm { get; init; }
    public required string OllamaCreateCommand { get; init; }
    public double MergeSeconds { get; init; }
    public double GgufSeconds { get; init; }
    public double GgufInputMegabytesPerSecond { get; init; }
    public IReadOnlyDictionary<string, int>? TensorTypes { get; init; }
    public string? Verification { get; init; }
    public string? Registration { get; init; }
    public string? RegistrationNote { get; init; }
    public IReadOnlyList<Ollama.OllamaChatResult>? Evaluations { get; init; }
    public required DateTimeOffset Created { get; init; }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ExportManifest? TryRead(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ExportManifest>(File.ReadAllText(path), Json); }
        catch (JsonException) { return null; }
    }

    public void Write(string folder) => AtomicFile.WriteAllText(System.IO.Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json));
}

internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var temp = path + $".tmp-{Guid.NewGuid():N}";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
