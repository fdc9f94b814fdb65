using System.Text;
using System.Text.RegularExpressions;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

/// <summary>Attributes and methods of strings, arrays and objects (message.content.strip(), messages.length, d.items()…).</summary>
internal static class Builtins
{
    public static JinjaValue? String(StringValue s, string name) => name switch
    {
        "upper" => Fn(_ => new StringValue(UnicodeFullCase.ToUpper(s.Value))),
        "lower" => Fn(_ => new StringValue(UnicodeFullCase.ToLower(s.Value, finalSigma: true))),
        "strip" => Fn(_ => new StringValue(JsText.Trim(s.Value))),
        "rstrip" => Fn(_ => new StringValue(JsText.TrimEnd(s.Value))),
        "lstrip" => Fn(_ => new StringValue(JsText.TrimStart(s.Value))),
        "title" => Fn(_ => new StringValue(Title(s.Value))),
        "capitalize" => Fn(_ => new StringValue(s.Value.Length == 0 ? "" : UnicodeFullCase.ToUpper(s.Value[..1]) + s.Value[1..])),
        "length" => new IntegerValue(s.Value.Length),
        "startswith" => Fn(args => JinjaValue.Bool(Affix(s.Value, args, "startswith", (x, p) => x.StartsWith(p, StringComparison.Ordinal)))),
        "endswith" => Fn(args => JinjaValue.Bool(Affix(s.Value, args, "endswith", (x, p) => x.EndsWith(p, StringComparison.Ordinal)))),
        "split" => Fn(args => Split(s.Value, args)),
        "replace" => Fn(args => Replace(s.Value, args)),
        _ => null,
    };

    public static JinjaValue? Array(ArrayValue a, string name) => name == "length" ? new IntegerValue(a.Items.Count) : null;

    public static JinjaValue? Object(ObjectValue o, string name) => name switch
    {
        "get" => Fn(args =>
        {
            if (args.Count == 0 || args[0] is not StringValue key) throw new JinjaException("Object key must be a string");
            return o.TryGet(key.Value, out var v) ? v : args.Count > 1 ? args[1] : JinjaValue.Null;
        }),
        "items" => Fn(_ => Items(o)),
        "keys" => Fn(_ => new ArrayValue(o.Entries.Select(e => (JinjaValue)new StringValue(e.Key)).ToList())),
        "values" => Fn(_ => new ArrayValue(o.Entries.Select(e => e.Value).ToList())),
        "dictsort" => Fn(args => DictSort(o, args)),
        _ => null,
    };

    /// <summary>
    /// dictsort(case_sensitive=false, by='key', reverse=false): the (key, value) pairs sorted by key or by value, as
    /// Jinja's filter (positional or keyword arguments; the reference's type checks and messages).
    /// </summary>
    private static ArrayValue DictSort(ObjectValue o, List<JinjaValue> args)
    {
        var kwargs = args.LastOrDefault() as KeywordArgumentsValue;
        var positional = kwargs is null ? args : args[..^1];
        JinjaValue Arg(int index, string key, JinjaValue fallback) =>
            index < positional.Count ? positional[index] : kwargs is not null && kwargs.TryGet(key, out var v) ? v : fallback;
        if (Arg(0, "case_sensitive", BooleanValue.False) is not BooleanValue caseSensitive) throw new JinjaException("case_sensitive must be a boolean");
        if (Arg(1, "by", new StringValue("key")) is not StringValue by) throw new JinjaException("by must be a string");
        if (by.Value is not ("key" or "value")) throw new JinjaException("by must be either 'key' or 'value'");
        if (Arg(2, "reverse", BooleanValue.False) is not BooleanValue reverse) throw new JinjaException("reverse must be a boolean");
        var index = by.Value == "key" ? 0 : 1;
        var pairs = Items(o).Items;
        return new ArrayValue(Filters.Sort(pairs, pair => ((ArrayValue)pair).Items[index], caseSensitive.Value, reverse.Value));
    }

    public static ArrayValue Items(ObjectValue o) =>
        new(o.Entries.Select(e => (JinjaValue)new ArrayValue([new StringValue(e.Key), e.Value])).ToList());

    private static FunctionValue Fn(Func<List<JinjaValue>, JinjaValue> f) => new((args, _) => f(args));

    private static bool Affix(string value, List<JinjaValue> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0) throw new JinjaException($"{name}() requires at least one argument");
        return args[0] switch
        {
            StringValue p => test(value, p.Value),
            ArrayValue list => list.Items.Any(i => i is StringValue p ? test(value, p.Value) : throw new JinjaException($"{name}() tuple elements must be strings")),
            _ => throw new JinjaException($"{name}() argument must be a string or tuple of strings"),
        };
    }

    /// <summary>JavaScript \b\w → upper (ASCII word characters only), as the reference's title().</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s);
        for (var i = 0; i < sb.Length; i++)
        {
            var word = IsAsciiWord(sb[i]);
            if (word && (i == 0 || !IsAsciiWord(s[i - 1]))) sb[i] = char.ToUpperInvariant(sb[i]);
        }
        return sb.ToString();
    }

    private static bool IsAsciiWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static JinjaValue Split(string value, List<JinjaValue> args)
    {
        var sep = args.Count > 0 ? args[0] : JinjaValue.Null;
        var maxSplit = args.Count > 1 ? args[1] : new IntegerValue(-1);
        if (maxSplit is not IntegerValue max) throw new JinjaException("maxsplit argument must be a number");
        var result = new List<string>();
        if (sep is NullValue)
        {
            var text = JsText.TrimStart(value);
            foreach (Match m in Regex.Matches(text, @"[^\t\n\v\f\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF]+"))
            {
                if (max.Value != -1 && result.Count >= max.Value)
                {
                    result.Add(m.Value + text[(m.Index + m.Length)..]);
                    break;
                }
                result.Add(m.Value);
            }
        }
        else if (sep is StringValue s)
        {
            if (s.Value.Length == 0) throw new JinjaException("empty separator");
            result = [.. value.Split(s.Value)];
            if (max.Value != -1 && result.Count > max.Value)
            {
                var rest = string.Join(s.Value, result.Skip((int)max.Value));
                result = [.. result.Take((int)max.Value), rest];
            }
        }
        else throw new JinjaException("sep argument must be a string or null");
        return new ArrayValue(result.Select(r => (JinjaValue)new StringValue(r)).ToList());
    }

    public static JinjaValue Replace(string value, List<JinjaValue> args)
    {
        if (args.Count < 2) throw new JinjaException("replace() requires at least two arguments");
        if (args[0] is not StringValue oldValue || args[1] is not StringValue newValue) throw new JinjaException("replace() arguments must be strings");
        JinjaValue count = JinjaValue.Null;
        if (args.Count > 2)
            count = args[2] is KeywordArgumentsValue kw ? (kw.TryGet("count", out var c) ? c : JinjaValue.Null) : args[2];
        if (count is not (IntegerValue or NullValue)) throw new JinjaException("replace() count argument must be a number or null");
        var remaining = count is IntegerValue n ? (n.Value < 0 ? long.MaxValue : n.Value) : long.MaxValue;
        if (remaining == 0) return new StringValue(value);
        var sb = new StringBuilder();
        if (oldValue.Value.Length == 0)
        {
            // Insert before every code point and at the end, as a global empty-pattern replace does.
            var i = 0;
            while (i <= value.Length)
            {
                if (remaining > 0) { sb.Append(newValue.Value); remaining--; }
                if (i == value.Length) break;
                var w = char.IsSurrogatePair(value, i) ? 2 : 1;
                sb.Append(value, i, w);
                i += w;
            }
            return new StringValue(sb.ToString());
        }
        var pos = 0;
        while (remaining > 0)
        {
            var at = value.IndexOf(oldValue.Value, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(value, pos, at - pos).Append(newValue.Value);
            pos = at + oldValue.Value.Length;
            remaining--;
        }
        sb.Append(value, pos, value.Length - pos);
        return new StringValue(sb.ToString());
    }
}
