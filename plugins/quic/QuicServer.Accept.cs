using Plexus.Transport.Quic.Connections;
using Plexus.Transport.Tcp;

namespace Plexus.Transport.Quic;

/// <summary>Taking connections, and publishing the ephemeral certificate for local clients.</summary>
internal sealed partial class QuicServer
{
    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            QuicListener? listener;
            lock (_gate)
            {
                listener = _listener;
            }

            if (listener is null)
            {
                return;
            }

            QuicConnection connection;
            try
            {
                connection = await listener.AcceptConnectionAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (Exception exception) when (exception is IOException or InvalidOperationException)
            {
                QuicLog.AcceptFailed(_logger, exception.Message);
                continue;
            }

            // Connections that completed their handshake while the server stopped accepting still get a session, in
            // going-away mode: their requests are refused before the first byte instead of left waiting.
            QuicServerSession? session = null;
            var goingAway = false;
            lock (_gate)
            {
                if (_state is ServerState.Running or ServerState.Draining && _dispatcher is not null)
                {
                    session = new QuicServerSession(this, _dispatcher, connection);
                    _sessions.Add(session);
                    goingAway = _state == ServerState.Draining;
                }
            }

            if (session is null)
            {
                connection.Close(QuicErrorCodes.NoError, $"{Address} stopped.");
                continue;
            }

            if (goingAway)
            {
                session.GoAway();
            }

            session.Start();
        }
    }

    // A server with its own certificate takes over the address: an ephemeral certificate published there by an
    // earlier process is withdrawn, so that local clients do not keep trusting a key nobody uses any more.
    private void PublishTrust(QuicEphemeralCertificate? ephemeral)
    {
        var directory = _options.EphemeralTrustDirectory ?? QuicEphemeralTrust.DefaultDirectory();
        if (ephemeral is null)
        {
            if (directory is not null)
            {
                QuicEphemeralTrust.Withdraw(directory, Address, certificatePem: null);
            }

            return;
        }

        string? published = null;
        var problem = "this process has no per-user folder (HOME) to publish it in";
        if (directory is not null)
        {
            published = QuicEphemeralTrust.Publish(directory, Address, ephemeral.CertificatePem, out problem);
        }

        if (published is null)
        {
            QuicLog.EphemeralNotPublished(_logger, Address, problem);
        }
        else
        {
            lock (_gate)
            {
                _trustDirectory = directory;
            }
        }

        QuicLog.EphemeralCertificate(_logger, QuicTransportOptions.Key("Tls:CertificatePath"), Address, ephemeral.Names, published ?? "(not published)");
    }

    private void WithdrawTrust()
    {
        string? directory;
        QuicEphemeralCertificate? ephemeral;
        lock (_gate)
        {
            directory = _trustDirectory;
            ephemeral = _ephemeral;
            _trustDirectory = null;
        }

        if (directory is not null && ephemeral is not null)
        {
            QuicEphemeralTrust.Withdraw(directory, Address, ephemeral.CertificatePem);
        }
    }
}
