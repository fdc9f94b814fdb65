namespace Export.Worker.Services;

/// <summary>Configuration of the export worker (section FineTune:Export; the data root is FineTune:DataRoot).</summary>
public sealed class ExportWorkerOptions
{
    public const string Section = "FineTune:Export";

    /// <summary>Shared data root (FineTune:DataRoot): models/, jobs/&lt;id&gt;/artifacts/.</summary>
    public string DataRoot { get; set; } = "";

    /// <summary>eng/node with node-llama-cpp, for verification by real llama.cpp; empty disables verification.</summary>
    public string? NodeTools { get; set; }
}
