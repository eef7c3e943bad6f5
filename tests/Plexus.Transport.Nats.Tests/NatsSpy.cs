using System.Text;
using NATS.Client.Core;

namespace Plexus.Transport.Nats.Tests;

/// <summary>A NATS.Client.Core subscriber that keeps every message on a subject for the test to read.</summary>
internal sealed class NatsSpy : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly INatsSub<byte[]> _subscription;

    private NatsSpy(NatsConnection connection, INatsSub<byte[]> subscription)
    {
        _connection = connection;
        _subscription = subscription;
    }

    /// <summary>Subscribes <paramref name="subject"/> and waits until nats-server has the subscription.</summary>
    public static async Task<NatsSpy> StartAsync(Uri server, string subject, string? queueGroup = null)
    {
        var connection = new NatsConnection(new NatsOpts { Url = server.ToString(), Name = "spy" });
        await connection.ConnectAsync();
        var subscription = await connection.SubscribeCoreAsync<byte[]>(subject, queueGroup);
        await connection.PingAsync();
        return new NatsSpy(connection, subscription);
    }

    /// <summary>The connection, to publish from.</summary>
    public NatsConnection Connection => _connection;

    public async Task<Received> NextAsync(TimeSpan? within = null) =>
        Convert(await _subscription.Msgs.ReadAsync().AsTask().WaitAsync(within ?? TimeSpan.FromSeconds(10)));

    public bool TryNext(out Received? received)
    {
        received = _subscription.Msgs.TryRead(out var message) ? Convert(message) : null;
        return received is not null;
    }

    public async ValueTask DisposeAsync()
    {
        await _subscription.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private static Received Convert(NatsMsg<byte[]> message)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (message.Headers is { } block)
        {
            foreach (var (name, values) in block)
            {
                headers[name] = values.ToString();
            }
        }

        return new Received(message.Subject, message.ReplyTo ?? string.Empty, message.Headers?.Code ?? 0, headers, message.Data ?? []);
    }

    internal sealed record Received(string Subject, string ReplyTo, int Status, Dictionary<string, string> Headers, byte[] Payload)
    {
        public string Text => Encoding.UTF8.GetString(Payload);
    }
}
