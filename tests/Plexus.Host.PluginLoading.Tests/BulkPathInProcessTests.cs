using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>
/// The bulk path through the library's public API on the real UCX plugin folder, in one process: large payloads and
/// messages move by bulk while callers and handlers see the usual sequences, messages keep their order whatever their
/// sizes, and a handler hands out a region it registered itself, which it gets back once the client has read it.
/// </summary>
public sealed class BulkPathInProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EndpointAddress Echo = EndpointAddress.Parse("bulk/test/echo");
    private static readonly EndpointAddress Mixed = EndpointAddress.Parse("bulk/test/mixed");
    private static readonly EndpointAddress Region = EndpointAddress.Parse("bulk/test/region");
    private static readonly int[] MixedSizes = [10, 3 << 20, 1, 0, 2 << 20, (1 << 20) + 1, 5, 1 << 20];

    [Fact]
    public async Task A_large_payload_and_its_echo_move_by_bulk_and_arrive_whole()
    {
        using var transfers = new TransferCount();
        await using var node = await Node.StartAsync();
        var payload = Pattern(8 << 20, seed: 3);

        var reply = await node.Client.CallUnaryAsync(Echo, payload, cancellationToken: CancellationToken.None);

        Assert.True(reply.AsSpan().SequenceEqual(payload), "The echo differs from the payload.");
        Assert.Equal(1, transfers.Of("request"));
        Assert.Equal(1, transfers.Of("response"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Messages_of_every_size_keep_their_order_and_bytes(bool flushEach)
    {
        await using var node = await Node.StartAsync();
        var received = new List<byte[]>();
        var options = new CallOptions { Headers = flushEach ? new Dictionary<string, string> { ["flush"] = "each" } : null };

        await using (var stream = await node.Client.CallAsync(Mixed, ReadOnlySequence<byte>.Empty, options, CancellationToken.None))
        {
            while (await stream.MoveNextAsync(CancellationToken.None))
            {
                received.Add(stream.Current.ToArray());
            }
        }

        Assert.Equal(MixedSizes.Length, received.Count);
        for (var i = 0; i < MixedSizes.Length; i++)
        {
            Assert.True(received[i].AsSpan().SequenceEqual(Pattern(MixedSizes[i], seed: i)), $"Message {i} ({MixedSizes[i]} bytes) differs.");
        }
    }

    [Fact]
    public async Task A_handler_offers_its_own_region_and_gets_it_back_once_the_client_read_it()
    {
        await using var node = await Node.StartAsync();

        var reply = await node.Client.CallUnaryAsync(Region, ReadOnlyMemory<byte>.Empty, cancellationToken: CancellationToken.None);

        Assert.True(reply.AsSpan().SequenceEqual(Pattern(4 << 20, seed: 9)), "The region's bytes differ.");
        Assert.Equal("ucx", await node.OfferedOver.Task.WaitAsync(Timeout, CancellationToken.None));
        await node.RegionReleased.Task.WaitAsync(Timeout, CancellationToken.None);
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Counts the bulk transfers this process pulled, by direction.</summary>
    private sealed class TransferCount : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = [];

        public TransferCount()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "plexus.bulk.transfers")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string? direction = null, result = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "direction")
                    {
                        direction = tag.Value as string;
                    }
                    else if (tag.Key == "result")
                    {
                        result = tag.Value as string;
                    }
                }

                if (direction is not null && result == "ok")
                {
                    lock (_counts)
                    {
                        _counts[direction] = _counts.GetValueOrDefault(direction) + value;
                    }
                }
            });
            _listener.Start();
        }

        public long Of(string direction)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(direction);
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A node on the tcp transport with the ucx bulk path on, serving the three test endpoints.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private readonly IHost _host;

        private Node(IHost host, TaskCompletionSource<string> offeredOver, TaskCompletionSource released)
        {
            _host = host;
            OfferedOver = offeredOver;
            RegionReleased = released;
            Client = host.Services.GetRequiredService<IPlexusClient>();
        }

        public IPlexusClient Client { get; }

        public TaskCompletionSource<string> OfferedOver { get; }

        public TaskCompletionSource RegionReleased { get; }

        public static async Task<Node> StartAsync()
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Plexus:RequestPlane:Transport"] = "tcp",
                ["Plexus:Transports:Tcp:Bind"] = "127.0.0.1:0",
                ["Plexus:Discovery:Provider"] = "memory",
                ["Plexus:Bulk:Transport"] = "ucx",
                ["Plexus:Plugins:Paths:0"] = HostPlugins.Folder("tcp"),
                ["Plexus:Plugins:Paths:1"] = HostPlugins.Folder("twopart"),
                ["Plexus:Plugins:Paths:2"] = HostPlugins.Folder("rdma"),
            });
            builder.AddPlexus();
            var offeredOver = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            IServiceProvider? services = null;
            builder.Services.MapPlexusEndpoint(Echo.ToString(), static async (request, writer) =>
            {
                writer.WriteMessage(request.Payload.ToArray());
                await writer.FlushAsync(request.RequestAborted);
            });
            builder.Services.MapPlexusEndpoint(Mixed.ToString(), static async (request, writer) =>
            {
                var flushEach = request.Headers.ContainsKey("flush");
                for (var i = 0; i < MixedSizes.Length; i++)
                {
                    writer.WriteMessage(Pattern(MixedSizes[i], seed: i));
                    if (flushEach)
                    {
                        await writer.FlushAsync(request.RequestAborted);
                    }
                }

                await writer.FlushAsync(request.RequestAborted);
            });
            builder.Services.MapPlexusEndpoint(Region.ToString(), async (request, writer) =>
            {
                var bulk = (IBulkResponseWriter)writer;
                offeredOver.TrySetResult(bulk.BulkTransport ?? "none");
                var transport = services!.GetRequiredService<IBulkTransport>();
                var buffer = await transport.AllocateAsync(4 << 20, BulkAccess.Read, request.RequestAborted);
                Pattern(4 << 20, seed: 9).CopyTo(buffer.Memory);
                bulk.EndMessage(buffer.Descriptor with { Length = 4 << 20 }, () =>
                {
                    buffer.Dispose();
                    released.TrySetResult();
                });
                await writer.FlushAsync(request.RequestAborted);
            });
            var host = builder.Build();
            services = host.Services;
            await host.StartAsync();
            return new Node(host, offeredOver, released);
        }

        public async ValueTask DisposeAsync()
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }
}
