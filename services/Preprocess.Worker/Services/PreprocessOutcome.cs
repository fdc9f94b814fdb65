using FineTune.Data.Shards;

namespace Preprocess.Worker.Services;

/// <summary>Shards of a request: where, the manifest, and whether they existed already (work skipped).</summary>
public sealed record PreprocessOutcome(string Hash, string Folder, ShardManifest Manifest, bool Skipped);
