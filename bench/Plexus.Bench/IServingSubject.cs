namespace Plexus.Bench;

/// <summary>A subject that can carry the serving scenario: many concurrent streams multiplexed on few connections.</summary>
internal interface IServingSubject
{
    /// <summary>The name in the table and the JSON.</summary>
    string Name { get; }

    /// <summary>What the subject changed from its defaults to carry the scenario, said once in the output; null when nothing.</summary>
    string? ServingNote { get; }

    /// <summary>
    /// Opens the client side for one measurement: <see cref="ServingPlan.Connections"/> connections to the subject's
    /// server, each connected (and its handshake done) before this returns, so that setting one up is not in any
    /// stream's time to first token. Until the client is disposed the server's handler paces its tokens with
    /// <paramref name="pacer"/>.
    /// </summary>
    ValueTask<IServingClient> OpenServingAsync(ServingPlan plan, ServingPacer pacer, CancellationToken cancellationToken);
}

/// <summary>The client side of one serving measurement.</summary>
internal interface IServingClient : IAsyncDisposable
{
    /// <summary>
    /// Sends the request of stream <see cref="ServingRequest.Stream"/> over connection <paramref name="connection"/>,
    /// recording the moment in <paramref name="log"/> (<see cref="ServingLog.Sent"/>), then reads every token,
    /// checking it (<see cref="ServingToken.Matches(ReadOnlySpan{byte}, int, int, int)"/>) and recording its arrival
    /// (<see cref="ServingLog.Arrived"/>), and returns at the end of the stream.
    /// </summary>
    /// <exception cref="InvalidDataException">A token is not the one expected.</exception>
    ValueTask RunStreamAsync(ServingRequest request, int connection, ServingLog log, CancellationToken cancellationToken);
}
