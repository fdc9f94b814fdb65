namespace Dataset.Api.Model;

/// <summary>Limits of the dataset service (configuration section <c>DatasetApi</c>).</summary>
public sealed class DatasetApiOptions
{
    public const string Section = "DatasetApi";

    /// <summary>Largest upload body, enforced while streaming (and up front from Content-Length). Default 1 GiB.</summary>
    public long MaxUploadBytes { get; set; } = 1L << 30;
    /// <summary>Largest single record (one JSON line or array element, one text block line, one CSV line). Default 8 MiB.</summary>
    public int MaxRecordBytes { get; set; } = FineTune.Data.Import.DatasetReader.DefaultMaxRecordBytes;
    /// <summary>Most records a preview returns.</summary>
    public int MaxPreview { get; set; } = 100;
}
