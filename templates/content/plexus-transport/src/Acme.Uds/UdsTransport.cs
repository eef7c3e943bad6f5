using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Plexus;

namespace Acme.Uds;

/// <summary>Requests over Unix domain sockets, one connection per request; addresses are <c>uds:///path/to/socket</c>.</summary>
/// <param name="options">The settings; a test passes <c>Options.Create(new UdsTransportOptions { … })</c>.</param>
public sealed class UdsTransportFactory(IOptions<UdsTransportOptions> options) : ITransportFactory
{
    /// <inheritdoc />
    public string Name => "uds";
    /// <inheritdoc />
    public IRequestPlaneServer CreateServer() => new UdsServer(options.Value);
    /// <inheritdoc />
    public IRequestPlaneClient CreateClient() => new UdsClient(options.Value);
}

// The wire: frames of [kind: 1 byte][body length: int32, native byte order (both ends are on this machine)][body].
// A client sends a Head frame and the payload, then only reads, so the end of its connection is its cancel; the server
// sends Message frames, then End or Error.
internal sealed record Head(string Endpoint, ulong Instance, string RequestId, DateTimeOffset? Deadline, Dictionary<string, string> Headers, long Length);
internal sealed record Error(PlexusErrorCode Code, string Message, bool BeforeFirstByte);

internal static class Wire
{
    public const byte Message = 0, End = 1, Fail = 2, Request = 3;
    public const string Limit = "Plexus:Transports:Uds:MaxPayloadBytes";
    public static bool Gone(Exception e) => e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or EndOfStreamException;

    public static void Write(IBufferWriter<byte> to, byte kind, ReadOnlySpan<byte> body) { to.Write([kind, .. BitConverter.GetBytes(body.Length)]); to.Write(body); }

    public static async Task<(byte Kind, byte[] Body)> ReadAsync(NetworkStream from, CancellationToken cancellationToken)
    {
        byte[] head = new byte[5];
        await from.ReadExactlyAsync(head, cancellationToken);
        byte[] body = new byte[BitConverter.ToInt32(head, 1)];
        await from.ReadExactlyAsync(body, cancellationToken);
        return (head[0], body);
    }
}

internal sealed class UdsServer(UdsTransportOptions options) : IRequestPlaneServer
{
    private readonly string _path = string.IsNullOrEmpty(options.SocketPath) ? Path.Combine(Path.GetTempPath(), $"plexus-uds-{Guid.NewGuid():N}.sock") : options.SocketPath;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _killed = new();
    private IRequestDispatcher _dispatcher = null!;
    private int _unread; // connections whose request is neither dispatched nor refused yet: the drain waits for them

    public Uri Address => new($"uds://{_path}");
    public TransportHealth Health { get; private set; } = TransportHealth.Healthy;

    public ValueTask StartAsync(IRequestDispatcher dispatcher, CancellationToken cancellationToken)
    {
        _dispatcher = dispatcher;
        File.Delete(_path); // a socket file left behind by a process that died
        _listener.Bind(new UnixDomainSocketEndPoint(_path));
        _listener.Listen();
        _ = AcceptAsync();
        return ValueTask.CompletedTask;
    }

    public async ValueTask StopAcceptingAsync(CancellationToken cancellationToken)
    {
        Health = new TransportHealth(HealthStatus.Degraded, "draining");
        _listener.Dispose();
        while (Volatile.Read(ref _unread) > 0) await Task.Delay(10, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        File.Delete(_path);
        await _killed.CancelAsync(); // every connection closes: handlers are aborted, clients see Unavailable
    }

    private async Task AcceptAsync()
    {
        try { while (true) { Socket socket = await _listener.AcceptAsync(); Interlocked.Increment(ref _unread); _ = ServeAsync(socket); } }
        catch (Exception e) when (Wire.Gone(e)) { } // stopped
    }

    private async Task ServeAsync(Socket socket)
    {
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(_killed.Token);
        using var closing = aborted.Token.Register(socket.Dispose);
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        (IncomingRequest? request, PlexusException? refusal) = (null, null);
        try { (request, refusal) = await ReadRequestAsync(stream, aborted.Token); }
        catch (Exception e) when (Wire.Gone(e) || e is JsonException or FormatException) { } // the client left, or sent no request
        finally { Interlocked.Decrement(ref _unread); }
        if (refusal is not null) await new UdsChannel(stream).CompleteAsync(refusal);
        if (request is null) return;
        _ = WatchAsync(stream, aborted);
        await _dispatcher.DispatchAsync(request, new UdsChannel(stream)); // never throws: it ends the stream itself
    }

    private async Task<(IncomingRequest?, PlexusException?)> ReadRequestAsync(NetworkStream stream, CancellationToken aborted)
    {
        var head = JsonSerializer.Deserialize<Head>((await Wire.ReadAsync(stream, aborted)).Body)!;
        var (endpoint, instance) = (EndpointAddress.Parse(head.Endpoint), new InstanceId(head.Instance));
        PlexusException? refusal = _dispatcher.Admit(endpoint, instance) ?? (head.Length <= options.MaxPayloadBytes ? null
            : PlexusException.TooLarge("request payload", head.Length, options.MaxPayloadBytes, Wire.Limit));
        if (refusal is not null) return (null, refusal);
        byte[] payload = new byte[head.Length];
        await stream.ReadExactlyAsync(payload, aborted);
        return (new IncomingRequest(endpoint, instance, head.RequestId, new(payload), head.Headers, head.Deadline, aborted), null);
    }

    // The client sends nothing after its payload: a read that ends (0 bytes, or a reset) means it cancelled or left.
    private static async Task WatchAsync(NetworkStream stream, CancellationTokenSource aborted)
    {
        try { await stream.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, aborted.Token); } catch (Exception e) when (Wire.Gone(e)) { }
        try { await aborted.CancelAsync(); } catch (ObjectDisposedException) { } // the request had already ended
    }
}

// One response stream. FlushAsync waits for the socket, which is the flow control: a client that does not read fills
// the socket's buffers, and the handler waits until it reads or leaves (then the socket is closed and the write fails).
internal sealed class UdsChannel(NetworkStream stream) : IResponseChannel
{
    private readonly ArrayBufferWriter<byte> _message = new(), _frames = new();

    public bool HasResponded { get; private set; }
    public void Advance(int count) => _message.Advance(count);
    public Memory<byte> GetMemory(int sizeHint = 0) => _message.GetMemory(sizeHint);
    public Span<byte> GetSpan(int sizeHint = 0) => _message.GetSpan(sizeHint);

    public void EndMessage() { Wire.Write(_frames, Wire.Message, _message.WrittenSpan); _message.ResetWrittenCount(); HasResponded = true; }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        try { await stream.WriteAsync(_frames.WrittenMemory, cancellationToken); _frames.ResetWrittenCount(); }
        catch (Exception e) when (Wire.Gone(e) && !cancellationToken.IsCancellationRequested) { throw new PlexusException(PlexusErrorCode.Cancelled, "The client left.", e); }
    }

    public async ValueTask CompleteAsync(PlexusException? error)
    {
        Wire.Write(_frames, error is null ? Wire.End : Wire.Fail, error is null ? [] : JsonSerializer.SerializeToUtf8Bytes(new Error(error.Code, error.Message, error.BeforeFirstByte)));
        try { await stream.WriteAsync(_frames.WrittenMemory); } catch (Exception e) when (Wire.Gone(e)) { } // the client left: nobody to tell
    }
}

internal sealed class UdsClient(UdsTransportOptions options) : IRequestPlaneClient
{
    public TransportHealth Health => TransportHealth.Healthy;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public async ValueTask<IResponseStream> SendAsync(Uri address, OutgoingRequest request, CancellationToken cancellationToken)
    {
        if (request.Deadline <= DateTimeOffset.UtcNow) throw new PlexusException(PlexusErrorCode.Timeout, "The deadline passed before the request was sent.");
        if (request.Payload.Length > options.MaxPayloadBytes) throw PlexusException.TooLarge("request payload", request.Payload.Length, options.MaxPayloadBytes, Wire.Limit);
        var head = new ArrayBufferWriter<byte>();
        Wire.Write(head, Wire.Request, JsonSerializer.SerializeToUtf8Bytes(new Head(request.Endpoint.ToString(), request.Instance.Value,
            request.RequestId, request.Deadline, new Dictionary<string, string>(request.Headers), request.Payload.Length)));
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try { await socket.ConnectAsync(new UnixDomainSocketEndPoint(address.AbsolutePath), cancellationToken); }
        catch (SocketException e) { socket.Dispose(); throw new PlexusException(PlexusErrorCode.Unavailable, $"No uds server at {address}: {e.Message}", e) { BeforeFirstByte = true }; }
        catch { socket.Dispose(); throw; }
        var responses = new UdsResponseStream(new NetworkStream(socket, ownsSocket: true), request.Deadline, cancellationToken);
        try
        {
            await responses.Stream.WriteAsync(head.WrittenMemory, cancellationToken);
            foreach (ReadOnlyMemory<byte> segment in request.Payload) await responses.Stream.WriteAsync(segment, cancellationToken);
        }
        catch (IOException) { } // the server refused and closed early: MoveNextAsync reads why
        catch { await responses.DisposeAsync(); throw; }
        return responses; // the payload is on the wire, so the caller's buffer is free
    }
}

internal sealed class UdsResponseStream(NetworkStream stream, DateTimeOffset? deadline, CancellationToken sent) : IResponseStream
{
    private readonly CancellationTokenRegistration _cancel = sent.Register(stream.Dispose); // SendAsync's token, for the request's whole life

    public NetworkStream Stream => stream;
    public ReadOnlySequence<byte> Current { get; private set; }

    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        using var late = new CancellationTokenSource(deadline is { } due ? TimeSpan.FromMilliseconds(Math.Clamp((due - DateTimeOffset.UtcNow).TotalMilliseconds, 0, int.MaxValue)) : Timeout.InfiniteTimeSpan);
        using var any = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, sent, late.Token);
        try
        {
            (byte kind, byte[] body) = await Wire.ReadAsync(stream, any.Token);
            Current = new ReadOnlySequence<byte>(body);
            if (kind == Wire.Fail && JsonSerializer.Deserialize<Error>(body) is { } error) throw new PlexusException(error.Code, error.Message) { BeforeFirstByte = error.BeforeFirstByte };
            return kind == Wire.Message;
        }
        catch (Exception e) when (Wire.Gone(e))
        {
            await DisposeAsync(); // the end of the connection is the cancel: the server stops the handler
            if (late.IsCancellationRequested) throw new PlexusException(PlexusErrorCode.Timeout, "The deadline passed.", e);
            cancellationToken.ThrowIfCancellationRequested();
            sent.ThrowIfCancellationRequested();
            throw new PlexusException(PlexusErrorCode.Unavailable, "The uds server left during the request.", e);
        }
    }

    public async ValueTask DisposeAsync() { await _cancel.DisposeAsync(); await stream.DisposeAsync(); }
}
