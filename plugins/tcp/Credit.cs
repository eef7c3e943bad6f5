namespace Plexus.Transport.Tcp;

/// <summary>Takes credit from a stream's window and its connection's window together.</summary>
internal static class Credit
{
    /// <summary>
    /// Takes between <paramref name="minimum"/> and <paramref name="maximum"/> credit from both windows: the stream's
    /// first, then at most as much from the connection's; stream credit the connection could not match goes back.
    /// </summary>
    public static ValueTask<int> TakeAsync(CreditWindow stream, CreditWindow connection, int minimum, int maximum, CancellationToken cancellationToken)
    {
        var fromStream = stream.TakeAsync(minimum, maximum, cancellationToken);
        if (fromStream.IsCompletedSuccessfully)
        {
            var streamCredit = fromStream.Result;
            var fromConnection = connection.TakeAsync(minimum, streamCredit, cancellationToken);
            if (fromConnection.IsCompletedSuccessfully)
            {
                var granted = fromConnection.Result;
                if (granted < streamCredit)
                {
                    stream.Add(streamCredit - granted);
                }

                return new ValueTask<int>(granted);
            }

            return AwaitConnectionAsync(stream, streamCredit, fromConnection);
        }

        return AwaitBothAsync(stream, connection, minimum, fromStream, cancellationToken);
    }

    private static async ValueTask<int> AwaitBothAsync(CreditWindow stream, CreditWindow connection, int minimum, ValueTask<int> fromStream, CancellationToken cancellationToken)
    {
        var streamCredit = await fromStream.ConfigureAwait(false);
        return await AwaitConnectionAsync(stream, streamCredit, connection.TakeAsync(minimum, streamCredit, cancellationToken)).ConfigureAwait(false);
    }

    private static async ValueTask<int> AwaitConnectionAsync(CreditWindow stream, int streamCredit, ValueTask<int> fromConnection)
    {
        int granted;
        try
        {
            granted = await fromConnection.ConfigureAwait(false);
        }
        catch
        {
            stream.Add(streamCredit);
            throw;
        }

        if (granted < streamCredit)
        {
            stream.Add(streamCredit - granted);
        }

        return granted;
    }
}
