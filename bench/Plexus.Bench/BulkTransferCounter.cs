using System.Diagnostics.Metrics;

namespace Plexus.Bench;

/// <summary>
/// Counts what the nodes' bulk path did, from their published metrics (meter <c>Plexus.RequestPlane</c>), so that a
/// "bulk" run whose payloads silently went inline fails instead of being reported as bulk. Only the meters of the
/// given nodes are listened to: other hosts in the process (tests run in parallel) publish the same names.
/// </summary>
internal sealed class BulkTransferCounter : IDisposable
{
    public const string MeterName = "Plexus.RequestPlane";

    private const string Transfers = "plexus.bulk.transfers";
    private const string Fallbacks = "plexus.bulk.fallbacks";
    private const string Bytes = "plexus.bulk.bytes";

    private readonly MeterListener _listener = new();
    private readonly IMeterFactory[] _scopes;
    private long _transfers;
    private long _failedTransfers;
    private long _fallbacks;
    private long _bulkBytes;

    public BulkTransferCounter(params IMeterFactory[] scopes)
    {
        _scopes = scopes;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && instrument.Name is Transfers or Fallbacks or Bytes && IsOurs(instrument.Meter.Scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The counts so far.</summary>
    public BulkCounts Read() => new(Interlocked.Read(ref _transfers), Interlocked.Read(ref _failedTransfers), Interlocked.Read(ref _fallbacks), Interlocked.Read(ref _bulkBytes));

    public void Dispose() => _listener.Dispose();

    private bool IsOurs(object? scope)
    {
        foreach (var ours in _scopes)
        {
            if (ReferenceEquals(ours, scope))
            {
                return true;
            }
        }

        return false;
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        switch (instrument.Name)
        {
            case Transfers:
                if (Tag(tags, "result") == "ok")
                {
                    Interlocked.Add(ref _transfers, value);
                }
                else
                {
                    Interlocked.Add(ref _failedTransfers, value);
                }

                break;
            case Fallbacks:
                Interlocked.Add(ref _fallbacks, value);
                break;
            case Bytes when Tag(tags, "path") == "bulk":
                Interlocked.Add(ref _bulkBytes, value);
                break;
        }
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var (name, value) in tags)
        {
            if (name == key)
            {
                return value as string;
            }
        }

        return null;
    }
}

/// <summary>What the bulk path did: transfers pulled (ok and failed), payloads over the threshold that went inline, bytes pulled.</summary>
internal readonly record struct BulkCounts(long Transfers, long FailedTransfers, long Fallbacks, long BulkBytes)
{
    public static BulkCounts operator -(BulkCounts after, BulkCounts before) =>
        new(after.Transfers - before.Transfers, after.FailedTransfers - before.FailedTransfers, after.Fallbacks - before.Fallbacks, after.BulkBytes - before.BulkBytes);
}
