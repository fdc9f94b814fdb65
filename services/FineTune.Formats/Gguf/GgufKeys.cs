// Metadata key names (llama-arch.cpp / gguf-py constants) from shared/reference/gguf-ollama.md §4–5.
// Keys with {arch} are formatted with the architecture name ("llama", "qwen2").
namespace FineTune.Formats.Gguf;

public static class GgufKeys
{
    public static string For(string key, string arch) => key.Replace("{arch}", arch, StringComparison.Ordinal);

    public static class General
    {
        public const string Type = "general.type";
        public const string Architecture = "general.architecture";
        public const string QuantizationVersion = "general.quantization_version";
        public const string Alignment = "general.alignment";
        public const string Name = "general.name";
        public const string FileType = "general.file_type";
    }

    public static class Llm
    {
        public const string VocabSize = "{arch}.vocab_size";
        public const string ContextLength = "{arch}.context_length";
        public const string EmbeddingLength = "{arch}.embedding_length";
        public const string BlockCount = "{arch}.block_count";
        public const string FeedForwardLength = "{arch}.feed_forward_length";
    }

    public static class Attention
    {
        public const string HeadCount = "{arch}.attention.head_count";
        public const string HeadCountKv = "{arch}.attention.head_count_kv";
        public const string KeyLength = "{arch}.attention.key_length";
        public const string ValueLength = "{arch}.attention.value_length";
        public const string LayerNormRmsEpsilon = "{arch}.attention.layer_norm_rms_epsilon";
    }

    public static class Rope
    {
        public const string DimensionCount = "{arch}.rope.dimension_count";
        public const string FreqBase = "{arch}.rope.freq_base";
        public const string ScalingType = "{arch}.rope.scaling.type";
        public const string ScalingFactor = "{arch}.rope.scaling.factor";
        public const string ScalingOriginalContextLength = "{arch}.rope.scaling.original_context_length";
    }

    public static class Tokenizer
    {
        public const string Model = "tokenizer.ggml.model";
        public const string Pre = "tokenizer.ggml.pre";
        public const string Tokens = "tokenizer.ggml.tokens";
        public const string Scores = "tokenizer.ggml.scores";
        public const string TokenType = "tokenizer.ggml.token_type";
        public const string Merges = "tokenizer.ggml.merges";
        public const string BosId = "tokenizer.ggml.bos_token_id";
        public const string EosId = "tokenizer.ggml.eos_token_id";
        public const string UnknownId = "tokenizer.ggml.unknown_token_id";
        public const string PaddingId = "tokenizer.ggml.padding_token_id";
        public const string EotId = "tokenizer.ggml.eot_token_id";
        public const string AddBos = "tokenizer.ggml.add_bos_token";
        public const string AddEos = "tokenizer.ggml.add_eos_token";
        public const string ChatTemplate = "tokenizer.chat_template";
    }

    public static class Adapter
    {
        public const string Type = "adapter.type";
        public const string LoraAlpha = "adapter.lora.alpha";
    }
}
