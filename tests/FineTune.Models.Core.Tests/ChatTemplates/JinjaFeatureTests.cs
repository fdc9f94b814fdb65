using System.Text.Json;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.ChatTemplates.Jinja;

namespace FineTune.Models.Core.Tests.ChatTemplates;

/// <summary>
/// Jinja features of real chat templates, with the results Jinja's documentation defines (worked out by hand; the
/// character-for-character comparison with @huggingface/jinja is in ChatTemplateParityTests): dictsort (Gemma 4's tool
/// calls), call blocks, JavaScript's printing of large numbers, and full Unicode case mapping in upper and lower.
/// </summary>
public class JinjaFeatureTests
{
    private static string Render(string template, string messagesJson = """[{"role": "user", "content": "x"}]""")
    {
        using var messages = JsonDocument.Parse(messagesJson);
        return ChatTemplate.FromString(template).RenderJson(messages.RootElement, addGenerationPrompt: false);
    }

    [Theory]
    [InlineData("{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}", "A=2;b=1;c=0;")]
    [InlineData("{% for k, v in d | dictsort(reverse=true) %}{{ k }}{% endfor %}", "cbA")]
    [InlineData("{% for k, v in d | dictsort(by='value') %}{{ k }}{% endfor %}", "cbA")]
    [InlineData("{% for k, v in {'b': 1, 'B': 2, 'a': 3} | dictsort(true) %}{{ k }}{% endfor %}", "Bab")]
    [InlineData("{{ d | dictsort | length }}", "3")]
    public void DictsortGivesTheKeyValuePairsInOrder(string body, string expected) =>
        Assert.Equal(expected, Render("{% set d = {'b': 1, 'A': 2, 'c': 0} %}" + body));

    [Fact]
    public void DictsortOrdersToolCallArgumentsFromTheMessages() =>
        Assert.Equal("location=Paris,unit=celsius,", Render(
            "{% for k, v in messages[0].tool_calls[0].arguments | dictsort %}{{ k }}={{ v }},{% endfor %}",
            """[{"role": "assistant", "tool_calls": [{"arguments": {"unit": "celsius", "location": "Paris"}}]}]"""));

    [Fact]
    public void DictsortRefusesAnUnknownSortKey()
    {
        var e = Assert.Throws<JinjaException>(() => Render("{{ {'a': 1} | dictsort(by='size') }}"));
        Assert.Contains("by must be either 'key' or 'value'", e.Message);
    }

    [Theory]
    [InlineData("{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold{% endcall %}", "<b>bold</b>")]
    [InlineData("{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}[{{ x }}]{% endcall %}", "[1][2]")]
    public void ACallBlockIsTheMacrosCaller(string template, string expected) => Assert.Equal(expected, Render(template));

    [Fact]
    public void LargeIntegralNumbersPrintAsJavaScriptDoes() =>   // JSON integers print as integers, in exponent form from 1e21 on
        Assert.Equal("1e+21|100000000000000000000|2.5", Render(
            "{{ messages[0].big }}|{{ messages[0].large }}|{{ messages[0].half }}",
            """[{"role": "user", "big": 1e21, "large": 1e20, "half": 2.5}]"""));

    [Theory]
    [InlineData("{{ 'straße' | upper }}", "STRASSE")]
    [InlineData("{{ 'ﬁne'.upper() }}", "FINE")]
    [InlineData("{{ 'ıi' | upper }}", "II")]
    [InlineData("{{ 'ΟΔΟΣ ΑΣ.' | lower }}", "οδος ας.")]
    [InlineData("{{ 'ΣΑΣ' | lower }}", "σας")]
    [InlineData("{{ 'İ' | lower }}", "i\u0307")]
    public void UpperAndLowerUseTheFullUnicodeMappings(string template, string expected) => Assert.Equal(expected, Render(template));
}
