using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Plexus.Host.Tests.RequestPlane;

/// <summary>
/// A transport seam for the router's own tests: each address answers as its script says, and every request is
/// recorded. It stands in for no wire protocol; the transports have the conformance kit for that.
/// </summary>
internal sealed class ScriptedTransport(string name = "scripted") : ITransportFactory, IRequestPlaneClient
{
    public string Name => name;

    public ConcurrentDictionary<string, Func<OutgoingRequest, CancellationToken, IResponseStream>> Scripts { get; } = new();

    public ConcurrentQueue<(Uri Address, OutgoingRequest Request)> Sent { get; } = new();

    public TransportHealth Health => TransportHealth.Healthy;

    public int SentTo(string host)
    {
        var n = 0;
        foreach (var (address, _) in Sent)
        {
            if (address.Host == host)
            {
                n++;
            }
        }

        return n;
    }

    public IRequestPlaneServer CreateServer() => throw new NotSupportedException("The scripted transport only calls.");

    public IRequestPlaneClient CreateClient() => this;

    public ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        Sent.Enqueue((address, request));
        var script = Scripts.TryGetValue(address.Host, out var s) ? s : throw PlexusException.Unavailable($"nothing at {address}") ;
        return ValueTask.FromResult(script(request, cancellationToken));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static Func<OutgoingRequest, CancellationToken, IResponseStream> Messages(params string[] messages) =>
        (_, _) => new ListStream(messages.Select(m => (Func<byte[]>)(() => System.Text.Encoding.UTF8.GetBytes(m))).ToArray());

    public static Func<OutgoingRequest, CancellationToken, IResponseStream> FailsBeforeFirstByte(PlexusErrorCode code) =>
        (_, _) => throw new PlexusException(code, $"scripted {code}") { BeforeFirstByte = true };

    public static Func<OutgoingRequest, CancellationToken, IResponseStream> FailsAfterFirstMessage(PlexusErrorCode code) =>
        (_, _) => new ListStream([() => [1], () => throw new PlexusException(code, $"scripted {code} mid-stream")]);

    public static Func<OutgoingRequest, CancellationToken, IResponseStream> Hangs() =>
        (_, token) => new HangingStream(token);

    /// <summary>A stream of scripted steps: each yields a message or throws.</summary>
    internal sealed class ListStream(Func<byte[]>[] steps) : IResponseStream
    {
        private int _next;

        public ReadOnlySequence<byte> Current { get; private set; }

        public bool Disposed { get; private set; }

        public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
        {
            if (_next == steps.Length)
            {
                return ValueTask.FromResult(false);
            }

            Current = new ReadOnlySequence<byte>(steps[_next++]());
            return ValueTask.FromResult(true);
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A stream that never answers until its request is cancelled.</summary>
    internal sealed class HangingStream(CancellationToken request) : IResponseStream
    {
        private readonly Channel<byte[]> _never = Channel.CreateUnbounded<byte[]>();

        public ReadOnlySequence<byte> Current => default;

        public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(request, cancellationToken);
            await _never.Reader.ReadAsync(linked.Token);
            return true;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
