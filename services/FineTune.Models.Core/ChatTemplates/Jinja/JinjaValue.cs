using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

// Runtime values of the Jinja subset, with the truthiness, printing and JSON rules of @huggingface/jinja
// (JavaScript numbers and strings underneath).

internal abstract class JinjaValue
{
    public virtual bool IsTruthy => true;

    /// <summary>What {{ value }} prints.</summary>
    public abstract override string ToString();

    /// <summary>JavaScript's String(value.value): what + and ~ concatenate.</summary>
    public virtual string RawString => ToString();

    public static readonly UndefinedValue Undefined = new();
    public static readonly NullValue Null = new();
    public static BooleanValue Bool(bool b) => b ? BooleanValue.True : BooleanValue.False;

    /// <summary>Converts host data (strings, numbers, bools, lists, dictionaries, JsonElement, ChatMessage) to values.</summary>
    public static JinjaValue From(object? value) => value switch
    {
        null => Null,
        JinjaValue v => v,
        string s => new StringValue(s),
        bool b => Bool(b),
        int i => new IntegerValue(i),
        long l => new IntegerValue(l),
        float f => Number(f),
        double d => Number(d),
        decimal m => Number((double)m),
        JsonElement e => FromJson(e),
        ChatMessage m => FromMessage(m),
        IDictionary<string, object?> dict => new ObjectValue(dict.Select(kv => new KeyValuePair<string, JinjaValue>(kv.Key, From(kv.Value)))),
        IReadOnlyDictionary<string, object?> dict => new ObjectValue(dict.Select(kv => new KeyValuePair<string, JinjaValue>(kv.Key, From(kv.Value)))),
        System.Collections.IEnumerable list => new ArrayValue(list.Cast<object?>().Select(From).ToList()),
        _ => throw new JinjaException($"Cannot convert {value.GetType().Name} to a template value"),
    };

    private static JinjaValue FromMessage(ChatMessage m)
    {
        var pairs = new List<KeyValuePair<string, JinjaValue>>
        {
            new("role", new StringValue(m.Role)),
            new("content", m.Content is null ? Null : new StringValue(m.Content)),
        };
        if (m.Extra is not null)
            foreach (var (k, v) in m.Extra) pairs.Add(new(k, From(v)));
        return new ObjectValue(pairs);
    }

    /// <summary>
    /// JavaScript has one number type: integral values become integers (as JSON.parse + Number.isInteger); those beyond
    /// 2^53, where a long would compute differently from a double, stay doubles that print and test as integers.
    /// </summary>
    public static JinjaValue Number(double d)
    {
        if (!double.IsFinite(d) || Math.Floor(d) != d) return new FloatValue(d);
        return Math.Abs(d) < 9.007199254740992E15 ? new IntegerValue((long)d) : new FloatValue(d, integral: true);
    }

    public static JinjaValue FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => new StringValue(e.GetString()!),
        JsonValueKind.Number => Number(e.GetDouble()),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        JsonValueKind.Null => Null,
        JsonValueKind.Array => new ArrayValue(e.EnumerateArray().Select(FromJson).ToList()),
        JsonValueKind.Object => new ObjectValue(e.EnumerateObject().Select(p => new KeyValuePair<string, JinjaValue>(p.Name, FromJson(p.Value)))),
        _ => Undefined,
    };

    /// <summary>JavaScript Number.prototype.toString for doubles.</summary>
    public static string JsNumber(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0) return "0";
        var abs = Math.Abs(d);
        if (abs >= 1e21 || abs < 1e-6)
        {
            var s = d.ToString("R", CultureInfo.InvariantCulture); // e.g. 1E-07, 1.5E+21
            var parts = s.Split('E');
            var exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exp >= 0 ? "+" : "-") + Math.Abs(exp).ToString(CultureInfo.InvariantCulture);
        }
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E')) return r;
        return ((decimal)d).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>JSON.stringify of a string.</summary>
    public static string JsonString(string s, bool ensureAscii = false)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    var lone = char.IsHighSurrogate(c) ? !(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                        : char.IsLowSurrogate(c) && !(i > 0 && char.IsHighSurrogate(s[i - 1]));
                    if (c < 0x20 || lone || (ensureAscii && c >= 0x7F))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}

internal sealed class StringValue(string value) : JinjaValue
{
    public string Value { get; } = value;
    public override bool IsTruthy => Value.Length > 0;
    public override string ToString() => Value;
}

internal sealed class IntegerValue(long value) : JinjaValue
{
    public long Value { get; } = value;
    public override bool IsTruthy => Value != 0;
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A double; <paramref name="integral"/> marks an integer beyond 2^53 from the host (the reference's IntegerValue, printed by JavaScript's toString).</summary>
internal sealed class FloatValue(double value, bool integral = false) : JinjaValue
{
    public double Value { get; } = value;
    public bool IsInteger { get; } = integral;
    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);
    public override string ToString()
    {
        if (IsInteger) return JsNumber(Value);
        if (Value == 0 && double.IsNegative(Value)) return "-0.0";
        // JavaScript's toFixed(1) for integral values, which itself switches to exponent form from 1e21 on.
        return double.IsFinite(Value) && Value % 1 == 0 && Math.Abs(Value) < 1e21 ? Value.ToString("F1", CultureInfo.InvariantCulture) : JsNumber(Value);
    }
    public override string RawString => JsNumber(Value);
}

internal sealed class BooleanValue : JinjaValue
{
    public static readonly BooleanValue True = new(true);
    public static readonly BooleanValue False = new(false);
    private BooleanValue(bool value) => Value = value;
    public bool Value { get; }
    public override bool IsTruthy => Value;
    public override string ToString() => Value ? "true" : "false";
}

internal sealed class NullValue : JinjaValue
{
    public override bool IsTruthy => false;
    public override string ToString() => "null";
}

internal sealed class UndefinedValue : JinjaValue
{
    public override bool IsTruthy => false;
    public override string ToString() => "undefined";
}

internal class ArrayValue(List<JinjaValue> items) : JinjaValue
{
    public List<JinjaValue> Items { get; } = items;
    public override bool IsTruthy => Items.Count > 0;
    public override string ToString() => JinjaJson.Serialize(this, new JinjaJson.Options(), undefinedToNull: false);
    public override string RawString => string.Join(",", Items.Select(i => i is NullValue or UndefinedValue ? "" : i.RawString));
}

internal sealed class TupleValue(List<JinjaValue> items) : ArrayValue(items);

/// <summary>An insertion-ordered mapping (a JavaScript Map).</summary>
internal class ObjectValue : JinjaValue
{
    public ObjectValue(IEnumerable<KeyValuePair<string, JinjaValue>> entries)
    {
        foreach (var (k, v) in entries) Set(k, v);
    }

    private readonly Dictionary<string, JinjaValue> _map = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];

    public IEnumerable<KeyValuePair<string, JinjaValue>> Entries => _keys.Select(k => new KeyValuePair<string, JinjaValue>(k, _map[k]));
    public int Count => _keys.Count;
    public bool TryGet(string key, out JinjaValue value) => _map.TryGetValue(key, out value!);
    public bool Has(string key) => _map.ContainsKey(key);

    public void Set(string key, JinjaValue value)
    {
        if (!_map.ContainsKey(key)) _keys.Add(key);
        _map[key] = value;
    }

    public override bool IsTruthy => Count > 0;
    public override string ToString() => JinjaJson.Serialize(this, new JinjaJson.Options(), undefinedToNull: false);
    public override string RawString => "[object Map]";
}

internal sealed class KeywordArgumentsValue(IEnumerable<KeyValuePair<string, JinjaValue>> entries) : ObjectValue(entries);

internal sealed class NamespaceValue(IEnumerable<KeyValuePair<string, JinjaValue>> entries) : ObjectValue(entries)
{
    public override bool IsTruthy => true;
}

internal sealed class FunctionValue(Func<List<JinjaValue>, Environment, JinjaValue> call) : JinjaValue
{
    public Func<List<JinjaValue>, Environment, JinjaValue> Call { get; } = call;
    public override string ToString() => "[function]";
}

/// <summary>The reference's toJSON: Python-json-like separators (", " and ": "), indent, sort_keys, ensure_ascii.</summary>
internal static class JinjaJson
{
    public sealed record Options(int? Indent = null, bool EnsureAscii = false, (string Item, string Key)? Separators = null, bool SortKeys = false);

    public static string Serialize(JinjaValue value, Options options, bool undefinedToNull = true, int depth = 0)
    {
        string itemSep, keySep;
        if (options.Separators is { } s) (itemSep, keySep) = s;
        else if (options.Indent is > 0) (itemSep, keySep) = (",", ": ");
        else (itemSep, keySep) = (", ", ": ");
        switch (value)
        {
            case NullValue: return "null";
            case UndefinedValue: return undefinedToNull ? "null" : "undefined";
            case IntegerValue i: return i.ToString();
            case FloatValue f: return double.IsFinite(f.Value) ? JinjaValue.JsNumber(f.Value) : "null";
            case BooleanValue b: return b.ToString();
            case StringValue str: return JinjaValue.JsonString(str.Value, options.EnsureAscii);
            case ArrayValue or ObjectValue:
            {
                var indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : "";
                var basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                var childPadding = basePadding + indent;
                var pretty = options.Indent is > 0;
                if (value is ArrayValue array)
                {
                    var core = array.Items.Select(x => Serialize(x, options, undefinedToNull, depth + 1)).ToList();
                    return pretty && core.Count > 0
                        ? "[" + childPadding + string.Join(itemSep + childPadding, core) + basePadding + "]"
                        : "[" + string.Join(itemSep, core) + "]";
                }
                var entries = ((ObjectValue)value).Entries.ToList();
                if (options.SortKeys) entries = entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
                var items = entries.Select(e =>
                {
                    var v = JinjaValue.JsonString(e.Key, options.EnsureAscii) + keySep + Serialize(e.Value, options, undefinedToNull, depth + 1);
                    return pretty ? childPadding + v : v;
                }).ToList();
                return pretty && items.Count > 0
                    ? "{" + string.Join(itemSep, items) + basePadding + "}"
                    : "{" + string.Join(itemSep, items) + "}";
            }
            default:
                throw new JinjaException($"Cannot convert to JSON: {value.GetType().Name}");
        }
    }
}
