using System.Diagnostics;

namespace Plexus.Hosting.Telemetry;

/// <summary>
/// The metrics and span of one request on one side, ended exactly once however the request ends. One object per
/// request; nothing per message beyond adding to counters.
/// </summary>
internal sealed class CallTelemetry
{
    private readonly RequestPlaneMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly long _started;
    private readonly bool _server;
    private readonly TagList _tags;
    private bool _sawFirst;
    private int _ended;

    public CallTelemetry(RequestPlaneMetrics metrics, TimeProvider time, Activity? activity, string endpoint, string transport, long payloadBytes, bool server)
    {
        _metrics = metrics;
        _time = time;
        _server = server;
        Activity = activity;
        _started = time.GetTimestamp();
        _tags = RequestPlaneMetrics.Tags(endpoint, transport, server ? "server" : "client");
        metrics.Started(_tags, payloadBytes, server);
    }

    public Activity? Activity { get; }

    public void Message(long bytes)
    {
        if (!_sawFirst)
        {
            _sawFirst = true;
            _metrics.FirstResponse(_tags, _time.GetElapsedTime(_started));
        }

        _metrics.Message(_tags, bytes, _server);
    }

    public void End(Exception? error)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        PlexusErrorCode? code = error switch
        {
            null => null,
            PlexusException typed => typed.Code,
            OperationCanceledException => PlexusErrorCode.Cancelled,
            _ => PlexusErrorCode.HandlerError,
        };
        _metrics.Ended(_tags, _time.GetElapsedTime(_started), code);
        if (Activity is not null)
        {
            if (code is PlexusErrorCode c)
            {
                Activity.SetStatus(ActivityStatusCode.Error, error!.Message);
                Activity.SetTag("plexus.error.code", RequestPlaneMetrics.CodeName(c));
            }

            Activity.Dispose();
        }
    }
}
