namespace Plexus.Host.PluginLoading.Tests;

/// <summary>Checks the shape every failure report has: one line naming the plugin, the cause and the fix.</summary>
internal static class FailureLine
{
    public static void Assert(string? line, string plugin, params string[] causeParts)
    {
        Xunit.Assert.NotNull(line);
        Xunit.Assert.DoesNotContain('\n', line);
        Xunit.Assert.DoesNotContain('\r', line);
        Xunit.Assert.StartsWith($"Plugin '{plugin}'", line, StringComparison.Ordinal);
        int fix = line.IndexOf(". Fix: ", StringComparison.Ordinal);
        Xunit.Assert.True(fix > 0, $"no fix in: {line}");
        Xunit.Assert.True(line.Length > fix + ". Fix: ".Length + 5, $"empty fix in: {line}");
        string cause = line[..fix];
        foreach (string part in causeParts)
        {
            Xunit.Assert.Contains(part, cause, StringComparison.Ordinal);
        }
    }
}
