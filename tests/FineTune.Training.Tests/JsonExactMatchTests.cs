using FineTune.Training.Evaluation;

namespace FineTune.Training.Tests;

public class JsonExactMatchTests
{
    [Theory]
    [InlineData("""{"name": "Laptop", "price": "$999"}""", """{"price":"$999","name":"Laptop"}""", true)]
    [InlineData("""  {"a": [1, 2], "b": {"c": null}} """, """{"b":{"c":null},"a":[1,2]}""", true)]
    [InlineData("""{"a": 1.0}""", """{"a": 1}""", true)]
    [InlineData("""{"name": "Laptop"}""", """{"name": "laptop"}""", false)]
    [InlineData("""{"a": [1, 2]}""", """{"a": [2, 1]}""", false)]
    [InlineData("""{"name": "Laptop", "extra": 1}""", """{"name": "Laptop"}""", false)]
    [InlineData("""{"name": "Laptop" """, """{"name": "Laptop"}""", false)]
    [InlineData("Sure! {\"name\": \"Laptop\"}", """{"name": "Laptop"}""", false)]
    public void ComparesParsedJsonIgnoringKeyOrder(string generated, string expected, bool match) =>
        Assert.Equal(match, JsonExactMatch.Matches(generated, expected));
}
