using FineTune.Formats.Safetensors;

namespace FineTune.Formats.Tests.Safetensors;

public class SafetensorsCheckpointTests
{
    private static void WriteShard(string path, params string[] names)
    {
        var w = new SafetensorsWriter();
        foreach (var n in names) w.Add(n, SafetensorDType.U8, [2], new byte[] { 1, 2 });
        w.WriteFile(path);
    }

    private static void WriteIndex(string folder, string weightMapJson) =>
        File.WriteAllText(Path.Combine(folder, SafetensorsCheckpoint.IndexFileName),
            "{\"metadata\": {\"total_size\": 4}, \"weight_map\": " + weightMapJson + "}");

    [Fact]
    public void IndexNamingAMissingShardIsRejectedNamingTheShard()
    {
        using var dir = new TempDirectory();
        WriteShard(Path.Combine(dir.Path, "model-00001-of-00002.safetensors"), "a");
        WriteIndex(dir.Path, "{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}");

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));

        Assert.EndsWith(SafetensorsCheckpoint.IndexFileName, e.FilePath);
        Assert.Contains("'model-00002-of-00002.safetensors' (for 'b'), which does not exist", e.Problem);
    }

    [Fact]
    public void IndexPlacingATensorInTheWrongShardIsRejected()
    {
        using var dir = new TempDirectory();
        WriteShard(Path.Combine(dir.Path, "s1.safetensors"), "a");
        WriteShard(Path.Combine(dir.Path, "s2.safetensors"), "b");
        WriteIndex(dir.Path, "{\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\"}");

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));

        Assert.Contains("puts 'b' in 's1.safetensors', but that shard has no such tensor", e.Problem);
    }

    [Theory]
    [InlineData("{\"a\": \"../outside.safetensors\"}", "not a plain file name")]
    [InlineData("{\"a\": 3}", "is not a file name")]
    [InlineData("{}", "weight_map is empty")]
    [InlineData("[]", "missing \"weight_map\" object")]
    public void MalformedIndexIsRejected(string weightMap, string problem)
    {
        using var dir = new TempDirectory();
        if (weightMap == "[]")
            File.WriteAllText(Path.Combine(dir.Path, SafetensorsCheckpoint.IndexFileName), "[]");
        else
            WriteIndex(dir.Path, weightMap);

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));

        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void AMalformedShardIsReportedByItsOwnPath()
    {
        using var dir = new TempDirectory();
        var shard = Path.Combine(dir.Path, "s1.safetensors");
        File.WriteAllBytes(shard, [1, 0, 0]);
        WriteIndex(dir.Path, "{\"a\": \"s1.safetensors\"}");

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsCheckpoint.Open(dir.Path));

        Assert.Equal(shard, e.FilePath);
    }

    [Fact]
    public void FolderWithoutWeightsSaysSo()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(dir.Path));
        Assert.Contains("no model.safetensors or model.safetensors.index.json", e.Message);
    }
}
