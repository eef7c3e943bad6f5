namespace Plexus.Bench;

/// <summary>Where a run reports each measurement as it starts and ends.</summary>
internal interface IBenchProgress
{
    ValueTask StartedAsync(string measurement);

    ValueTask FinishedAsync(string measurement, string result);
}
