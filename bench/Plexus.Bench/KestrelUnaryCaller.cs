using System.Runtime.CompilerServices;

namespace Plexus.Bench;

/// <summary>A kestrel-h2 unary caller: a POST of 64 bytes, reading the 64-byte response body; callers share the client.</summary>
internal sealed class KestrelUnaryCaller(HttpClient client) : IUnaryCaller
{
    // One byte more than the response, so that a longer body than promised is noticed.
    private const int ResponseBufferBytes = BenchSizes.UnaryResponseBytes + 1;

    private readonly byte[] _response = new byte[ResponseBufferBytes];

    // Pooled, like every per-call method of the bench, so that the harness allocates nothing per call for any subject.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask CallAsync(CancellationToken cancellationToken)
    {
        using var request = KestrelH2Subject.NewRequest("/unary", new ReadOnlyMemoryContent(BenchPayloads.UnaryRequest));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var filled = 0;
        while (filled < _response.Length)
        {
            var n = await body.ReadAsync(_response.AsMemory(filled), cancellationToken);
            if (n == 0)
            {
                break;
            }

            filled += n;
        }

        if (filled != BenchSizes.UnaryResponseBytes)
        {
            throw new BenchFailedException($"{KestrelH2Subject.SubjectName} unary: the response body has {filled} bytes, not {BenchSizes.UnaryResponseBytes}.");
        }
    }

    public ValueTask DisposeAsync() => default;
}
