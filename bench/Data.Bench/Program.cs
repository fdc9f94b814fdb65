// Data-pipeline benchmarks, each against a same-run baseline:
//   ingest <MB>            generate a JSONL file of <MB> MB, read it raw (baseline), then ingest it (validate + canonicalise + store)
//   preprocess <records> <modelFolder>
//                          ingest <records> generated records, then tokenize them with the preprocess pipeline; baseline:
//                          the tokenizer alone encoding the same rendered conversations
using System.Diagnostics;
using System.Text;
using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging.Contracts;
using FineTune.Models.Core.ChatTemplates;
using Microsoft.Extensions.Logging.Abstractions;
using Preprocess.Worker.Services;

// The machine may be shared: besides wall time, every figure is also given per CPU-second of this process
// (TotalProcessorTime), which other processes' load does not inflate.
static TimeSpan Cpu() => Process.GetCurrentProcess().TotalProcessorTime;

var work = Path.Combine(Path.GetTempPath(), $"ft-bench-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
try
{
    switch (args.FirstOrDefault())
    {
        case "ingest": await IngestAsync(int.Parse(args[1])); break;
        case "preprocess": await PreprocessAsync(int.Parse(args[1]), args[2]); break;
        default: Console.Error.WriteLine("usage: Data.Bench ingest <MB> | preprocess <records> <modelFolder>"); return 2;
    }
    return 0;
}
finally
{
    Directory.Delete(work, recursive: true);
}

static string Record(int i)
{
    // Mixed English and Chinese, like the seed documents; lengths vary with i.
    var q = $"Question {i}: 解释什么是SAR影像的斑点噪声，并给出第 {i % 97} 个例子。";
    var a = string.Join(' ', Enumerable.Repeat($"SAR影像中的斑点噪声源于相干成像机制 (case {i}), a multiplicative noise that lowers interpretation accuracy.", 1 + i % 5));
    return $"{{\"instruction\": \"{q}\", \"output\": \"{a}\"}}\n";
}

async Task<string> GenerateAsync(long bytes)
{
    var path = Path.Combine(work, "data.jsonl");
    await using var output = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    long written = 0;
    for (var i = 0; written < bytes; i++)
    {
        var line = Record(i);
        await output.WriteAsync(line);
        written += Encoding.UTF8.GetByteCount(line);
    }
    return path;
}

async Task IngestAsync(int megabytes)
{
    var path = await GenerateAsync((long)megabytes * 1024 * 1024);
    var size = new FileInfo(path).Length;
    var buffer = new byte[1 << 16];
    async Task<double> RawReadAsync()
    {
        var sw = Stopwatch.StartNew();
        await using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        while (await s.ReadAsync(buffer) > 0) { }
        return sw.Elapsed.TotalSeconds;
    }
    await RawReadAsync(); // page cache warm for both measurements
    var cpu0 = Cpu();
    var raw = await RawReadAsync();
    var rawCpu = (Cpu() - cpu0).TotalSeconds;
    var store = new DatasetStore(new DataRoot(Path.Combine(work, "root")));
    // Warm-up (JIT tiering) on a small file of different content.
    var warm = string.Concat(Enumerable.Range(0, 20000).Select(i => Record(10_000_000 + i)));
    await store.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(warm)), new IngestOptions());
    cpu0 = Cpu();
    var sw = Stopwatch.StartNew();
    IngestResult result;
    await using (var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
        result = await store.IngestAsync(input, new IngestOptions());
    var ingest = sw.Elapsed.TotalSeconds;
    var ingestCpu = (Cpu() - cpu0).TotalSeconds;
    var stored = (IngestResult.Stored)result;
    var mb = size / 1e6;
    Console.WriteLine($"file: {mb:F1} MB, {stored.Info.Stats.Records} records");
    Console.WriteLine($"raw read (baseline): {mb / raw,8:F1} MB/s wall ({raw:F2} s), {mb / Math.Max(rawCpu, 1e-3),8:F1} MB per CPU-s");
    Console.WriteLine($"ingest:              {mb / ingest,8:F1} MB/s wall ({ingest:F2} s), {mb / ingestCpu,8:F1} MB per CPU-s ({ingestCpu:F1} CPU-s)");
    Console.WriteLine($"peak working set: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576} MiB");
}

async Task PreprocessAsync(int records, string modelFolder)
{
    var root = new DataRoot(Path.Combine(work, "root"));
    var modelName = "bench-model";
    var target = root.Model(modelName);
    Directory.CreateDirectory(target);
    foreach (var file in Directory.GetFiles(modelFolder))
        File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
    var text = new StringBuilder();
    for (var i = 0; i < records; i++) text.Append(Record(i));
    var store = new DatasetStore(root);
    var info = ((IngestResult.Stored)await store.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(text.ToString())), new IngestOptions { EvalRatio = 0 })).Info;

    // Baseline: the tokenizer alone over the same rendered conversations (template rendering excluded).
    var encoder = ConversationEncoder.FromFolder(target);
    var rendered = new List<string>();
    await foreach (var c in store.EnumerateAsync(info.Id, DatasetFiles.Train))
        rendered.Add(encoder.Template.Render(c.Messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList(), addGenerationPrompt: false));
    foreach (var r in rendered) encoder.Tokenizer.Encode(r, addSpecialTokens: false); // warm-up pass (JIT tiering)
    var cpu0 = Cpu();
    var sw = Stopwatch.StartNew();
    long baselineTokens = 0;
    foreach (var r in rendered) baselineTokens += encoder.Tokenizer.Encode(r, addSpecialTokens: false).Length;
    var baseline = sw.Elapsed.TotalSeconds;
    var baselineCpu = (Cpu() - cpu0).TotalSeconds;

    var cache = new EncoderCache();
    var pipeline = new PreprocessPipeline(root, store, cache, NullLogger<PreprocessPipeline>.Instance);
    await pipeline.RunAsync(new PreprocessRequest { DatasetId = info.Id, Model = modelName, MaxLength = 4000 }, default); // warm-up run (other hash)
    cpu0 = Cpu();
    sw.Restart();
    var outcome = await pipeline.RunAsync(new PreprocessRequest { DatasetId = info.Id, Model = modelName, MaxLength = 4096 }, default);
    var run = sw.Elapsed.TotalSeconds;
    var runCpu = (Cpu() - cpu0).TotalSeconds;
    var tokens = outcome.Manifest.Files.Sum(f => f.Tokens);
    Console.WriteLine($"records: {records}, tokens: {tokens} (baseline counted {baselineTokens})");
    Console.WriteLine($"tokenizer alone (baseline): {baselineTokens / baseline,10:F0} tokens/s wall ({baseline:F2} s), {baselineTokens / baselineCpu,10:F0} tokens per CPU-s");
    Console.WriteLine($"preprocess pipeline:        {tokens / run,10:F0} tokens/s wall ({run:F2} s), {tokens / runCpu,10:F0} tokens per CPU-s (template, encode with offsets, mask, shard write)");
}
