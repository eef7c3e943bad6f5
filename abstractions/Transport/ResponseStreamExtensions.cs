using System.Buffers;
using System.Runtime.CompilerServices;

namespace Plexus;

/// <summary>Conveniences over <see cref="IResponseStream"/>.</summary>
public static class ResponseStreamExtensions
{
    /// <summary>Reads every message as a copied array, then disposes the stream.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The messages, in order.</returns>
    public static async IAsyncEnumerable<byte[]> ReadAllAsync(this IResponseStream stream, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await using (stream)
        {
            while (await stream.MoveNextAsync(cancellationToken))
            {
                yield return stream.Current.ToArray();
            }
        }
    }
}
