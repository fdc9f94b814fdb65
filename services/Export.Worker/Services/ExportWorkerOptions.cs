namespace Export.Worker.Services;

/// <summary>Configuration of the export worker (section FineTune:Export; the data root is the <c>DataRoot</c> service).</summary>
public sealed class ExportWorkerOptions
{
    public const string Section = "FineTune:Export";

    /// <summary>eng/node with node-llama-cpp, for verification by real llama.cpp; empty disables verification.</summary>
    public string? NodeTools { get; set; }
}
