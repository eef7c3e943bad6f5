using System.Buffers;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>Helpers shared by the TCP tests: an echo endpoint and a call that reads every message.</summary>
internal static class Echo
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, string name = "echo")
    {
        var endpoint = new EndpointAddress("tcp", "tests", name);
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler((request, responses) =>
            responses.WriteMessageAsync(request.Payload.ToArray(), request.RequestAborted)));
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
}
