// Which adapter form Ollama's ADAPTER can take for a base architecture (shared/reference/gguf-ollama.md §6): it converts
// safetensors (PEFT) adapters only for llama-family (llama, mistral) and gemma2 bases; everything else, qwen2 included,
// must be given a GGUF LoRA adapter. llama.cpp's --lora always takes the GGUF.
namespace FineTune.Export;

public static class AdapterForms
{
    public const string Gguf = "gguf";
    public const string Safetensors = "safetensors";

    public static string ForOllama(string hfArchitecture) => hfArchitecture switch
    {
        "LlamaForCausalLM" or "MistralForCausalLM" or "Gemma2ForCausalLM" => Safetensors,
        _ => Gguf,
    };
}
