using Microsoft.Extensions.Logging;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>Keeps what was logged, to check that optional failures are reported; also its own provider.</summary>
internal sealed class ListLogger : ILogger, ILoggerProvider
{
    private readonly Lock gate = new();
    private readonly List<(LogLevel Level, string Message, int Id)> entries = [];

    public IReadOnlyList<(LogLevel Level, string Message, int Id)> Entries
    {
        get
        {
            lock (gate)
            {
                return entries.ToArray();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (gate)
        {
            entries.Add((logLevel, formatter(state, exception), eventId.Id));
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
