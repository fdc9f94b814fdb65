namespace Dataset.Api.Model;

/// <summary>A job as the API shows it: the <c>ft:job:{id}</c> hash, with <c>spec</c>, <c>artifacts</c> and <c>eval</c> parsed when JSON.</summary>
public sealed record JobView(string Id, string Status, string? Created, string? Dataset, string? Model, string? Error,
    IReadOnlyDictionary<string, object?> Fields);

/// <summary>Answer to POST /api/jobs: the new job's id and where to follow it.</summary>
public sealed record CreateJobResponse(string Id, string Status, string Dataset, string Model, string Events);

/// <summary>One file under the job's folder (<c>&lt;DataRoot&gt;/jobs/{id}/</c>), path relative to it with '/' separators.</summary>
public sealed record ArtifactEntry(string Path, long Bytes, DateTimeOffset Modified);
