// GPU probe: does TorchSharp (built for libtorch 2.10) run on the GPU machine's PyTorch libtorch? Times 8192³ matmuls.
using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
Console.WriteLine($"cuda available: {cuda.is_available()} devices: {cuda.device_count()}");
if (!cuda.is_available()) return 1;
var dev = CUDA;
foreach (var dt in new[] { ScalarType.Float32, ScalarType.BFloat16 })
{
    var n = 8192;
    using var a = randn(n, n, dtype: dt, device: dev); using var b = randn(n, n, dtype: dt, device: dev);
    for (int i = 0; i < 3; i++) { using var w = a.matmul(b); }
    cuda.synchronize();
    var sw = Stopwatch.StartNew(); int reps = 10;
    for (int i = 0; i < reps; i++) { using var c = a.matmul(b); }
    cuda.synchronize();
    var s = sw.Elapsed.TotalSeconds;
    Console.WriteLine($"{dt} {n}^3 matmul: {2.0*n*n*n*reps/s/1e12:F1} TFLOP/s");
}
return 0;
