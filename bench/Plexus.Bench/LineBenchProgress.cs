namespace Plexus.Bench;

/// <summary>One line per measurement start and end: for logs, pipes and CI.</summary>
internal sealed class LineBenchProgress(TextWriter output) : IBenchProgress
{
    public async ValueTask StartedAsync(string measurement) => await output.WriteLineAsync($"bench: {measurement} ...");

    public async ValueTask FinishedAsync(string measurement, string result) => await output.WriteLineAsync($"bench: {measurement}: {result}");
}
