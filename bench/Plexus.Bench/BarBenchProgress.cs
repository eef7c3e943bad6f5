using Spectre.Console;

namespace Plexus.Bench;

/// <summary>A progress bar on a terminal: the measurement running now, and how many of the run's are done.</summary>
internal sealed class BarBenchProgress(ProgressTask task) : IBenchProgress
{
    public ValueTask StartedAsync(string measurement)
    {
        task.Description = Markup.Escape(measurement);
        return ValueTask.CompletedTask;
    }

    public ValueTask FinishedAsync(string measurement, string result)
    {
        task.Description = Markup.Escape($"{measurement}: {result}");
        task.Increment(1);
        return ValueTask.CompletedTask;
    }
}
