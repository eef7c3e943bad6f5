using System.Diagnostics;

namespace Plexus.Faults.Tests.Support;

/// <summary>
/// When each node served, as intervals on <see cref="Stopwatch.GetTimestamp"/>'s clock: from the end of its start
/// (summary line written, instances registered) to its kill. A soak asks it whether some node was up the whole time a
/// call ran.
/// </summary>
public sealed class NodeUptime
{
    private readonly Dictionary<string, List<(long From, long To)>> _intervals = [];
    private readonly Dictionary<string, long> _upSince = [];

    public void Up(string node)
    {
        lock (_intervals)
        {
            _upSince[node] = Stopwatch.GetTimestamp();
        }
    }

    public void Down(string node)
    {
        lock (_intervals)
        {
            if (_upSince.Remove(node, out var since))
            {
                (_intervals.TryGetValue(node, out var list) ? list : _intervals[node] = []).Add((since, Stopwatch.GetTimestamp()));
            }
        }
    }

    /// <summary>
    /// A node that was up from <paramref name="grace"/> before <paramref name="from"/> to <paramref name="to"/>, or
    /// null: the grace lets the client's watch learn of a node that has just (re)started.
    /// </summary>
    public string? UpThroughout(long from, long to, TimeSpan grace)
    {
        var start = from - (long)(grace.TotalSeconds * Stopwatch.Frequency);
        lock (_intervals)
        {
            foreach (var (node, since) in _upSince)
            {
                if (since <= start)
                {
                    return node;
                }
            }

            foreach (var (node, list) in _intervals)
            {
                if (list.Any(i => i.From <= start && i.To >= to))
                {
                    return node;
                }
            }
        }

        return null;
    }
}
