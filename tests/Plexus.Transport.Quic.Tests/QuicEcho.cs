using System.Buffers;

namespace Plexus.Transport.Quic.Tests;

/// <summary>An echo endpoint served by a handler delegate, and a call that reads every message, for the QUIC tests.</summary>
internal static class QuicEcho
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, string name = "echo") =>
        Serve(server, name, (request, responses) => responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted));

    public static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, string name, Func<RequestContext, IResponseWriter, ValueTask> handle)
    {
        var endpoint = new EndpointAddress("quic", "tests", name);
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new Handler(handle));
        return (endpoint, instance);
    }

    public static OutgoingRequest Request((EndpointAddress Endpoint, InstanceId Instance) target, byte[] payload) =>
        new(target.Endpoint, target.Instance, Guid.NewGuid().ToString("N"), new ReadOnlySequence<byte>(payload), NoHeaders, Deadline: null);

    public static async Task<List<byte[]>> CallAsync(IRequestPlaneClient client, Uri address, OutgoingRequest request)
    {
        var messages = new List<byte[]>();
        await using var stream = await client.SendAsync(address, request, CancellationToken.None).AsTask().WaitAsync(Bound);
        while (await stream.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            messages.Add(stream.Current.ToArray());
        }

        return messages;
    }

    private sealed class Handler(Func<RequestContext, IResponseWriter, ValueTask> handle) : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => handle(request, responses);
    }
}
