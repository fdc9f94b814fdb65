using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>Turns .NET events into the async sequences that TypedResults.ServerSentEvents writes to the browser.</summary>
internal static class ServerSentEventStreams
{
    /// <summary>
    /// The first event of every stream: the response (and so the browser's EventSource "open") starts with the first
    /// write, and some streams have nothing to say until something changes.
    /// </summary>
    public static readonly SseItem<object> Hello = new("", "hello");

    /// <summary>
    /// Items raised by an event from subscription until the request ends or the dashboard stops. A slow reader loses the
    /// oldest items rather than holding memory without bound.
    /// </summary>
    public static async IAsyncEnumerable<T> FromEvent<T>(Action<Action<T>> subscribe, Action<Action<T>> unsubscribe,
        CancellationToken stopping, int capacity = 1000, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest });
        void Handler(T item) => channel.Writer.TryWrite(item);
        subscribe(Handler);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            while (true)
            {
                T item;
                try
                {
                    if (!await channel.Reader.WaitToReadAsync(cts.Token)) yield break;
                    if (!channel.Reader.TryRead(out item!)) continue;
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                yield return item;
            }
        }
        finally
        {
            unsubscribe(Handler);
        }
    }
}
