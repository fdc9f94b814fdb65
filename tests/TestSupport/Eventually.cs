using System.Collections;

namespace FineTune.Tests;

/// <summary>
/// The one bounded poll every test uses: probes a real condition (sync or async) until it holds or the bound passes,
/// then fails with what was awaited, the last value or error seen, and (when given) <c>describe</c>'s account of the
/// system at that moment (a process's output, a job's record). Transient errors of a system still coming up (connection
/// refused, HTTP errors, an object not built yet) count as "not yet".
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="probe"/> until <paramref name="done"/> holds for its value; returns that value.</summary>
    /// <param name="what">What is awaited, as the timeout message names it.</param>
    /// <param name="describe">Called once on timeout: the state worth reading beside the last value (logs, other records).</param>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan bound, string what, TimeSpan? interval = null,
        Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + bound;
        var last = "nothing yet";
        while (true)
        {
            try
            {
                var value = await probe();
                if (done(value)) return value;
                last = $"last value: {Show(value)}";
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                last = $"last error: {ex.GetType().Name}: {ex.Message}";
            }
            if (DateTime.UtcNow >= deadline)
            {
                var state = describe is null ? "" : "\n" + describe();
                throw new TimeoutException($"Timed out after {bound.TotalSeconds:0.#}s waiting for: {what} ({last}){state}");
            }
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Polls an async condition until it holds.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan bound, string what, TimeSpan? interval = null, Func<string>? describe = null) =>
        UntilAsync(condition, held => held, bound, what, interval, describe);

    /// <summary>Polls a sync probe until it returns a value (not null); returns it.</summary>
    public static Task<T> UntilAsync<T>(Func<T?> probe, TimeSpan bound, string what, TimeSpan? interval = null, Func<string>? describe = null) where T : class =>
        UntilAsync(() => Task.FromResult(probe()), value => value is not null, bound, what, interval, describe)!;

    /// <summary>Polls a sync condition until it holds.</summary>
    public static Task UntilAsync(Func<bool> condition, TimeSpan bound, string what, TimeSpan? interval = null, Func<string>? describe = null) =>
        UntilAsync(() => Task.FromResult(condition()), held => held, bound, what, interval, describe);

    /// <summary>A value as the timeout message shows it: collections by their items (a list's ToString is its type name).</summary>
    private static string Show(object? value) => value switch
    {
        null => "null",
        string s => s,
        IDictionary d => "{" + string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k}: {Show(d[k])}")) + "}",
        IEnumerable items => "[" + string.Join(", ", items.Cast<object?>().Select(Show)) + "]",
        _ => value.ToString() ?? "",
    };

    private static bool IsTransient(Exception ex) =>
        ex is InvalidOperationException or ArgumentException or HttpRequestException or IOException
            or System.Net.Sockets.SocketException or TaskCanceledException;
}
