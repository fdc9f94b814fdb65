namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// Splits text around occurrences of added tokens: scanning left to right, at each position the longest token that
/// starts there wins (a trie walk), as the reference's DictionarySplitter does. A single_word token only matches when
/// the characters around it are not word characters.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private sealed class Node
    {
        public readonly Dictionary<char, Node> Children = [];
        public AddedToken? Token;
    }

    private readonly Node _root = new();
    public bool IsEmpty { get; }

    public AddedTokenSplitter(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        var any = false;
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0) continue;
            var node = _root;
            foreach (var c in pattern)
            {
                if (!node.Children.TryGetValue(c, out var child)) node.Children[c] = child = new Node();
                node = child;
            }
            node.Token = token;
            any = true;
        }
        IsEmpty = !any;
    }

    /// <summary>Pieces in order: text between tokens (Token = null) and matched tokens.</summary>
    public List<(AlignedString Text, AddedToken? Token)> Split(AlignedString text)
    {
        var result = new List<(AlignedString, AddedToken?)>();
        if (IsEmpty)
        {
            if (text.Length > 0) result.Add((text, null));
            return result;
        }
        var s = text.Text;
        int start = 0, i = 0;
        while (i < s.Length)
        {
            var node = _root;
            AddedToken? match = null;
            var matchEnd = 0;
            for (var j = i; j < s.Length && node.Children.TryGetValue(s[j], out node); j++)
            {
                if (node.Token is { } t && (!t.SingleWord || IsWordBoundary(s, i, j + 1)))
                {
                    match = t;
                    matchEnd = j + 1;
                }
            }
            if (match is null)
            {
                i++;
                continue;
            }
            if (i > start) result.Add((text.Slice(start, i), null));
            result.Add((text.Slice(i, matchEnd), match));
            i = start = matchEnd;
        }
        if (start < s.Length) result.Add((text.Slice(start, s.Length), null));
        return result;
    }

    private static bool IsWordBoundary(string s, int from, int to) =>
        (from == 0 || !IsWordChar(s[from - 1])) && (to >= s.Length || !IsWordChar(s[to]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
