using FineTune.Export.Verification;

namespace FineTune.Export.Tests;

/// <summary>The real llama.cpp (node-llama-cpp under eng/node) for tests.</summary>
public static class LlamaCpp
{
    public static LlamaCppRunner Runner { get; } = new(Repo.NodeTools);

    public static async Task<IReadOnlyList<LlamaCppJobResult>> RunAsync(IReadOnlyList<LlamaCppJob> jobs)
    {
        var response = await Runner.RunAsync(jobs, TimeSpan.FromMinutes(5));
        Assert.True(response.Error is null, $"llama.cpp could not start: {response.Error}");
        Assert.Equal(jobs.Count, response.Jobs.Count);
        return response.Jobs;
    }
}
