using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Plexus;

/// <summary>
/// Reads durations as Plexus writes them everywhere, in configuration and on the command line: a number with a unit
/// (<c>500ms</c>, <c>10s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>) or the standard <c>[d.]hh:mm:ss[.fffffff]</c>
/// (<c>00:00:10</c>). A bare number is refused, except <c>0</c>: <see cref="TimeSpan"/> alone would read <c>5</c> as five
/// days, which is never what anyone meant. Negative durations are refused too.
/// </summary>
public static class PlexusDuration
{
    /// <summary>The accepted forms, as error messages name them.</summary>
    public const string Formats = "a number with a unit (500ms, 10s, 2m, 1h) or hh:mm:ss (00:00:10)";

    /// <summary>Reads a duration.</summary>
    /// <param name="text">The text, such as <c>500ms</c> or <c>00:00:10</c>; surrounding white space is ignored.</param>
    /// <param name="value">The duration, when the text is one.</param>
    /// <param name="error">
    /// When the text is not a duration: one sentence that quotes it, says what is wrong and which forms are accepted.
    /// </param>
    /// <returns>Whether <paramref name="text"/> is a duration.</returns>
    public static bool TryParse(string? text, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        var trimmed = text?.Trim() ?? string.Empty;
        if (trimmed.Length == 0)
        {
            error = $"'{text}' is empty; write {Formats}.";
            return false;
        }

        if (trimmed[0] == '-')
        {
            error = $"'{text}' is negative; write zero or more: {Formats}.";
            return false;
        }

        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero)
            {
                error = null;
                return true;
            }

            error = $"'{text}' is not a duration; write {Formats}.";
            return false;
        }

        var (number, unit) = Split(trimmed);
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || number.Length == 0)
        {
            error = $"'{text}' is not a duration; write {Formats}.";
            return false;
        }

        if (unit.Length == 0)
        {
            if (amount == 0)
            {
                // Zero is zero in every unit.
                error = null;
                return true;
            }

            error = $"'{text}' has no unit; write {Formats}, such as {number}s.";
            return false;
        }

        var milliseconds = unit switch
        {
            "ms" => amount,
            "s" => amount * 1_000,
            "m" => amount * 60_000,
            "h" => amount * 3_600_000,
            _ => double.NaN,
        };

        if (double.IsNaN(milliseconds))
        {
            error = $"'{text}' has an unknown unit '{unit}'; write {Formats}.";
            return false;
        }

        if (milliseconds >= TimeSpan.MaxValue.TotalMilliseconds)
        {
            error = $"'{text}' is longer than any duration can be; write {Formats}.";
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond));
        error = null;
        return true;
    }

    /// <summary>Reads a duration, or throws.</summary>
    /// <param name="text">The text, such as <c>500ms</c> or <c>00:00:10</c>.</param>
    /// <returns>The duration.</returns>
    /// <exception cref="FormatException">The text is not a duration; the message quotes it and names the accepted forms.</exception>
    public static TimeSpan Parse(string? text) =>
        TryParse(text, out var value, out var error) ? value : throw new FormatException(error);

    private static (string Number, string Unit) Split(string text)
    {
        var end = text.Length;
        while (end > 0 && char.IsAsciiLetter(text[end - 1]))
        {
            end--;
        }

        return (text[..end].TrimEnd(), text[end..]);
    }
}
