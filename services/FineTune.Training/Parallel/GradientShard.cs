using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FineTune.Training.Parallel;

/// <summary>
/// One member's contribution to an optimizer step: its trainable parameters' gradients flattened in parameter order (FP32,
/// already divided by the label tokens of the whole global batch, which every member can count from the shared data order),
/// the un-normalised loss sum of its micro-batches and the tokens it trained on.
/// </summary>
public sealed record GradientShard(float[] Gradients, double LossSum, long Tokens)
{
    private const int HeaderBytes = sizeof(double) + sizeof(long);

    /// <summary>Σ of <paramref name="shards"/>, added in the order given (rank order): the same bytes in give the same bits out.</summary>
    public static GradientShard Sum(IReadOnlyList<GradientShard> shards)
    {
        ArgumentOutOfRangeException.ThrowIfZero(shards.Count);
        var length = shards[0].Gradients.Length;
        var total = (float[])shards[0].Gradients.Clone();
        double loss = shards[0].LossSum;
        long tokens = shards[0].Tokens;
        for (var r = 1; r < shards.Count; r++)
        {
            var g = shards[r].Gradients;
            if (g.Length != length)
                throw new InvalidOperationException($"gradient shard of rank {r} has {g.Length} values, rank 0 has {length}: the members train different adapters");
            for (var i = 0; i < length; i++) total[i] += g[i];
            loss += shards[r].LossSum;
            tokens += shards[r].Tokens;
        }
        return new GradientShard(total, loss, tokens);
    }

    /// <summary>Little-endian wire form: loss sum (f64), tokens (i64), gradients (f32 × n).</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[HeaderBytes + Gradients.Length * sizeof(float)];
        BinaryPrimitives.WriteDoubleLittleEndian(bytes, LossSum);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(sizeof(double)), Tokens);
        var body = MemoryMarshal.AsBytes(Gradients.AsSpan());
        if (BitConverter.IsLittleEndian) body.CopyTo(bytes.AsSpan(HeaderBytes));
        else for (var i = 0; i < Gradients.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(HeaderBytes + i * 4), Gradients[i]);
        return bytes;
    }

    public static GradientShard FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < HeaderBytes || (bytes.Length - HeaderBytes) % sizeof(float) != 0)
            throw new FormatException($"a gradient shard is {HeaderBytes} header bytes plus FP32 values; got {bytes.Length} bytes");
        var loss = BinaryPrimitives.ReadDoubleLittleEndian(bytes);
        var tokens = BinaryPrimitives.ReadInt64LittleEndian(bytes[sizeof(double)..]);
        var values = new float[(bytes.Length - HeaderBytes) / sizeof(float)];
        var body = bytes[HeaderBytes..];
        if (BitConverter.IsLittleEndian) body.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        else for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(body[(i * 4)..]);
        return new GradientShard(values, loss, tokens);
    }
}
