using System.Text.Json;

namespace FineTune.Models.Core.ChatTemplates;

/// <summary>
/// Chat templates we wrote from the documented turn formats of each model family, used when a model folder's
/// tokenizer_config.json has no chat_template (and by the embedded tiny model). Each renders exactly the family's
/// prompt format; they are our own Jinja, not copies of the upstream files.
/// </summary>
public static class BuiltInTemplates
{
    /// <summary>ChatML (Qwen, the tiny model): &lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n per message.</summary>
    public const string ChatMl =
        "{%- for message in messages %}" +
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    /// <summary>Llama 3.x: header-delimited turns ending in &lt;|eot_id|&gt;, content trimmed, BOS first.</summary>
    public const string Llama3 =
        "{{- bos_token }}" +
        "{%- for message in messages %}" +
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim }}" +
        "{{- '<|eot_id|>' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

    /// <summary>Llama 2 chat: [INST] … [/INST] pairs, the system prompt inside &lt;&lt;SYS&gt;&gt; of the first turn, each answer closed by EOS.</summary>
    public const string Llama2 =
        "{%- if messages[0]['role'] == 'system' %}" +
        "{%- set system_message = '<<SYS>>\\n' + messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' %}" +
        "{%- set loop_messages = messages[1:] %}" +
        "{%- else %}{%- set system_message = '' %}{%- set loop_messages = messages %}{%- endif %}" +
        "{%- for message in loop_messages %}" +
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}" +
        "{%- endif %}" +
        "{%- if message['role'] == 'user' %}" +
        "{%- if loop.first %}{{- bos_token + '[INST] ' + system_message + message['content'] | trim + ' [/INST]' }}" +
        "{%- else %}{{- bos_token + '[INST] ' + message['content'] | trim + ' [/INST]' }}{%- endif %}" +
        "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] | trim + ' ' + eos_token }}" +
        "{%- endif %}" +
        "{%- endfor %}";

    /// <summary>Mistral instruct: [INST] user [/INST]answer&lt;/s&gt;; a system prompt is prepended to the first user turn.</summary>
    public const string Mistral =
        "{{- bos_token }}" +
        "{%- if messages[0]['role'] == 'system' %}" +
        "{%- set system_prefix = messages[0]['content'] + '\\n\\n' %}{%- set loop_messages = messages[1:] %}" +
        "{%- else %}{%- set system_prefix = '' %}{%- set loop_messages = messages %}{%- endif %}" +
        "{%- for message in loop_messages %}" +
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}" +
        "{%- endif %}" +
        "{%- if message['role'] == 'user' %}" +
        "{%- if loop.first %}{{- '[INST] ' + system_prefix + message['content'] + ' [/INST]' }}" +
        "{%- else %}{{- '[INST] ' + message['content'] + ' [/INST]' }}{%- endif %}" +
        "{%- elif message['role'] == 'assistant' %}{{- message['content'] + eos_token }}" +
        "{%- endif %}" +
        "{%- endfor %}";

    /// <summary>Zephyr format used by TinyLlama chat: &lt;|role|&gt;\ncontent&lt;/s&gt;\n.</summary>
    public const string Zephyr =
        "{%- for message in messages %}" +
        "{{- '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- endif %}";

    /// <summary>Gemma: &lt;start_of_turn&gt;user|model … &lt;end_of_turn&gt;; no system role, so a system prompt leads the first user turn.</summary>
    public const string Gemma =
        "{{- bos_token }}" +
        "{%- if messages[0]['role'] == 'system' %}" +
        "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' %}{%- set loop_messages = messages[1:] %}" +
        "{%- else %}{%- set first_user_prefix = '' %}{%- set loop_messages = messages %}{%- endif %}" +
        "{%- for message in loop_messages %}" +
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}" +
        "{%- endif %}" +
        "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}" +
        "{{- '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') + message['content'] | trim + '<end_of_turn>\\n' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}";

    /// <summary>Phi-3: &lt;|role|&gt;\ncontent&lt;|end|&gt;\n per message.</summary>
    public const string Phi3 =
        "{%- for message in messages %}" +
        "{{- '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}" +
        "{%- endfor %}" +
        "{%- if add_generation_prompt %}{{- '<|assistant|>\\n' }}{%- else %}{{- eos_token }}{%- endif %}";

    /// <summary>Family names accepted by <see cref="ForFamily"/>.</summary>
    public static IReadOnlyList<string> Families { get; } = ["chatml", "llama3", "llama2", "mistral", "zephyr", "gemma", "phi3"];

    public static string ForFamily(string family) => family.ToLowerInvariant() switch
    {
        "chatml" or "qwen" or "qwen2" => ChatMl,
        "llama3" => Llama3,
        "llama2" or "llama" => Llama2,
        "mistral" => Mistral,
        "zephyr" or "tinyllama" => Zephyr,
        "gemma" => Gemma,
        "phi3" => Phi3,
        _ => throw new ArgumentException($"Unknown chat template family '{family}' (known: {string.Join(", ", Families)})."),
    };

    /// <summary>
    /// Chooses the family for a folder without a chat_template: from its special tokens first (they name the format
    /// unambiguously), then from config.json's model_type / name.
    /// </summary>
    public static string DetectFamily(string folder)
    {
        var tokens = File.Exists(Path.Combine(folder, "tokenizer.json")) ? File.ReadAllText(Path.Combine(folder, "tokenizer.json")) : "";
        if (tokens.Contains("\"<|im_start|>\"", StringComparison.Ordinal)) return "chatml";
        if (tokens.Contains("\"<|start_header_id|>\"", StringComparison.Ordinal)) return "llama3";
        if (tokens.Contains("\"<start_of_turn>\"", StringComparison.Ordinal)) return "gemma";
        if (tokens.Contains("\"<|end|>\"", StringComparison.Ordinal) && tokens.Contains("\"<|assistant|>\"", StringComparison.Ordinal)) return "phi3";
        var tokenizerConfig = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(tokenizerConfig))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(tokenizerConfig));
            if (doc.RootElement.TryGetProperty("tokenizer_class", out var cls) && cls.GetString() is "LlamaTokenizer" or "LlamaTokenizerFast"
                && !File.Exists(Path.Combine(folder, "config.json")))
                return "llama2";
        }
        var configPath = Path.Combine(folder, "config.json");
        if (File.Exists(configPath))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            var root = doc.RootElement;
            var modelType = root.TryGetProperty("model_type", out var mt) ? mt.GetString() ?? "" : "";
            var name = root.TryGetProperty("_name_or_path", out var n) ? n.GetString() ?? "" : "";
            if ((name + " " + Path.GetFileName(Path.TrimEndingDirectorySeparator(folder))).Contains("tinyllama", StringComparison.OrdinalIgnoreCase)) return "zephyr";
            switch (modelType)
            {
                case "qwen2" or "qwen3": return "chatml";
                case "mistral": return "mistral";
                case "gemma" or "gemma2" or "gemma3" or "gemma3_text": return "gemma";
                case "phi3": return "phi3";
                case "llama": return "llama2";
            }
        }
        return "chatml";
    }
}
