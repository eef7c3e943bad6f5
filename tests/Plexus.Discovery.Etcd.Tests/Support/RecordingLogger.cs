using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Plexus.Discovery.Etcd.Tests.Support;

/// <summary>Keeps every log entry with its event id, so that tests can check what was reported and how often.</summary>
internal sealed class RecordingLogger : ILogger<EtcdDiscoveryProvider>
{
    public ConcurrentQueue<(int EventId, LogLevel Level, string Message, DateTime At)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        Entries.Enqueue((eventId.Id, logLevel, formatter(state, exception), DateTime.UtcNow));
    }

    /// <summary>Adds a line of the test's own, to read failures in order.</summary>
    public void Note(string what) => Entries.Enqueue((0, LogLevel.None, what, DateTime.UtcNow));

    /// <summary>How many entries carry <paramref name="eventId"/>.</summary>
    public int Count(int eventId) => Entries.Count(e => e.EventId == eventId);

    /// <summary>The messages of the entries with <paramref name="eventId"/>.</summary>
    public IReadOnlyList<string> Messages(int eventId) => [.. Entries.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public override string ToString() => string.Join('\n', Entries.Select(e => $"{e.At:HH:mm:ss.fff} [{e.EventId}] {e.Level}: {e.Message}"));
}
