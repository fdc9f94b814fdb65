namespace FineTune.Data;

/// <summary>One turn of a conversation. <see cref="Role"/> is one of <see cref="Roles"/>.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>
/// The canonical dataset record: every import format normalises to this. Stored as one JSON line
/// <c>{"messages":[{"role":"user","content":"…"},…]}</c> (see <see cref="CanonicalJson"/>).
/// </summary>
public sealed record Conversation(IReadOnlyList<ChatTurn> Messages)
{
    public static Conversation Of(params ChatTurn[] turns) => new(turns);

    /// <summary>Sum of the content lengths in UTF-16 chars.</summary>
    public long Chars => Messages.Sum(m => (long)m.Content.Length);

    public bool Equals(Conversation? other) =>
        other is not null && Messages.SequenceEqual(other.Messages);

    public override int GetHashCode() => Messages.Aggregate(0, (h, m) => HashCode.Combine(h, m));
}

public static class Roles
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";

    public static bool IsKnown(string role) => role is System or User or Assistant;
}
