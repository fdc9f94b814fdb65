// Runs eng/node/llama-verify.mjs (node-llama-cpp: real llama.cpp, prebuilt for linux-x64) on a GGUF and returns
// llama.cpp's tokenization and greedy continuation of each prompt. The engine runs in its own process so a crash in
// native code cannot take the caller down, and its log comes back with any error.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTune.Export.Verification;

public sealed record LlamaCppAdapter([property: JsonPropertyName("path")] string Path, [property: JsonPropertyName("scale")] float Scale = 1f);

public sealed record LlamaCppJob(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("prompts")] IReadOnlyList<string> Prompts,
    [property: JsonPropertyName("maxTokens")] int MaxTokens,
    [property: JsonPropertyName("lora")] IReadOnlyList<LlamaCppAdapter>? Lora = null,
    [property: JsonPropertyName("addBos")] bool? AddBos = null,
    [property: JsonPropertyName("contextSize")] int ContextSize = 256,
    [property: JsonPropertyName("vocabOnly")] bool VocabOnly = false);

public sealed record LlamaCppModelInfo(int? Bos, int? Eos, int? Eot, bool AddBos, string? Architecture);

public sealed record LlamaCppResult(string Prompt, int[] Tokens, int[]? Input, int[] Generated, string Text);

public sealed record LlamaCppJobResult(bool Ok, LlamaCppModelInfo? Model, IReadOnlyList<LlamaCppResult>? Results, string? Error, IReadOnlyList<string>? Log, long Ms)
{
    public string Describe() => $"{Error}\n{string.Join("\n", Log ?? [])}";

    /// <summary>One line for a person: the error's first line and the engine's first error log line (the cause), without stacks.</summary>
    public string Summary()
    {
        var logLine = Log?.FirstOrDefault(l => l.StartsWith("error", StringComparison.OrdinalIgnoreCase));
        var error = OneLine(Error) ?? "failed";
        return logLine is null || error.Contains(OneLine(logLine)!, StringComparison.Ordinal) ? error : $"{error} (llama.cpp: {OneLine(logLine)})";
    }

    /// <summary>The first non-empty line of <paramref name="text"/>, trimmed; null for none.</summary>
    public static string? OneLine(string? text) =>
        text?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
}

/// <summary>llama.cpp failed to load or run an exported GGUF; the message is one line for the user.</summary>
public sealed class LlamaCppVerificationException(string message) : Exception(message);

public sealed record LlamaCppResponse(bool Ok, IReadOnlyList<LlamaCppJobResult> Jobs, string? Error);

internal sealed record LlamaCppRequest([property: JsonPropertyName("jobs")] IReadOnlyList<LlamaCppJob> Jobs);

public sealed class LlamaCppRunner(string nodeToolsFolder)
{
    public const string ScriptName = "llama-verify.mjs";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string NodeToolsFolder { get; } = Path.GetFullPath(nodeToolsFolder);

    public bool IsAvailable =>
        File.Exists(Path.Combine(NodeToolsFolder, ScriptName)) && Directory.Exists(Path.Combine(NodeToolsFolder, "node_modules", "node-llama-cpp"));

    /// <summary>Runs the jobs in one engine process; each job's own failure is reported in its result.</summary>
    public async Task<LlamaCppResponse> RunAsync(IReadOnlyList<LlamaCppJob> jobs, TimeSpan timeout, CancellationToken ct = default)
    {
        if (!IsAvailable)
            throw new InvalidOperationException($"node-llama-cpp is not installed under {NodeToolsFolder} (run eng/prereqs.sh).");
        var requestPath = Path.Combine(Path.GetTempPath(), $"ft-llama-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(requestPath, JsonSerializer.Serialize(new LlamaCppRequest(jobs), Json), ct);
        try
        {
            var psi = new ProcessStartInfo("node", [Path.Combine(NodeToolsFolder, ScriptName), requestPath])
            {
                WorkingDirectory = NodeToolsFolder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.Environment["NODE_LLAMA_CPP_SKIP_DOWNLOAD"] = "true";
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start node.");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"llama.cpp verification of {string.Join(", ", jobs.Select(j => j.Model))} did not finish within {timeout}.");
            }
            var output = (await stdout).Trim();
            var lastLine = output.Split('\n').LastOrDefault() ?? "";
            LlamaCppResponse? response = null;
            try { response = JsonSerializer.Deserialize<LlamaCppResponse>(lastLine, Json); }
            catch (JsonException) { }
            return response ?? new LlamaCppResponse(false, [],
                $"node exited with {process.ExitCode} and no JSON result. stderr: {(await stderr).Trim()}");
        }
        finally
        {
            File.Delete(requestPath);
        }
    }
}
