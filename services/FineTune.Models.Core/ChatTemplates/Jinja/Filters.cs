using System.Globalization;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

/// <summary>The filters chat templates use: trim, tojson, length, upper/lower, default, items, join, first/last, map…</summary>
internal static class Filters
{
    public static JinjaValue Apply(JinjaValue operand, string name)
    {
        if (name == "safe") return operand;
        if (name == "tojson") return new StringValue(JinjaJson.Serialize(operand, new JinjaJson.Options()));
        return operand switch
        {
            ArrayValue a => ApplyToArray(a, name),
            StringValue s => ApplyToString(s, name),
            IntegerValue or FloatValue => ApplyToNumber(operand, name),
            ObjectValue o and not NamespaceValue => ApplyToObject(o, name),
            BooleanValue b => ApplyToBoolean(b, name),
            _ => throw new JinjaException($"Cannot apply filter \"{name}\" to type: {operand.GetType().Name}"),
        };
    }

    private static JinjaValue ApplyToArray(ArrayValue a, string name)
    {
        return name switch
        {
            "list" => a,
            "first" => a.Items.Count > 0 ? a.Items[0] : JinjaValue.Undefined,
            "last" => a.Items.Count > 0 ? a.Items[^1] : JinjaValue.Undefined,
            "length" => new IntegerValue(a.Items.Count),
            "reverse" => new ArrayValue(Enumerable.Reverse(a.Items).ToList()),
            "sort" => new ArrayValue(Sort(a.Items, x => x, caseSensitive: false, reverse: false)),
            "join" => new StringValue(string.Concat(a.Items.Select(i => i.RawString))),
            "string" => new StringValue(JinjaJson.Serialize(a, new JinjaJson.Options(), undefinedToNull: false)),
            "unique" => new ArrayValue(a.Items.DistinctBy(i => i is StringValue s ? "s:" + s.Value : i.RawString).ToList()),
            _ => throw new JinjaException($"Unknown ArrayValue filter: {name}"),
        };
    }

    private static JinjaValue ApplyToString(StringValue s, string name)
    {
        return name switch
        {
            "length" => new IntegerValue(s.Value.Length),
            "upper" or "lower" or "title" or "capitalize" => ((FunctionValue)Builtins.String(s, name)!).Call([], null!),
            "trim" => new StringValue(JsText.Trim(s.Value)),
            "indent" => new StringValue(string.Join("\n", s.Value.Split('\n').Select((x, i) => i == 0 || x.Length == 0 ? x : "    " + x))),
            "join" or "string" => s,
            "int" => new IntegerValue(ParseIntPrefix(s.Value) ?? 0),
            "float" => new FloatValue(ParseFloatPrefix(s.Value) ?? 0),
            _ => throw new JinjaException($"Unknown StringValue filter: {name}"),
        };
    }

    private static JinjaValue ApplyToNumber(JinjaValue operand, string name)
    {
        return name switch
        {
            "abs" => operand is IntegerValue i ? new IntegerValue(Math.Abs(i.Value)) : new FloatValue(Math.Abs(((FloatValue)operand).Value)),
            "int" => operand is IntegerValue ? operand : new IntegerValue((long)Math.Floor(((FloatValue)operand).Value)),
            "float" => new FloatValue(operand is IntegerValue ii ? ii.Value : ((FloatValue)operand).Value),
            "string" => new StringValue(operand.ToString()),
            _ => throw new JinjaException($"Unknown NumericValue filter: {name}"),
        };
    }

    private static JinjaValue ApplyToObject(ObjectValue o, string name)
    {
        return name switch
        {
            "items" => Builtins.Items(o),
            "length" => new IntegerValue(o.Count),
            _ => Builtins.Object(o, name) is FunctionValue f ? f.Call([], null!)
                : throw new JinjaException($"Unknown ObjectValue filter: {name}"),
        };
    }

    private static JinjaValue ApplyToBoolean(BooleanValue b, string name)
    {
        return name switch
        {
            "bool" => b,
            "int" => new IntegerValue(b.Value ? 1 : 0),
            "float" => new FloatValue(b.Value ? 1 : 0),
            "string" => new StringValue(b.Value ? "true" : "false"),
            _ => throw new JinjaException($"Unknown BooleanValue filter: {name}"),
        };
    }

    public static JinjaValue ApplyCall(JinjaValue operand, string name,
        (List<JinjaValue> Args, List<KeyValuePair<string, JinjaValue>> Kwargs) arguments)
    {
        var (args, kwargsList) = arguments;
        var kwargs = kwargsList.ToDictionary(k => k.Key, k => k.Value);

        switch (name)
        {
            case "tojson":
                return ToJson(operand, kwargs);
            case "join":
            {
                var items = operand switch
                {
                    StringValue s => EnumerateCodePoints(s.Value).ToList(),
                    ArrayValue a => a.Items.Select(i => i.RawString).ToList(),
                    _ => throw new JinjaException($"Cannot apply filter \"join\" to type: {operand.GetType().Name}"),
                };
                var separator = Arg(args, kwargs, 0, "separator", new StringValue(""));
                if (separator is not StringValue sepString) throw new JinjaException("separator must be a string");
                return new StringValue(string.Join(sepString.Value, items));
            }
            case "int" or "float":
            {
                var fallback = Arg(args, kwargs, 0, "default", name == "int" ? new IntegerValue(0) : new FloatValue(0));
                return operand switch
                {
                    StringValue s when name == "int" => ParseIntPrefix(s.Value) is long l ? new IntegerValue(l) : fallback,
                    StringValue s => ParseFloatPrefix(s.Value) is double d ? new FloatValue(d) : fallback,
                    IntegerValue or FloatValue => operand,
                    BooleanValue b => name == "int" ? new IntegerValue(b.Value ? 1 : 0) : new FloatValue(b.Value ? 1 : 0),
                    _ => throw new JinjaException($"Cannot apply filter \"{name}\" to type: {operand.GetType().Name}"),
                };
            }
            case "default" or "d":
            {
                var fallback = args.Count > 0 ? args[0] : new StringValue("");
                var boolean = args.Count > 1 ? args[1] : kwargs.GetValueOrDefault("boolean") ?? BooleanValue.False;
                if (operand is UndefinedValue || (boolean.IsTruthy && !operand.IsTruthy)) return fallback;
                return operand;
            }
        }
        return operand switch
        {
            ArrayValue a => ApplyCallToArray(a, name, args, kwargs),
            StringValue s => ApplyCallToString(s, name, args, kwargs, kwargsList),
            ObjectValue o and not NamespaceValue => ApplyCallToObject(o, name, args, kwargsList),
            _ => throw new JinjaException($"Cannot apply filter \"{name}\" to type: {operand.GetType().Name}"),
        };
    }

    /// <summary>tojson with its keyword arguments: indent, ensure_ascii, sort_keys, separators.</summary>
    private static JinjaValue ToJson(JinjaValue operand, Dictionary<string, JinjaValue> kwargs)
    {
        var indent = kwargs.GetValueOrDefault("indent") ?? JinjaValue.Null;
        if (indent is not (IntegerValue or NullValue)) throw new JinjaException("If set, indent must be a number");
        var ensureAscii = kwargs.GetValueOrDefault("ensure_ascii") ?? BooleanValue.False;
        var sortKeys = kwargs.GetValueOrDefault("sort_keys") ?? BooleanValue.False;
        (string, string)? separators = null;
        if (kwargs.GetValueOrDefault("separators") is ArrayValue { Items.Count: 2 } sep
            && sep.Items[0] is StringValue item && sep.Items[1] is StringValue key)
            separators = (item.Value, key.Value);
        return new StringValue(JinjaJson.Serialize(operand, new JinjaJson.Options(
            indent is IntegerValue n ? (int)n.Value : null, ensureAscii.IsTruthy, separators, sortKeys.IsTruthy)));
    }

    private static JinjaValue Arg(List<JinjaValue> args, Dictionary<string, JinjaValue> kwargs, int index, string key, JinjaValue fallback) =>
        index < args.Count ? args[index] : kwargs.TryGetValue(key, out var v) ? v : fallback;

    private static JinjaValue ApplyCallToArray(ArrayValue a, string name, List<JinjaValue> args, Dictionary<string, JinjaValue> kwargs)
    {
        switch (name)
        {
            case "sort":
            {
                var reverse = Arg(args, kwargs, 0, "reverse", BooleanValue.False).IsTruthy;
                var caseSensitive = Arg(args, kwargs, 1, "case_sensitive", BooleanValue.False).IsTruthy;
                var attribute = Arg(args, kwargs, 2, "attribute", JinjaValue.Null);
                Func<JinjaValue, JinjaValue> key = attribute is NullValue ? x => x : x => GetAttribute(x, attribute.RawString);
                return new ArrayValue(Sort(a.Items, key, caseSensitive, reverse));
            }
            case "selectattr" or "rejectattr":
            {
                var select = name == "selectattr";
                if (a.Items.Any(i => i is not ObjectValue)) throw new JinjaException($"`{name}` can only be applied to array of objects");
                var attr = args.ElementAtOrDefault(0)?.RawString ?? throw new JinjaException($"{name} needs an attribute");
                var testName = args.ElementAtOrDefault(1)?.RawString;
                var value = args.ElementAtOrDefault(2);
                return new ArrayValue(a.Items.Where(item =>
                {
                    var found = ((ObjectValue)item).TryGet(attr, out var v) ? v : null;
                    var result = found is not null && (testName is null ? found.IsTruthy : SelectTest(testName, found, value));
                    return select ? result : !result;
                }).ToList());
            }
            case "map":
            {
                if (!kwargs.TryGetValue("attribute", out var attr) || attr is not StringValue attrName)
                    throw new JinjaException("`map` expressions without `attribute` set are not currently supported.");
                var fallback = kwargs.GetValueOrDefault("default");
                return new ArrayValue(a.Items.Select(item =>
                {
                    if (item is not ObjectValue) throw new JinjaException("items in map must be an object");
                    var v = GetAttribute(item, attrName.Value);
                    return v is UndefinedValue ? fallback ?? JinjaValue.Undefined : v;
                }).ToList());
            }
        }
        throw new JinjaException($"Unknown ArrayValue filter: {name}");
    }

    private static JinjaValue ApplyCallToString(StringValue s, string name, List<JinjaValue> args,
        Dictionary<string, JinjaValue> kwargs, List<KeyValuePair<string, JinjaValue>> kwargsList)
    {
        switch (name)
        {
            case "indent":
            {
                var width = Arg(args, kwargs, 0, "width", new IntegerValue(4));
                if (width is not IntegerValue w) throw new JinjaException("width must be a number");
                var first = Arg(args, kwargs, 1, "first", BooleanValue.False).IsTruthy;
                var blank = Arg(args, kwargs, 2, "blank", BooleanValue.False).IsTruthy;
                var pad = new string(' ', (int)w.Value);
                return new StringValue(string.Join("\n", s.Value.Split('\n').Select((x, i) =>
                    (!first && i == 0) || (!blank && x.Length == 0) ? x : pad + x)));
            }
            case "replace":
                return Builtins.Replace(s.Value, [.. args, new KeywordArgumentsValue(kwargsList)]);
        }
        throw new JinjaException($"Unknown StringValue filter: {name}");
    }

    private static JinjaValue ApplyCallToObject(ObjectValue o, string name, List<JinjaValue> args,
        List<KeyValuePair<string, JinjaValue>> kwargsList)
    {
        if (Builtins.Object(o, name) is FunctionValue f)
        {
            var callArgs = args.ToList();
            if (kwargsList.Count > 0) callArgs.Add(new KeywordArgumentsValue(kwargsList));
            return f.Call(callArgs, null!);
        }
        throw new JinjaException($"Unknown ObjectValue filter: {name}");
    }

    private static bool SelectTest(string test, JinjaValue a, JinjaValue? b) => test switch
    {
        "equalto" or "eq" or "==" => b is not null && a.RawString == b.RawString && a.GetType() == b.GetType(),
        "defined" => a is not UndefinedValue,
        "undefined" => a is UndefinedValue,
        "none" => a is NullValue,
        "string" => a is StringValue,
        "true" => a is BooleanValue { Value: true },
        "false" => a is BooleanValue { Value: false },
        _ => throw new JinjaException($"Unknown test: {test}"),
    };

    private static JinjaValue GetAttribute(JinjaValue item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            if (value is ObjectValue o) value = o.TryGet(part, out var v) ? v : JinjaValue.Undefined;
            else if (value is ArrayValue a && int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index)
                     && index >= 0 && index < a.Items.Count) value = a.Items[index];
            else return JinjaValue.Undefined;
        }
        return value;
    }

    /// <summary>A stable sort by <paramref name="key"/> with the reference's comparison (numbers with numbers, strings with strings).</summary>
    internal static List<JinjaValue> Sort(List<JinjaValue> items, Func<JinjaValue, JinjaValue> key, bool caseSensitive, bool reverse)
    {
        var sorted = items.ToList();
        // A stable sort, as Array.prototype.sort is.
        var indexed = sorted.Select((v, i) => (v, i)).ToList();
        indexed.Sort((x, y) =>
        {
            var c = Compare(key(x.v), key(y.v), caseSensitive);
            if (reverse) c = -c;
            return c != 0 ? c : x.i.CompareTo(y.i);
        });
        return indexed.Select(x => x.v).ToList();
    }

    private static int Compare(JinjaValue a, JinjaValue b, bool caseSensitive)
    {
        if (a is NullValue && b is NullValue) return 0;
        if (a is UndefinedValue && b is UndefinedValue) return 0;
        if (a is NullValue or UndefinedValue || b is NullValue or UndefinedValue)
            throw new JinjaException($"Cannot compare {a.GetType().Name} with {b.GetType().Name}");
        if (a is IntegerValue or FloatValue or BooleanValue && b is IntegerValue or FloatValue or BooleanValue)
            return Num(a).CompareTo(Num(b));
        if (a is StringValue sa && b is StringValue sb)
        {
            var x = caseSensitive ? sa.Value : UnicodeFullCase.ToLower(sa.Value, finalSigma: true);
            var y = caseSensitive ? sb.Value : UnicodeFullCase.ToLower(sb.Value, finalSigma: true);
            return Math.Sign(string.CompareOrdinal(x, y));
        }
        throw new JinjaException($"Cannot compare different types: {a.GetType().Name} and {b.GetType().Name}");
    }

    private static double Num(JinjaValue v) => v switch
    {
        IntegerValue i => i.Value,
        FloatValue f => f.Value,
        BooleanValue b => b.Value ? 1 : 0,
        _ => 0,
    };

    private static IEnumerable<string> EnumerateCodePoints(string s)
    {
        for (var i = 0; i < s.Length;)
        {
            var w = char.IsSurrogatePair(s, i) ? 2 : 1;
            yield return s.Substring(i, w);
            i += w;
        }
    }

    /// <summary>parseInt(s, 10): optional sign and leading digits after leading whitespace; null when none.</summary>
    private static long? ParseIntPrefix(string s)
    {
        var t = JsText.TrimStart(s);
        var i = 0;
        if (i < t.Length && t[i] is '+' or '-') i++;
        var start = i;
        while (i < t.Length && char.IsAsciiDigit(t[i])) i++;
        if (i == start) return null;
        return long.TryParse(t[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    /// <summary>parseFloat(s): the longest leading decimal literal; null when none.</summary>
    private static double? ParseFloatPrefix(string s)
    {
        var t = JsText.TrimStart(s);
        var m = System.Text.RegularExpressions.Regex.Match(t, @"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)");
        if (!m.Success) return t.StartsWith("Infinity", StringComparison.Ordinal) ? double.PositiveInfinity : null;
        return double.Parse(m.Value, CultureInfo.InvariantCulture);
    }
}
