// Where a quantizer reads a tensor's float32 elements from, a piece at a time: an array in memory, or a converter that
// fills a small scratch buffer straight from a memory-mapped checkpoint, so a whole tensor never has to exist as float32.
namespace FineTune.Formats.Gguf.Quantization;

/// <summary>
/// Elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="scratch"/>.Length) of a tensor as
/// float32: either written into <paramref name="scratch"/> and returned, or returned from where they already are.
/// Called concurrently from several threads, each with its own scratch.
/// </summary>
public delegate ReadOnlySpan<float> ElementSource(long start, Span<float> scratch);

public static class ElementSources
{
    /// <summary>The elements of an array in memory, without copying.</summary>
    public static ElementSource Of(float[] values) => (start, scratch) => values.AsSpan(checked((int)start), scratch.Length);
}
