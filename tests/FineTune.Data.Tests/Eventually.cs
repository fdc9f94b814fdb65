namespace FineTune.Data.Tests;

/// <summary>Waits for a real condition (polled), failing with <paramref name="what"/> when it does not hold within the bound.</summary>
internal static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, int timeoutSeconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(25);
        }
        throw new TimeoutException($"Timed out after {timeoutSeconds}s waiting for: {what}");
    }
}
