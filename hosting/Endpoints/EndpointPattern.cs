namespace Plexus.Hosting.Endpoints;

/// <summary>
/// An endpoint address in which a segment may hold <c>*</c> for any run of characters within that segment:
/// <c>demo/echo/*</c>, <c>*/echo/echo</c>, <c>demo/*/gen*</c>. Matching is ordinal, like addresses.
/// </summary>
internal sealed class EndpointPattern
{
    private readonly string[] _segments;

    private EndpointPattern(string text, string[] segments)
    {
        Text = text;
        _segments = segments;
    }

    /// <summary>The pattern as written.</summary>
    public string Text { get; }

    /// <summary>Whether the pattern holds a <c>*</c>; one without is a plain address.</summary>
    public bool HasWildcard => Text.Contains('*', StringComparison.Ordinal);

    /// <summary>Parses a pattern.</summary>
    /// <param name="text">The pattern.</param>
    /// <param name="pattern">The pattern, when valid.</param>
    /// <returns>Whether <paramref name="text"/> is three segments of allowed characters or <c>*</c>.</returns>
    public static bool TryParse(string? text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EndpointPattern? pattern)
    {
        pattern = null;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var segments = text.Split('/');
        if (segments.Length != 3)
        {
            return false;
        }

        foreach (var segment in segments)
        {
            // A segment is valid when it is one once its wildcards are replaced by an allowed character.
            if (!EndpointAddress.TryParse($"a/a/{segment.Replace('*', 'a')}", out _))
            {
                return false;
            }
        }

        pattern = new EndpointPattern(text, segments);
        return true;
    }

    /// <summary>Whether <paramref name="address"/> matches.</summary>
    /// <param name="address">The address.</param>
    /// <returns>True when every segment matches.</returns>
    public bool Matches(EndpointAddress address) =>
        Glob(_segments[0], address.Namespace) && Glob(_segments[1], address.Component) && Glob(_segments[2], address.Endpoint);

    public override string ToString() => Text;

    private static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        // Greedy match with backtracking to the last '*': linear enough for 64-character segments.
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
