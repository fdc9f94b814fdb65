namespace Dataset.Api.Apis;

/// <summary>Query parameters of POST /api/datasets.</summary>
public sealed record UploadQuery(
    string? Name,
    string? Format,
    double? EvalRatio,
    int? Seed,
    bool? DropDuplicates,
    int? MaxTokens,
    string? Model,
    int? MaxLength,
    bool? TrainOnInputs,
    string? OverLong);
