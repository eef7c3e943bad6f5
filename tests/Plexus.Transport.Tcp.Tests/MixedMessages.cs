using System.Buffers;
using System.Buffers.Binary;

namespace Plexus.Transport.Tcp.Tests;

/// <summary>
/// A response stream that mixes small messages (packed into MESSAGES frames on version 2, and into shared blocks on the
/// client) with large ones (DATA frames, one buffer each), every message's bytes derived from its index.
/// </summary>
internal static class MixedMessages
{
    // Small, at the small/large boundary, at the packing limit, large, empty, multi-frame: every path a message can take.
    public static readonly int[] Sizes = [16, 0, 1, 1024, 1025, 16, 3000, 200, 4092, 4093, 70_000, 16, 16, 900];

    public static (EndpointAddress Endpoint, InstanceId Instance) Serve(IRequestPlaneServer server, int count, bool flushEach, string name = "mixed")
    {
        var endpoint = new EndpointAddress("tcp", "tests", name);
        var instance = InstanceId.NewId();
        server.Register(endpoint, instance, new DelegateHandler(async (request, responses) =>
        {
            for (var i = 0; i < count; i++)
            {
                var size = Sizes[i % Sizes.Length];
                var span = responses.GetSpan(size)[..size];
                Fill(i, span);
                responses.Advance(size);
                responses.EndMessage();
                if (flushEach || i % 37 == 0)
                {
                    await responses.FlushAsync(request.RequestAborted);
                }
            }
        }));
        return (endpoint, instance);
    }

    public static void Fill(int index, Span<byte> message)
    {
        for (var i = 0; i < message.Length; i++)
        {
            message[i] = (byte)(index + (i * 7));
        }

        if (message.Length >= sizeof(int))
        {
            BinaryPrimitives.WriteInt32LittleEndian(message, index);
        }
    }

    public static void AssertMessage(int index, ReadOnlySequence<byte> actual)
    {
        var expected = new byte[Sizes[index % Sizes.Length]];
        Fill(index, expected);
        Assert.Equal(expected, actual.ToArray());
    }

    public static async Task AssertAllAsync(IRequestPlaneClient client, Uri address, (EndpointAddress Endpoint, InstanceId Instance) target, int count)
    {
        var messages = await Echo.CallAsync(client, address, Echo.Request(target, [0]));
        Assert.Equal(count, messages.Count);
        for (var i = 0; i < count; i++)
        {
            AssertMessage(i, new ReadOnlySequence<byte>(messages[i]));
        }
    }
}
