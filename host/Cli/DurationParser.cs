using System.Globalization;

namespace Plexus.Host.Cli;

/// <summary>Reads durations written as <c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c> or <c>00:00:10</c>.</summary>
internal static class DurationParser
{
    public static TimeSpan Parse(string option, string text)
    {
        static bool Number(string s, out double value) =>
            double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value >= 0;

        TimeSpan? result = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) && Number(text[..^2], out var ms) => TimeSpan.FromMilliseconds(ms),
            _ when text.EndsWith('s') && Number(text[..^1], out var s) => TimeSpan.FromSeconds(s),
            _ when text.EndsWith('m') && Number(text[..^1], out var m) => TimeSpan.FromMinutes(m),
            _ when text.EndsWith('h') && Number(text[..^1], out var h) => TimeSpan.FromHours(h),
            _ when TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero => span,
            _ => null,
        };

        return result ?? throw new UsageException($"--{option} is '{text}'; write a duration such as 500ms, 10s, 2m or 00:00:10.");
    }
}
