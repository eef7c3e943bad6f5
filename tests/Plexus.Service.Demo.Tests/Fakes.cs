using System.Buffers;

namespace Plexus.Service.Demo.Tests;

/// <summary>A client that records each call and answers with the messages it was given.</summary>
internal sealed class RecordingClient(params string[] answer) : IPlexusClient
{
    public List<(EndpointAddress Endpoint, byte[] Payload, CallOptions? Options)> Calls { get; } = [];

    public ValueTask<IResponseStream> CallAsync(EndpointAddress endpoint, ReadOnlySequence<byte> payload, CallOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls.Add((endpoint, payload.ToArray(), options));
        return ValueTask.FromResult<IResponseStream>(new ListStream(answer));
    }

    private sealed class ListStream(string[] messages) : IResponseStream
    {
        private int _next = -1;

        public ReadOnlySequence<byte> Current => new(System.Text.Encoding.UTF8.GetBytes(messages[_next]));

        public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(++_next < messages.Length);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A response writer that keeps each message as text.</summary>
internal sealed class RecordingWriter : IResponseWriter
{
    private readonly ArrayBufferWriter<byte> _current = new();

    public List<string> Messages { get; } = [];

    public void Advance(int count) => _current.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => _current.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => _current.GetSpan(sizeHint);

    public void EndMessage()
    {
        Messages.Add(System.Text.Encoding.UTF8.GetString(_current.WrittenSpan));
        _current.Clear();
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

internal static class Requests
{
    public static RequestContext For(string endpoint, string payload, Dictionary<string, string>? headers = null, DateTimeOffset? deadline = null) =>
        new(EndpointAddress.Parse(endpoint), "r1", new ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(payload)), headers ?? [], deadline, CancellationToken.None);
}
