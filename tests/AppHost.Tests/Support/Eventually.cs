namespace FineTune.AppHost.Tests;

/// <summary>Waits for a real condition, checking it every 50 ms, and fails with a description when the bound passes.</summary>
public static class Eventually
{
    public static async Task<T> UntilAsync<T>(Func<T?> probe, TimeSpan bound, string what) where T : class
    {
        var deadline = DateTime.UtcNow + bound;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (probe() is { } value)
                    return value;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or HttpRequestException)
            {
                last = ex; // the model is still coming up
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"Timed out after {bound.TotalSeconds:0}s waiting for: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan bound, string what) =>
        UntilAsync(() => condition() ? "" : null, bound, what);
}
