// The data-parallel gradient-exchange benchmark (docs/benchmarks/training.md, BENCHMARKS.md "data parallel"):
//   dotnet run -c Release --project bench/DataParallel.Bench -- --redis host:port[,password=…] [--preset tiny] [--steps 20] [--seq 256]
using DataParallel.Bench;

return await SyncBenchmark.RunAsync(args);
