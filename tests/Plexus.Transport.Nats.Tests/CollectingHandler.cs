using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Plexus.Transport.Nats.Client;

namespace Plexus.Transport.Nats.Tests;

/// <summary>Copies every message it receives into a channel the test reads.</summary>
internal sealed class CollectingHandler : INatsMessageHandler
{
    private readonly Channel<Received> _received = Channel.CreateUnbounded<Received>();

    public void OnMessage(in NatsMessage message)
    {
        var status = 0;
        var headers = new Dictionary<string, string>();
        if (message.HasHeaders)
        {
            var reader = new NatsHeaderReader(message.Headers.ToArray());
            status = reader.Status;
            while (reader.MoveNext())
            {
                headers[Encoding.UTF8.GetString(reader.Name)] = Encoding.UTF8.GetString(reader.Value);
            }
        }

        _received.Writer.TryWrite(new Received(
            Encoding.UTF8.GetString(message.Subject),
            Encoding.UTF8.GetString(message.ReplyTo),
            status,
            headers,
            message.Payload.ToArray()));
    }

    public async Task<Received> NextAsync(TimeSpan? within = null) =>
        await _received.Reader.ReadAsync().AsTask().WaitAsync(within ?? TimeSpan.FromSeconds(10));

    public bool TryNext(out Received? received)
    {
        var got = _received.Reader.TryRead(out var item);
        received = item;
        return got;
    }

    internal sealed record Received(string Subject, string ReplyTo, int Status, Dictionary<string, string> Headers, byte[] Payload)
    {
        public string Text => Encoding.UTF8.GetString(Payload);
    }
}
