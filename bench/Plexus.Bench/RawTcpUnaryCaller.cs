using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Plexus.Bench;

/// <summary>A raw-tcp unary caller: its own connection, one length-prefixed request and response at a time.</summary>
internal sealed class RawTcpUnaryCaller : IUnaryCaller
{
    private readonly Socket _socket;
    private readonly byte[] _request = new byte[sizeof(int) + BenchSizes.UnaryRequestBytes];
    private readonly byte[] _response = new byte[sizeof(int) + BenchSizes.UnaryResponseBytes];

    public RawTcpUnaryCaller(Socket socket)
    {
        _socket = socket;
        BinaryPrimitives.WriteInt32LittleEndian(_request, BenchSizes.UnaryRequestBytes);
        BenchPayloads.UnaryRequest.Span.CopyTo(_request.AsSpan(sizeof(int)));
    }

    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per call for any subject.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CallAsync(CancellationToken cancellationToken)
    {
        await RawSockets.SendAllAsync(_socket, _request, cancellationToken);
        if (!await RawSockets.ReceiveExactlyAsync(_socket, _response, cancellationToken)
            || BinaryPrimitives.ReadInt32LittleEndian(_response) != BenchSizes.UnaryResponseBytes)
        {
            throw new BenchFailedException($"{RawTcpSubject.SubjectName} unary: the response is not one {BenchSizes.UnaryResponseBytes}-byte message.");
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }
}
