// Forward + backward of causal attention on one libtorch thread, best of three rounds per shape: the flash kernel
// (scaled_dot_product_attention with is_causal) against BlockedCausalAttention, on (1, H, T, hs) float32 inputs.
// Usage: dotnet run --project bench/Attention.Bench -c Release
using System.Diagnostics;
using FineTune.Models;
using TorchSharp;
using static TorchSharp.torch;

torch.set_num_threads(1);
Console.WriteLine("heads, tokens, head size: flash ms | blocked ms | blocked / flash | largest output difference");
foreach (var (heads, tokens, headSize) in new[] { (8, 256, 64), (8, 512, 64), (14, 512, 64), (32, 512, 128), (14, 1024, 64), (8, 2048, 64) })
{
    using var scope = NewDisposeScope();
    var q = randn(1, heads, tokens, headSize).requires_grad_(true);
    var k = randn(1, heads, tokens, headSize).requires_grad_(true);
    var v = randn(1, heads, tokens, headSize).requires_grad_(true);
    var dy = randn(1, heads, tokens, headSize);
    var flash = Milliseconds(() => nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true));
    var blocked = Milliseconds(() => BlockedCausalAttention.Apply(q, k, v, mask: null));
    var difference = (BlockedCausalAttention.Apply(q, k, v, null) - nn.functional.scaled_dot_product_attention(q, k, v, is_casual: true)).abs().max().item<float>();
    Console.WriteLine($"{heads,2}, {tokens,4}, {headSize,3}: {flash,7:F1} | {blocked,7:F1} | {blocked / flash,5:F2} | {difference:E1}");

    double Milliseconds(Func<Tensor> attention)
    {
        void Once()
        {
            using var inner = NewDisposeScope();
            autograd.grad([attention()], [q, k, v], [dy]);
        }
        Once();
        var best = double.MaxValue;
        for (var round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 4; i++) Once();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds / 4);
        }
        return best;
    }
}
