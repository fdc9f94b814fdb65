namespace FineTune.Models.Tests.Tokenizers;

/// <summary>Texts on which our tokenizers must equal @huggingface/tokenizers token for token.</summary>
internal static class ParityCorpus
{
    public static readonly string[] Texts =
    [
        "Hello world",
        "The quick brown fox jumps over the lazy dog. It's 5 o'clock; we'll see, won't we?",
        " leading space",
        "trailing space ",
        "  two  spaces   three    four",
        "\t",
        "tab\tseparated\tvalues\t\t\tend",
        "line one\nline two\n\nline four\r\nwindows line\n\n\n",
        "a\n\n  \n b",
        "\n\n\n     \n",
        "你好，世界！今天天气很好。我们一起去公园散步吧。",
        "中文 mixed with English and 数字 123 和标点。",
        "日本語のテキストとカタカナ、ひらがな。한국어 문장도 있습니다.",
        "Привет, мир! Ελληνικά. العربية. עברית.",
        "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
        "for (int i = 0; i < 10; i++) {\n\tConsole.WriteLine($\"i = {i}\");\n}",
        "const x = {\"key\": [1, 2, 3], 'other': null}; // comment",
        "emoji 😀👍🏽 ok 🇩🇪 family 👨‍👩‍👧‍👦 end",
        "😀😀😀abc",
        "12345678 3.14159 1,000,000 2024-01-15 0x1F 1e-9",
        "007 and 42 and 9999999999999",
        "café naïve résumé Ångström",
        "e\u0301 combining acute, precomposed é",
        "supplementary letters 𠀀𠀁 and math 𝐀𝐁𝐂 and 𝟎𝟏",
        "non-breaking\u00A0space, ideographic\u3000space, zero\u200Bwidth",
        "<s>hi</s> there",
        "<|endoftext|>a  b",
        "text <|endoftext|> more text<|endoftext|>",
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>",
        "<unk> <s> </s> literal",
        "<s>",
        "'s 't 're 've 'm 'll 'd 'S 'LL",
        "URL: https://example.com/path?query=1&x=y#frag",
        "¿Qué tal? ¡Muy bien!",
        "$100.00 €50 £20 ¥1000 ₹500",
        "Mixed CASE Words And ALLCAPS",
        "x",
        " ",
        "",
    ];
}
