using System.Diagnostics.CodeAnalysis;

namespace Plexus;

/// <summary>
/// The name of an endpoint: <c>namespace/component/endpoint</c>. Each segment is 1 to 64 characters
/// drawn from ASCII letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.
/// </summary>
public readonly record struct EndpointAddress
{
    private const int MaxSegmentLength = 64;

    /// <summary>Creates an address from its three segments.</summary>
    /// <param name="namespace">The namespace segment.</param>
    /// <param name="component">The component segment.</param>
    /// <param name="endpoint">The endpoint segment.</param>
    /// <exception cref="ArgumentException">A segment is empty, too long or has a character outside the allowed set.</exception>
    public EndpointAddress(string @namespace, string component, string endpoint)
    {
        Validate(@namespace, nameof(@namespace));
        Validate(component, nameof(component));
        Validate(endpoint, nameof(endpoint));
        Namespace = @namespace;
        Component = component;
        Endpoint = endpoint;
    }

    /// <summary>The namespace segment.</summary>
    public string Namespace { get; }

    /// <summary>The component segment.</summary>
    public string Component { get; }

    /// <summary>The endpoint segment.</summary>
    public string Endpoint { get; }

    /// <summary>Parses <c>namespace/component/endpoint</c>.</summary>
    /// <param name="text">The text to parse.</param>
    /// <returns>The address.</returns>
    /// <exception cref="FormatException">The text is not three valid segments separated by <c>/</c>.</exception>
    public static EndpointAddress Parse(string text)
    {
        if (TryParse(text, out var address, out var error))
        {
            return address;
        }

        throw new FormatException(error);
    }

    /// <summary>Tries to parse <c>namespace/component/endpoint</c>.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="address">The address when the text is valid.</param>
    /// <returns><see langword="true"/> when the text is a valid address.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out EndpointAddress address) =>
        TryParse(text, out address, out _);

    private static bool TryParse(string? text, out EndpointAddress address, out string error)
    {
        address = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "An endpoint address is required: write it as 'namespace/component/endpoint'.";
            return false;
        }

        var parts = text.Split('/');
        if (parts.Length != 3)
        {
            error = $"'{text}' is not an endpoint address: write it as 'namespace/component/endpoint' (three segments separated by '/').";
            return false;
        }

        foreach (var part in parts)
        {
            var problem = Check(part);
            if (problem is not null)
            {
                error = $"'{text}' is not an endpoint address: {problem}";
                return false;
            }
        }

        address = new EndpointAddress(parts[0], parts[1], parts[2]);
        error = string.Empty;
        return true;
    }

    private static void Validate(string segment, string name)
    {
        var problem = Check(segment);
        if (problem is not null)
        {
            throw new ArgumentException(problem, name);
        }
    }

    private static string? Check(string? segment)
    {
        if (string.IsNullOrEmpty(segment))
        {
            return "a segment is empty; each of namespace, component and endpoint needs at least one character.";
        }

        if (segment.Length > MaxSegmentLength)
        {
            return $"segment '{segment}' is longer than {MaxSegmentLength} characters.";
        }

        foreach (var c in segment)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return $"segment '{segment}' contains '{c}'; use ASCII letters, digits, '-', '_' or '.'.";
            }
        }

        return null;
    }

    /// <summary>Returns <c>namespace/component/endpoint</c>.</summary>
    /// <returns>The address as text.</returns>
    public override string ToString() => $"{Namespace}/{Component}/{Endpoint}";
}
