using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Plexus.Hosting.Logging;

/// <summary>
/// Holds what plugin loading logged while the application's services were still being added (there is no logger
/// yet), and writes it through the application's own logging when the host starts, with the same levels, event ids
/// and category.
/// </summary>
internal sealed class StartupLogBuffer : ILogger, IHostedLifecycleService
{
    private readonly List<(LogLevel Level, EventId Id, string Message, Exception? Exception)> _entries = [];
    private readonly string _category;
    private ILoggerFactory? _loggers;

    public StartupLogBuffer(string category)
    {
        _category = category;
    }

    /// <summary>Where the entries go once the host starts.</summary>
    public ILoggerFactory? Target
    {
        set => _loggers = value;
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, formatter(state, exception), exception));
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (_loggers is null)
        {
            return Task.CompletedTask;
        }

        var logger = _loggers.CreateLogger(_category);
        lock (_entries)
        {
            foreach (var (level, id, message, exception) in _entries)
            {
                // Formatted when it was logged; a template here would read braces in the message as holes.
                logger.Log(level, id, exception, "{Message}", message);
            }

            _entries.Clear();
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
