using System.Globalization;
using System.Text;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

/// <summary>Evaluates a parsed template (see JinjaLexer.cs for scope and reference).</summary>
internal sealed class JinjaInterpreter
{
    private sealed class BreakSignal : Exception;
    private sealed class ContinueSignal : Exception;

    public static string Render(ProgramNode program, IEnumerable<KeyValuePair<string, JinjaValue>> variables)
    {
        var global = new Environment(null);
        SetupGlobals(global);
        foreach (var (k, v) in variables) global.Set(k, v);
        return new JinjaInterpreter().EvaluateBlock(program.Body, global);
    }

    private static void SetupGlobals(Environment env)
    {
        env.Set("namespace", new FunctionValue((args, _) =>
        {
            var entries = new List<KeyValuePair<string, JinjaValue>>();
            var positional = args.ToList();
            KeywordArgumentsValue? kwargs = null;
            if (positional.Count > 0 && positional[^1] is KeywordArgumentsValue k) { kwargs = k; positional.RemoveAt(positional.Count - 1); }
            if (positional.Count > 1) throw new JinjaException($"namespace expected at most 1 argument, got {positional.Count}");
            if (positional.Count == 1)
            {
                if (positional[0] is ObjectValue o) entries.AddRange(o.Entries);
                else throw new JinjaException("namespace expected an object");
            }
            if (kwargs is not null) entries.AddRange(kwargs.Entries);
            return new NamespaceValue(entries);
        }));
        env.Set("false", BooleanValue.False);
        env.Set("true", BooleanValue.True);
        env.Set("none", JinjaValue.Null);
        env.Set("False", BooleanValue.False);
        env.Set("True", BooleanValue.True);
        env.Set("None", JinjaValue.Null);
        env.Set("raise_exception", new FunctionValue((args, _) =>
            throw new JinjaException(args.Count > 0 ? args[0].ToString() : "raise_exception called")));
        env.Set("range", new FunctionValue((args, _) =>
        {
            var n = args.Select(a => a is IntegerValue i ? i.Value : throw new JinjaException("range() arguments must be integers")).ToList();
            long start = 0, stop, step = 1;
            if (n.Count == 1) stop = n[0];
            else { start = n[0]; stop = n[1]; if (n.Count > 2) step = n[2]; }
            if (step == 0) throw new JinjaException("range() step must not be zero");
            var result = new List<JinjaValue>();
            for (var i = start; step > 0 ? i < stop : i > stop; i += step) result.Add(new IntegerValue(i));
            return new ArrayValue(result);
        }));
        env.Set("strftime_now", new FunctionValue((args, _) =>
            new StringValue(Strftime(DateTime.Now, args.Count > 0 ? args[0].ToString() : ""))));
    }

    private static string Strftime(DateTime date, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            i++;
            sb.Append(format[i] switch
            {
                'Y' => date.Year.ToString(CultureInfo.InvariantCulture),
                'm' => date.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => date.Day.ToString("00", CultureInfo.InvariantCulture),
                'b' => date.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => date.ToString("MMMM", CultureInfo.InvariantCulture),
                'H' => date.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => date.Minute.ToString("00", CultureInfo.InvariantCulture),
                '%' => "%",
                var other => "%" + other,
            });
        }
        return sb.ToString();
    }

    private string EvaluateBlock(List<Node> statements, Environment env)
    {
        var sb = new StringBuilder();
        foreach (var statement in statements)
        {
            var value = Evaluate(statement, env);
            if (value is not (NullValue or UndefinedValue)) sb.Append(value.ToString());
        }
        return sb.ToString();
    }

    private JinjaValue Evaluate(Node? node, Environment env) => node switch
    {
        null => JinjaValue.Undefined,
        SetNode n => EvaluateSet(n, env),
        IfNode n => new StringValue(EvaluateBlock(Evaluate(n.Test, env).IsTruthy ? n.Body : n.Alternate, env)),
        ForNode n => EvaluateFor(n, env),
        MacroNode n => EvaluateMacro(n, env),
        CallBlockNode n => EvaluateCallBlock(n, env),
        FilterStatementNode n => ApplyFilter(new StringValue(EvaluateBlock(n.Body, env)), n.Filter, env),
        BreakNode => throw new BreakSignal(),
        ContinueNode => throw new ContinueSignal(),
        CommentNode => JinjaValue.Null,
        IntegerLiteralNode n => new IntegerValue(n.Value),
        FloatLiteralNode n => new FloatValue(n.Value),
        StringLiteralNode n => new StringValue(n.Value),
        ArrayLiteralNode n => new ArrayValue(n.Items.Select(x => Evaluate(x, env)).ToList()),
        TupleLiteralNode n => new TupleValue(n.Items.Select(x => Evaluate(x, env)).ToList()),
        ObjectLiteralNode n => new ObjectValue(n.Entries.Select(e =>
            new KeyValuePair<string, JinjaValue>(Evaluate(e.Key, env) is StringValue s ? s.Value
                : throw new JinjaException("Object keys must be strings"), Evaluate(e.Value, env)))),
        IdentifierNode n => env.Lookup(n.Name),
        CallNode n => EvaluateCall(n, env),
        MemberNode n => EvaluateMember(n, env),
        UnaryNode n => EvaluateUnary(n, env),
        BinaryNode n => EvaluateBinary(n, env),
        FilterNode n => ApplyFilter(Evaluate(n.Operand, env), n.Filter, env),
        TestNode n => JinjaValue.Bool(n.Negate ^ Test(n.Test, Evaluate(n.Operand, env))),
        SelectNode n => Evaluate(n.Test, env).IsTruthy ? Evaluate(n.Lhs, env) : JinjaValue.Undefined,
        TernaryNode n => Evaluate(n.Condition, env).IsTruthy ? Evaluate(n.TrueExpr, env) : Evaluate(n.FalseExpr, env),
        _ => throw new JinjaException($"Unknown node type: {node.GetType().Name}"),
    };

    private static bool Test(string name, JinjaValue v) => name switch
    {
        "boolean" => v is BooleanValue,
        "callable" => v is FunctionValue,
        "odd" => v is IntegerValue i ? i.Value % 2 != 0 : throw new JinjaException($"cannot odd on {v.GetType().Name}"),
        "even" => v is IntegerValue i ? i.Value % 2 == 0 : throw new JinjaException($"cannot even on {v.GetType().Name}"),
        "false" => v is BooleanValue { Value: false },
        "true" => v is BooleanValue { Value: true },
        "none" => v is NullValue,
        "string" => v is StringValue,
        "number" => v is IntegerValue or FloatValue,
        "integer" => v is IntegerValue or FloatValue { IsInteger: true },
        "iterable" => v is ArrayValue or StringValue,
        "mapping" => v is ObjectValue and not NamespaceValue,
        "sequence" => v is ArrayValue or StringValue || (v is ObjectValue and not NamespaceValue),
        "lower" => v is StringValue s && s.Value == UnicodeFullCase.ToLower(s.Value, finalSigma: true),
        "upper" => v is StringValue s && s.Value == UnicodeFullCase.ToUpper(s.Value),
        "defined" => v is not UndefinedValue,
        "undefined" => v is UndefinedValue,
        _ => throw new JinjaException($"Unknown test: {name}"),
    };

    private JinjaValue EvaluateSet(SetNode node, Environment env)
    {
        var rhs = node.Value is not null ? Evaluate(node.Value, env) : new StringValue(EvaluateBlock(node.Body, env));
        switch (node.Assignee)
        {
            case IdentifierNode id:
                env.Set(id.Name, rhs);
                break;
            case TupleLiteralNode tuple:
                Unpack(env, tuple, rhs, " in set");
                break;
            case MemberNode member:
                if (Evaluate(member.Object, env) is not NamespaceValue ns) throw new JinjaException("cannot assign attribute on non-namespace object");
                if (member.Property is not IdentifierNode prop) throw new JinjaException("Cannot assign to member with non-identifier property");
                ns.Set(prop.Name, rhs);
                break;
            default:
                throw new JinjaException("Invalid left-hand side of set");
        }
        return JinjaValue.Null;
    }

    private JinjaValue EvaluateFor(ForNode node, Environment env)
    {
        var scope = new Environment(env);
        var items = LoopItems(node, scope);
        var sb = new StringBuilder();
        var noIteration = true;
        for (var i = 0; i < items.Count; i++)
        {
            scope.Set("loop", LoopObject(items, i));
            BindLoopVariable(node.LoopVar, scope, items[i]);
            try
            {
                sb.Append(EvaluateBlock(node.Body, scope));
            }
            catch (ContinueSignal) { continue; }
            catch (BreakSignal) { break; }
            noIteration = false;
        }
        if (noIteration) sb.Append(EvaluateBlock(node.DefaultBlock, scope));
        return new StringValue(sb.ToString());
    }

    /// <summary>The values a for loop iterates: an array's items or an object's keys, less those its inline `if` rejects.</summary>
    private List<JinjaValue> LoopItems(ForNode node, Environment scope)
    {
        Node? test = null;
        JinjaValue iterable;
        if (node.Iterable is SelectNode select)
        {
            iterable = Evaluate(select.Lhs, scope);
            test = select.Test;
        }
        else iterable = Evaluate(node.Iterable, scope);
        List<JinjaValue> source = iterable switch
        {
            ArrayValue a => a.Items,
            ObjectValue o and not NamespaceValue => o.Entries.Select(e => (JinjaValue)new StringValue(e.Key)).ToList(),
            _ => throw new JinjaException($"Expected iterable or object type in for loop: got {iterable.GetType().Name}"),
        };

        var items = new List<JinjaValue>();
        foreach (var current in source)
        {
            if (test is not null)
            {
                var loopScope = new Environment(scope);
                BindLoopVariable(node.LoopVar, loopScope, current);
                if (!Evaluate(test, loopScope).IsTruthy) continue;
            }
            items.Add(current);
        }
        return items;
    }

    private static ObjectValue LoopObject(List<JinjaValue> items, int i) => new(
    [
        new("index", new IntegerValue(i + 1)), new("index0", new IntegerValue(i)),
        new("revindex", new IntegerValue(items.Count - i)), new("revindex0", new IntegerValue(items.Count - i - 1)),
        new("first", JinjaValue.Bool(i == 0)), new("last", JinjaValue.Bool(i == items.Count - 1)),
        new("length", new IntegerValue(items.Count)),
        new("previtem", i > 0 ? items[i - 1] : JinjaValue.Undefined),
        new("nextitem", i < items.Count - 1 ? items[i + 1] : JinjaValue.Undefined),
    ]);

    private static void BindLoopVariable(Node loopVar, Environment target, JinjaValue current)
    {
        switch (loopVar)
        {
            case IdentifierNode id:
                target.Set(id.Name, current);
                break;
            case TupleLiteralNode tuple:
                Unpack(target, tuple, current, "");
                break;
        }
    }

    /// <summary>Assigns an array's items to a tuple of names (`set a, b = …`, `for k, v in …`); <paramref name="where"/> ends the error messages.</summary>
    private static void Unpack(Environment target, TupleLiteralNode tuple, JinjaValue value, string where)
    {
        if (value is not ArrayValue arr) throw new JinjaException($"Cannot unpack non-iterable type{where}");
        if (arr.Items.Count != tuple.Items.Count)
            throw new JinjaException($"Too {(tuple.Items.Count > arr.Items.Count ? "few" : "many")} items to unpack{where}");
        for (var i = 0; i < tuple.Items.Count; i++)
            target.Set((tuple.Items[i] as IdentifierNode ?? throw new JinjaException($"Cannot unpack to non-identifier{where}")).Name, arr.Items[i]);
    }

    private JinjaValue EvaluateMacro(MacroNode node, Environment env)
    {
        env.Set(node.Name.Name, new FunctionValue((args, callerEnv) =>
        {
            var scope = new Environment(callerEnv);
            BindArguments(node.Args, args, scope);
            return new StringValue(EvaluateBlock(node.Body, scope));
        }));
        return JinjaValue.Null;
    }

    /// <summary>
    /// {% call(params) macro(args) %}body{% endcall %}: calls the macro with <c>caller</c> bound to a function that
    /// renders the body (with params bound to what the macro passes it).
    /// </summary>
    private JinjaValue EvaluateCallBlock(CallBlockNode node, Environment env)
    {
        var caller = new FunctionValue((args, _) =>
        {
            var scope = new Environment(env);
            BindArguments(node.CallerArgs, args, scope);
            return new StringValue(EvaluateBlock(node.Body, scope));
        });
        var (args, kwargs) = EvaluateArguments(node.Call.Args, env);
        args.Add(new KeywordArgumentsValue(kwargs));
        var callee = Evaluate(node.Call.Callee, env);
        if (callee is not FunctionValue macro) throw new JinjaException($"Cannot call something that is not a function: got {Describe(callee)}");
        var withCaller = new Environment(env);
        withCaller.Set("caller", caller);
        return macro.Call(args, withCaller);
    }

    /// <summary>Binds a macro's (or call block's) declared parameters: positional, then keyword, then defaults evaluated in the new scope.</summary>
    private void BindArguments(List<Node> parameters, List<JinjaValue> args, Environment scope)
    {
        var positional = args.ToList();
        var kwargs = new Dictionary<string, JinjaValue>();
        if (positional.Count > 0 && positional[^1] is KeywordArgumentsValue k)
        {
            foreach (var (key, v) in k.Entries) kwargs[key] = v;
            positional.RemoveAt(positional.Count - 1);
        }
        var pending = new List<(string, Node)>();
        for (var i = 0; i < parameters.Count; i++)
        {
            var (name, defaultValue) = parameters[i] switch
            {
                IdentifierNode id => (id.Name, (Node?)null),
                KeywordArgumentNode kw => (kw.Key.Name, kw.Value),
                _ => throw new JinjaException("Expected identifier for parameter declaration"),
            };
            JinjaValue? value = i < positional.Count ? positional[i] : null;
            if (value is null && kwargs.Remove(name, out var kv)) value = kv;
            if (value is null && defaultValue is not null) pending.Add((name, defaultValue));
            scope.Set(name, value ?? JinjaValue.Undefined);
        }
        foreach (var (name, defaultValue) in pending) scope.Set(name, Evaluate(defaultValue, scope));
    }

    private (List<JinjaValue> Positional, List<KeyValuePair<string, JinjaValue>> Keyword) EvaluateArguments(List<Node> args, Environment env)
    {
        var positional = new List<JinjaValue>();
        var keyword = new List<KeyValuePair<string, JinjaValue>>();
        foreach (var a in args)
        {
            if (a is SpreadNode spread)
            {
                if (Evaluate(spread.Argument, env) is not ArrayValue arr) throw new JinjaException("Cannot unpack non-iterable type");
                positional.AddRange(arr.Items);
            }
            else if (a is not (KeywordArgumentNode or KeywordSpreadNode)) positional.Add(Evaluate(a, env));
        }
        foreach (var a in args)
        {
            if (a is KeywordArgumentNode kw)
            {
                if (keyword.Any(k => k.Key == kw.Key.Name)) throw new JinjaException($"Got multiple values for keyword argument '{kw.Key.Name}'");
                keyword.Add(new(kw.Key.Name, Evaluate(kw.Value, env)));
            }
            else if (a is KeywordSpreadNode ks)
            {
                if (Evaluate(ks.Argument, env) is not ObjectValue o) throw new JinjaException("Argument after ** must be a mapping");
                keyword.AddRange(o.Entries);
            }
        }
        return (positional, keyword);
    }

    private JinjaValue EvaluateCall(CallNode node, Environment env)
    {
        var (args, kwargs) = EvaluateArguments(node.Args, env);
        if (kwargs.Count > 0) args.Add(new KeywordArgumentsValue(kwargs));
        var fn = Evaluate(node.Callee, env);
        if (fn is not FunctionValue f) throw new JinjaException($"Cannot call something that is not a function: got {Describe(fn)}");
        return f.Call(args, env);
    }

    private static string Describe(JinjaValue v) => v.GetType().Name;

    private JinjaValue EvaluateMember(MemberNode node, Environment env)
    {
        var obj = Evaluate(node.Object, env);
        JinjaValue property;
        if (node.Computed)
        {
            if (node.Property is SliceNode slice) return EvaluateSlice(obj, slice, env);
            property = Evaluate(node.Property, env);
        }
        else property = node.Property is IntegerLiteralNode lit ? new IntegerValue(lit.Value) : new StringValue(((IdentifierNode)node.Property).Name);

        JinjaValue? value;
        switch (obj)
        {
            case ObjectValue o:
                if (property is not StringValue key) throw new JinjaException($"Cannot access property with non-string: got {Describe(property)}");
                value = o.TryGet(key.Value, out var found) ? found : (o is NamespaceValue ? null : Builtins.Object(o, key.Value));
                break;
            case ArrayValue or StringValue:
                if (property is IntegerValue index)
                {
                    if (obj is StringValue s)
                    {
                        var at = index.Value < 0 ? s.Value.Length + index.Value : index.Value;
                        value = at >= 0 && at < s.Value.Length ? new StringValue(s.Value[(int)at].ToString()) : null;
                    }
                    else
                    {
                        var items = ((ArrayValue)obj).Items;
                        var at = index.Value < 0 ? items.Count + index.Value : index.Value;
                        value = at >= 0 && at < items.Count ? items[(int)at] : null;
                    }
                }
                else if (property is StringValue name)
                    value = obj is StringValue s ? Builtins.String(s, name.Value) : Builtins.Array((ArrayValue)obj, name.Value);
                else throw new JinjaException($"Cannot access property with non-string/non-number: got {Describe(property)}");
                break;
            default:
                if (property is not StringValue) throw new JinjaException($"Cannot access property with non-string: got {Describe(property)}");
                value = null;
                break;
        }
        return value ?? JinjaValue.Undefined;
    }

    private JinjaValue EvaluateSlice(JinjaValue obj, SliceNode node, Environment env)
    {
        long? Index(Node? n, string what)
        {
            var v = Evaluate(n, env);
            return v switch
            {
                IntegerValue i => i.Value,
                UndefinedValue => null,
                _ => throw new JinjaException($"Slice {what} must be numeric or undefined"),
            };
        }
        var start = Index(node.Start, "start");
        var stop = Index(node.Stop, "stop");
        var step = Index(node.Step, "step") ?? 1;
        switch (obj)
        {
            case ArrayValue a:
                return new ArrayValue(Slice(a.Items, start, stop, step));
            case StringValue s:
                var codePoints = new List<string>();
                for (var i = 0; i < s.Value.Length; i += char.IsSurrogatePair(s.Value, i) ? 2 : 1)
                    codePoints.Add(s.Value.Substring(i, char.IsSurrogatePair(s.Value, i) ? 2 : 1));
                return new StringValue(string.Concat(Slice(codePoints, start, stop, step)));
            default:
                throw new JinjaException("Slice object must be an array or string");
        }
    }

    private static List<T> Slice<T>(List<T> array, long? start, long? stop, long step)
    {
        if (step == 0) throw new JinjaException("slice step cannot be zero");
        long n = array.Count;
        long s, e;
        if (step > 0)
        {
            s = start is null ? 0 : start < 0 ? Math.Max(n + start.Value, 0) : Math.Min(start.Value, n);
            e = stop is null ? n : stop < 0 ? Math.Max(n + stop.Value, 0) : Math.Min(stop.Value, n);
        }
        else
        {
            s = start is null ? n - 1 : start < 0 ? Math.Max(n + start.Value, -1) : Math.Min(start.Value, n - 1);
            e = stop is null ? -1 : stop < -1 ? Math.Max(n + stop.Value, -1) : Math.Min(stop.Value, n - 1);
        }
        var result = new List<T>();
        var dir = Math.Sign(step);
        for (var i = s; dir * i < dir * e; i += step) result.Add(array[(int)i]);
        return result;
    }

    private JinjaValue EvaluateUnary(UnaryNode node, Environment env)
    {
        var arg = Evaluate(node.Argument, env);
        switch (node.Operator)
        {
            case "not":
                return JinjaValue.Bool(!arg.IsTruthy);
            case "+" or "-":
                var sign = node.Operator == "-" ? -1 : 1;
                return arg switch
                {
                    IntegerValue i => new IntegerValue(sign * i.Value),
                    FloatValue f => new FloatValue(sign * f.Value),
                    BooleanValue b => new IntegerValue(sign * (b.Value ? 1 : 0)),
                    _ => throw new JinjaException($"Unknown operator \"{node.Operator}\" for {Describe(arg)}"),
                };
            default:
                throw new JinjaException($"Unknown operator: {node.Operator}");
        }
    }

    private JinjaValue EvaluateBinary(BinaryNode node, Environment env)
    {
        var left = Evaluate(node.Left, env);
        if (node.Operator == "and") return left.IsTruthy ? Evaluate(node.Right, env) : left;
        if (node.Operator == "or") return left.IsTruthy ? left : Evaluate(node.Right, env);
        var right = Evaluate(node.Right, env);
        switch (node.Operator)
        {
            case "==": return JinjaValue.Bool(LooseEquals(left, right));
            case "!=": return JinjaValue.Bool(!LooseEquals(left, right));
        }
        if (left is UndefinedValue || right is UndefinedValue)
        {
            if (right is UndefinedValue && node.Operator is "in" or "not in") return JinjaValue.Bool(node.Operator == "not in");
            throw new JinjaException($"Cannot perform operation {node.Operator} on undefined values");
        }
        if (left is NullValue || right is NullValue) throw new JinjaException("Cannot perform operation on null values");
        if (node.Operator == "~") return new StringValue(left.RawString + right.RawString);

        if (IsNumber(left) && IsNumber(right) && node.Operator != "**")
        {
            var result = left is FloatValue || right is FloatValue
                ? FloatOperation(node.Operator, ToDouble(left), ToDouble(right))
                : IntegerOperation(node.Operator, ((IntegerValue)left).Value, ((IntegerValue)right).Value);
            if (result is not null) return result;
        }
        if (node.Operator == "**" && (IsNumber(left) || left is BooleanValue) && (IsNumber(right) || right is BooleanValue))
        {
            var a = ToDouble(left);
            var b = ToDouble(right);
            var result = Math.Pow(a, b);
            if (!double.IsFinite(result)) throw new JinjaException("Exponentiation result is not a finite real number");
            return left is FloatValue || right is FloatValue || b < 0 ? new FloatValue(result) : new IntegerValue((long)result);
        }
        if (left is ArrayValue la && right is ArrayValue ra && node.Operator == "+")
            return new ArrayValue([.. la.Items, .. ra.Items]);
        if (right is ArrayValue rarr && node.Operator is "in" or "not in")
        {
            var member = rarr.Items.Any(x => StrictEquals(x, left));
            return JinjaValue.Bool(node.Operator == "in" ? member : !member);
        }
        if ((left is StringValue || right is StringValue) && node.Operator == "+")
            return new StringValue(left.RawString + right.RawString);
        if (left is StringValue ls && right is StringValue rs && node.Operator is "in" or "not in")
            return JinjaValue.Bool(rs.Value.Contains(ls.Value, StringComparison.Ordinal) == (node.Operator == "in"));
        if (left is StringValue key && right is ObjectValue obj && node.Operator is "in" or "not in")
            return JinjaValue.Bool(obj.Has(key.Value) == (node.Operator == "in"));
        throw new JinjaException($"Unknown operator \"{node.Operator}\" between {Describe(left)} and {Describe(right)}");
    }

    /// <summary>An arithmetic or comparison operator on two integers; null where the operator is not one of those.</summary>
    private static JinjaValue? IntegerOperation(string op, long a, long b) => op switch
    {
        "+" => new IntegerValue(a + b),
        "-" => new IntegerValue(a - b),
        "*" => new IntegerValue(a * b),
        "/" => new FloatValue((double)a / b),
        "//" => b == 0 ? new FloatValue(Math.Floor((double)a / b)) : new IntegerValue((long)Math.Floor((double)a / b)),
        "%" => b == 0 ? new FloatValue(double.NaN) : new IntegerValue(a % b),
        "<" => JinjaValue.Bool(a < b),
        ">" => JinjaValue.Bool(a > b),
        ">=" => JinjaValue.Bool(a >= b),
        "<=" => JinjaValue.Bool(a <= b),
        _ => null,
    };

    /// <summary>An arithmetic or comparison operator where either side is a float; null where the operator is not one of those.</summary>
    private static JinjaValue? FloatOperation(string op, double a, double b) => op switch
    {
        "+" => new FloatValue(a + b),
        "-" => new FloatValue(a - b),
        "*" => new FloatValue(a * b),
        "/" => new FloatValue(a / b),
        "//" => new FloatValue(Math.Floor(a / b)),
        "%" => new FloatValue(a % b),
        "<" => JinjaValue.Bool(a < b),
        ">" => JinjaValue.Bool(a > b),
        ">=" => JinjaValue.Bool(a >= b),
        "<=" => JinjaValue.Bool(a <= b),
        _ => null,
    };

    private static bool IsNumber(JinjaValue v) => v is IntegerValue or FloatValue;

    private static double ToDouble(JinjaValue v) => v switch
    {
        IntegerValue i => i.Value,
        FloatValue f => f.Value,
        BooleanValue b => b.Value ? 1 : 0,
        _ => double.NaN,
    };

    /// <summary>JavaScript === on the underlying values (numbers by value, strings by content, objects by identity).</summary>
    private static bool StrictEquals(JinjaValue a, JinjaValue b) => (a, b) switch
    {
        (StringValue x, StringValue y) => x.Value == y.Value,
        (IntegerValue or FloatValue, IntegerValue or FloatValue) => ToDouble(a) == ToDouble(b),
        (BooleanValue x, BooleanValue y) => x.Value == y.Value,
        (NullValue, NullValue) or (UndefinedValue, UndefinedValue) => true,
        _ => ReferenceEquals(a, b),
    };

    /// <summary>JavaScript == on the underlying values.</summary>
    private static bool LooseEquals(JinjaValue a, JinjaValue b)
    {
        if (a is NullValue or UndefinedValue || b is NullValue or UndefinedValue)
            return a is NullValue or UndefinedValue && b is NullValue or UndefinedValue;
        if (a is StringValue sa && b is StringValue sb) return sa.Value == sb.Value;
        if (a is StringValue or IntegerValue or FloatValue or BooleanValue && b is StringValue or IntegerValue or FloatValue or BooleanValue)
            return ToNumber(a) == ToNumber(b);
        return ReferenceEquals(a, b);
    }

    private static double ToNumber(JinjaValue v)
    {
        if (v is not StringValue s) return ToDouble(v);
        var t = Tokenizers.JsText.Trim(s.Value);
        if (t.Length == 0) return 0;
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }

    private JinjaValue ApplyFilter(JinjaValue operand, Node filterNode, Environment env) => filterNode switch
    {
        IdentifierNode id => Filters.Apply(operand, id.Name),
        CallNode { Callee: IdentifierNode name } call => Filters.ApplyCall(operand, name.Name, EvaluateArguments(call.Args, env)),
        _ => throw new JinjaException("Unknown filter"),
    };
}
