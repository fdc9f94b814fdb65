using FineTune.Messaging;

namespace Preprocess.Worker.Services;

/// <summary>Configuration section <c>Preprocess</c>: the stream-consumer settings (claim idle time, attempts…).</summary>
public sealed class PreprocessWorkerOptions
{
    public const string Section = "Preprocess";

    public StreamWorkerOptions Consumer { get; set; } = new() { MinIdle = TimeSpan.FromMinutes(2) };
}
