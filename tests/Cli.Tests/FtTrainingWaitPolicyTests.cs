using System.Text.Json;

namespace Cli.Tests;

/// <summary>
/// The training verbs keep libtorch's OpenMP threads spinning between parallel regions (OMP_WAIT_POLICY=ACTIVE), unless
/// the user chose a policy: the real ft process, its policy read back from `ft bench-train --json`.
/// </summary>
public sealed class FtTrainingWaitPolicyTests
{
    private static readonly string[] NanoBench = ["bench-train", "--preset", "nano", "--seq", "32", "--batch", "1", "--rank", "2", "--steps", "1", "--warmup", "0", "--json"];

    private static async Task<string?> PolicyAsync(string? userPolicy)
    {
        var (code, stdout, stderr) = await FtProcess.RunAsync(NanoBench, environment: new Dictionary<string, string?> { ["OMP_WAIT_POLICY"] = userPolicy });
        Assert.True(code == 0, $"ft bench-train failed ({code}): {stderr}");
        using var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        return result.RootElement.GetProperty("omp_wait_policy").GetString();
    }

    [Fact]
    public async Task BenchTrainRunsWithSpinningOpenMpThreadsByDefault() => Assert.Equal("ACTIVE", await PolicyAsync(null));

    [Fact]
    public async Task APolicyTheUserSetIsKept() => Assert.Equal("PASSIVE", await PolicyAsync("PASSIVE"));
}
