using System.Buffers;

namespace Plexus.Transport.Nats.Tests;

/// <summary>A started NATS transport server and a client against one nats-server, for transport-specific tests.</summary>
internal sealed class TransportHarness : IAsyncDisposable
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    private TransportHarness(NatsTransportFactory factory, IRequestPlaneServer server, IRequestPlaneClient client)
    {
        Factory = factory;
        Server = server;
        Client = client;
    }

    public NatsTransportFactory Factory { get; }

    public IRequestPlaneServer Server { get; }

    public IRequestPlaneClient Client { get; }

    public static TimeSpan Step { get; } = TimeSpan.FromSeconds(20);

    /// <summary>A server id as a server process makes one: 16 random hexadecimal digits.</summary>
    public static string RandomServerId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    /// <summary>Serves a handler on the harness's server under a fresh endpoint of the given component.</summary>
    public (EndpointAddress Endpoint, InstanceId Instance) Serve(string component, IEndpointHandler handler)
    {
        var endpoint = new EndpointAddress("tests", component, Guid.NewGuid().ToString("N")[..12]);
        var instance = InstanceId.NewId();
        Server.Register(endpoint, instance, handler);
        return (endpoint, instance);
    }

    public static async Task<TransportHarness> StartAsync(NatsTransportOptions options)
    {
        var factory = new NatsTransportFactory(options, ArrayPool<byte>.Shared);
        var server = factory.CreateServer();
        await server.StartAsync(CancellationToken.None).AsTask().WaitAsync(Step);
        return new TransportHarness(factory, server, factory.CreateClient());
    }

    public static OutgoingRequest Request(EndpointAddress endpoint, InstanceId instance, byte[] payload, DateTimeOffset? deadline = null) =>
        new(endpoint, instance, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(payload), NoHeaders, deadline);

    public async Task<List<byte[]>> CallAsync(OutgoingRequest request, Uri? address = null)
    {
        var messages = new List<byte[]>();
        var stream = await Client.SendAsync(address ?? Server.Address, request, CancellationToken.None).AsTask().WaitAsync(Step);
        await using (stream)
        {
            while (await stream.MoveNextAsync().AsTask().WaitAsync(Step))
            {
                messages.Add(stream.Current.ToArray());
            }
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
