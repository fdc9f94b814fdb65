using System.Collections.Concurrent;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

/// <summary>The real reference tokenizers, loaded once per test run (HfTokenizer is thread-safe).</summary>
internal static class ReferenceTokenizers
{
    private static readonly ConcurrentDictionary<string, Lazy<HfTokenizer>> Loaded = new();

    public static HfTokenizer Get(string name) => Loaded.GetOrAdd(name, n =>
        new Lazy<HfTokenizer>(() => HfTokenizer.FromFolder(Repo.SharedFile("reference", "tokenizers", n)))).Value;
}
