using System.Text;
using FineTune.Data;
using FineTune.Data.Import;

namespace FineTune.Data.Tests;

/// <summary>Test helper: runs the streaming reader over text or a fixture file and collects records and issues.</summary>
internal static class Imports
{
    public static Task<(List<Conversation> Records, List<DataIssue> Issues, string Format)> TextAsync(string text, DatasetFormat format = DatasetFormat.Auto, int maxRecordBytes = DatasetReader.DefaultMaxRecordBytes) =>
        StreamAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), format, maxRecordBytes);

    public static async Task<(List<Conversation> Records, List<DataIssue> Issues, string Format)> FileAsync(string fixture, DatasetFormat format = DatasetFormat.Auto)
    {
        await using var stream = File.OpenRead(FixtureFile.Path(fixture));
        return await StreamAsync(stream, format, DatasetReader.DefaultMaxRecordBytes);
    }

    public static async Task<(List<Conversation> Records, List<DataIssue> Issues, string Format)> StreamAsync(Stream stream, DatasetFormat format, int maxRecordBytes)
    {
        var reader = new DatasetReader(format, maxRecordBytes);
        var records = new List<Conversation>();
        var issues = new List<DataIssue>();
        await foreach (var item in reader.ReadAsync(stream))
        {
            if (item.Issues is not null) issues.AddRange(item.Issues);
            if (item.Conversation is not null) records.Add(item.Conversation);
        }
        return (records, issues, reader.DetectedFormat);
    }

    public static Conversation Pair(string user, string assistant) =>
        Conversation.Of(new ChatTurn(Roles.User, user), new ChatTurn(Roles.Assistant, assistant));
}
