namespace Plexus.Bench;

/// <summary>A unary caller of a transport: all callers share the subject's one client, which multiplexes them.</summary>
internal sealed class TransportUnaryCaller(TransportSubject subject) : IUnaryCaller
{
    public ValueTask CallAsync(CancellationToken cancellationToken) => subject.CallUnaryAsync(cancellationToken);

    public ValueTask DisposeAsync() => default;
}
