using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Plexus.Bench;

/// <summary>
/// What a .NET user would pick instead of Plexus: Kestrel serving HTTP/2 without TLS (h2c, prior knowledge) on
/// 127.0.0.1, called through one <see cref="HttpClient"/> that multiplexes every request on one connection. Both
/// sides keep their defaults apart from what the scenarios need (a request body limit above 64 MiB, and for the
/// serving scenario as many concurrent streams per connection as it puts on one).
/// </summary>
internal sealed class KestrelH2Subject : IBenchSubject, IServingSubject
{
    public const string SubjectName = BenchNames.KestrelH2;

    /// <summary>Kestrel's own default of <c>Limits.Http2.MaxStreamsPerConnection</c>.</summary>
    public const int DefaultMaxStreamsPerConnection = 100;

    private readonly int _maxStreamsPerConnection;
    private WebApplication? _app;
    private HttpClient? _client;
    private Uri? _address;
    private ServingPacer? _pacer;

    /// <param name="maxStreamsPerConnection">
    /// Kestrel's <c>Limits.Http2.MaxStreamsPerConnection</c>: its default, or the most streams the serving scenario
    /// puts on one connection when that is more.
    /// </param>
    public KestrelH2Subject(int maxStreamsPerConnection = DefaultMaxStreamsPerConnection)
    {
        _maxStreamsPerConnection = Math.Max(DefaultMaxStreamsPerConnection, maxStreamsPerConnection);
    }

    public string Name => SubjectName;

    public string? ServingUnsupported => null;

    public string? ServingNote => _maxStreamsPerConnection == DefaultMaxStreamsPerConnection
        ? null
        : string.Create(CultureInfo.InvariantCulture, $"Kestrel's Limits.Http2.MaxStreamsPerConnection is set to {_maxStreamsPerConnection:N0} for this run (its default is {DefaultMaxStreamsPerConnection}), so that each connection carries its share of the streams; each HttpClient keeps to one connection.");

    private HttpClient Client => _client ?? throw new InvalidOperationException("The subject has not been started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Plexus.Bench", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 2L * BenchSizes.BulkBytes;
            kestrel.Limits.Http2.MaxStreamsPerConnection = _maxStreamsPerConnection;
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync(cancellationToken);

        var addresses = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var address = new Uri(addresses.First());
        LoopbackGuard.Ensure(address, Name);
        _address = address;
        _client = NewClient(address);
    }

    /// <summary>
    /// One HttpClient per connection: each has a handler, and so a connection pool, of its own, which opens one HTTP/2
    /// connection and multiplexes every request on it. Each makes a unary call first, which opens its connection.
    /// </summary>
    public async ValueTask<IServingClient> OpenServingAsync(ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(pacer);
        var address = _address ?? throw new InvalidOperationException("The subject has not been started.");
        Volatile.Write(ref _pacer, pacer);
        var clients = new List<HttpClient>(plan.Connections);
        var serving = new ServingClient(this, clients);
        try
        {
            for (var i = 0; i < plan.Connections; i++)
            {
                var client = NewClient(address);
                clients.Add(client);
                await new KestrelUnaryCaller(client).CallAsync(cancellationToken);
            }

            return serving;
        }
        catch
        {
            await serving.DisposeAsync();
            throw;
        }
    }

    public ValueTask<IUnaryCaller> OpenUnaryAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IUnaryCaller>(new KestrelUnaryCaller(Client));

    public async ValueTask<long> StreamOnceAsync(CancellationToken cancellationToken)
    {
        using var request = NewRequest("/stream", null);
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);

        // Message by message, as a client of a token stream reads it.
        var message = new byte[BenchSizes.StreamMessageBytes];
        long messages = 0;
        while (await ReadMessageAsync(body, message, cancellationToken))
        {
            messages++;
        }

        return messages;
    }

    public async ValueTask<long> BulkOnceAsync(CancellationToken cancellationToken)
    {
        using var request = NewRequest("/bulk", new ReadOnlyMemoryContent(BenchPayloads.Bulk));
        using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var ack = new byte[BenchSizes.BulkAckBytes];
        if (!await ReadMessageAsync(body, ack, cancellationToken))
        {
            throw new BenchFailedException($"{Name} bulk: the server did not acknowledge the payload with its length.");
        }

        return BinaryPrimitives.ReadInt64LittleEndian(ack);
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(grace.Token);
            await _app.DisposeAsync();
        }
    }

    /// <summary>
    /// A POST over HTTP/2 only. The client's default version applies to its helper methods, not to a message sent with
    /// SendAsync, so every message says it itself.
    /// </summary>
    internal static HttpRequestMessage NewRequest(string path, HttpContent? content) => new(HttpMethod.Post, new Uri(path, UriKind.Relative))
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = content,
    };

    /// <summary>Reads exactly <paramref name="message"/>'s length; false at a clean end of the body.</summary>
    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<bool> ReadMessageAsync(Stream body, Memory<byte> message, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < message.Length)
        {
            var n = await body.ReadAsync(message[filled..], cancellationToken);
            if (n == 0)
            {
                return filled == 0 ? false : throw new IOException($"The response body ended after {filled} of {message.Length} bytes of a message.");
            }

            filled += n;
        }

        return true;
    }

    private static HttpClient NewClient(Uri address) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    {
        BaseAddress = address,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,

        // The bench's own limits bound every request.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private Task HandleAsync(HttpContext context) => context.Request.Path.Value switch
    {
        "/unary" => UnaryAsync(context),
        "/stream" => StreamAsync(context),
        "/bulk" => BulkAsync(context),
        "/serving" => ServingAsync(context),
        _ => NotFound(context),
    };

    // The serving handler's loop (BenchServingHandler) on Kestrel: the first token at once, the next ones when the
    // shared pacer says, each flushed as it is written.
    private async Task ServingAsync(HttpContext context)
    {
        var pacer = Volatile.Read(ref _pacer);
        var cancellationToken = context.RequestAborted;
        var serving = await ReadServingRequestAsync(context.Request.BodyReader, cancellationToken);
        if (pacer is null || serving is not { } request)
        {
            context.Response.StatusCode = pacer is null ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest;
            return;
        }

        var writer = context.Response.BodyWriter;
        using var paced = pacer.OpenStream(request.Stream, cancellationToken);
        for (var sequence = 0; sequence < request.Tokens; sequence++)
        {
            if (sequence > 0)
            {
                await paced.NextAsync();
            }

            ServingToken.Write(writer.GetSpan(request.TokenBytes)[..request.TokenBytes], request.Stream, sequence);
            writer.Advance(request.TokenBytes);
            await writer.FlushAsync(cancellationToken);
        }
    }

    private static async Task<ServingRequest?> ReadServingRequestAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.IsCompleted)
            {
                try
                {
                    return ServingRequest.Read(result.Buffer);
                }
                catch (InvalidDataException)
                {
                    return null;
                }
                finally
                {
                    reader.AdvanceTo(result.Buffer.End);
                }
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static async Task UnaryAsync(HttpContext context)
    {
        var length = await DrainBodyAsync(context.Request.BodyReader, context.RequestAborted);
        if (length != BenchSizes.UnaryRequestBytes)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.ContentLength = BenchSizes.UnaryResponseBytes;
        await context.Response.BodyWriter.WriteAsync(BenchPayloads.UnaryResponse, context.RequestAborted);
    }

    // Each message is flushed as it is written, like the Plexus stream handler: one HTTP/2 DATA frame per message
    // unless Kestrel coalesces them.
    private static async Task StreamAsync(HttpContext context)
    {
        var writer = context.Response.BodyWriter;
        var cancellationToken = context.RequestAborted;
        for (var i = 0; i < BenchSizes.StreamMessages; i++)
        {
            var span = writer.GetSpan(BenchSizes.StreamMessageBytes)[..BenchSizes.StreamMessageBytes];
            BinaryPrimitives.WriteInt64LittleEndian(span, i);
            span[sizeof(long)..].Clear();
            writer.Advance(BenchSizes.StreamMessageBytes);
            await writer.FlushAsync(cancellationToken);
        }
    }

    private static async Task BulkAsync(HttpContext context)
    {
        var length = await DrainBodyAsync(context.Request.BodyReader, context.RequestAborted);
        context.Response.ContentLength = BenchSizes.BulkAckBytes;
        var ack = new byte[BenchSizes.BulkAckBytes];
        BinaryPrimitives.WriteInt64LittleEndian(ack, length);
        await context.Response.BodyWriter.WriteAsync(ack, context.RequestAborted);
    }

    private static async Task<long> DrainBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        long length = 0;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            length += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return length;
            }
        }
    }

    private sealed class ServingClient(KestrelH2Subject subject, List<HttpClient> clients) : IServingClient
    {
        public async ValueTask RunStreamAsync(ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken)
        {
            var stream = request.Stream;
            using var message = NewRequest("/serving", new ByteArrayContent(request.ToArray()));
            var token = new byte[request.TokenBytes];
            log.Sent(stream);
            using var response = await clients[connection % clients.Count].SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            while (await ReadMessageAsync(body, token, cancellationToken))
            {
                var sequence = log.Arrived(stream);
                if (!ServingToken.Matches(token, stream, sequence, request.TokenBytes))
                {
                    throw ServingToken.Unexpected(stream, sequence);
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }

            Volatile.Write(ref subject._pacer, null);
            return default;
        }
    }
}
