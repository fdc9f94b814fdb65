namespace FineTune.Models.Core.ChatTemplates.Jinja;

/// <summary>A variable scope; lookups walk up to the parent; an unknown name is undefined.</summary>
internal sealed class Environment(Environment? parent)
{
    private readonly Dictionary<string, JinjaValue> _variables = new(StringComparer.Ordinal);

    public void Set(string name, JinjaValue value) => _variables[name] = value;

    public JinjaValue Lookup(string name)
    {
        for (var env = this; env is not null; env = env.Parent)
            if (env._variables.TryGetValue(name, out var v)) return v;
        return JinjaValue.Undefined;
    }

    public Environment? Parent { get; } = parent;
}
