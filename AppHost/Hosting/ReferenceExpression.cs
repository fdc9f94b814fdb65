// Our own AppHost engine, following .NET Aspire's conventions: a string made of literal text and values that are
// known only later (ports, generated secrets). In publish mode it is written as a manifest expression
// ("{redis.bindings.tcp.host}:{redis.bindings.tcp.port}"); in run mode it is evaluated against the runner's values.

using System.Runtime.CompilerServices;
using System.Text;

namespace FineTune.AppHost.Hosting;

/// <summary>A value whose manifest form is an expression and whose run-mode form the runner computes.</summary>
public interface IValueProvider
{
    /// <summary>The manifest form, e.g. "{redis-password.value}".</summary>
    string ValueExpression { get; }

    /// <summary>The value in run mode (ports are allocated and parameters resolved before anything starts).</summary>
    string GetValue(RunValues values);
}

public sealed class ReferenceExpression : IValueProvider
{
    private readonly IReadOnlyList<object> _parts; // string (literal) or IValueProvider

    private ReferenceExpression(IReadOnlyList<object> parts) => _parts = parts;

    public static ReferenceExpression Create(in ExpressionInterpolatedStringHandler handler) => new(handler.Parts);

    public static ReferenceExpression Literal(string text) => new([text]);

    public static ReferenceExpression Of(IValueProvider value) => value as ReferenceExpression ?? new([value]);

    /// <summary>The values this expression refers to (for dependency and secret analysis).</summary>
    public IEnumerable<IValueProvider> References => _parts.OfType<IValueProvider>();

    public string ValueExpression => Join(p => p is IValueProvider v ? v.ValueExpression : (string)p);

    public string GetValue(RunValues values) => Join(p => p is IValueProvider v ? v.GetValue(values) : (string)p);

    private string Join(Func<object, string> render)
    {
        var sb = new StringBuilder();
        foreach (var part in _parts)
            sb.Append(render(part));
        return sb.ToString();
    }

    public override string ToString() => ValueExpression;

    [InterpolatedStringHandler]
    public readonly struct ExpressionInterpolatedStringHandler
    {
        public ExpressionInterpolatedStringHandler(int literalLength, int formattedCount) => Parts = new List<object>(formattedCount * 2 + 1);

        internal List<object> Parts { get; }

        public void AppendLiteral(string value) => Parts.Add(value);

        public void AppendFormatted(string? value) => Parts.Add(value ?? "");

        public void AppendFormatted(int value) => Parts.Add(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

        public void AppendFormatted(IValueProvider value) => Parts.Add(value);

        public void AppendFormatted<T>(IResourceBuilder<T> builder) where T : IValueProvider, IResource => Parts.Add(builder.Resource);
    }
}
