namespace Plexus.Transport.Nats.Tests;

/// <summary>An nkey user: the server knows its public key, the client proves it holds the seed by signing the server's nonce.</summary>
/// <param name="PublicKey">The public key (<c>U…</c>), which the server's configuration lists.</param>
/// <param name="Seed">The seed (<c>SU…</c>), the client's secret.</param>
public sealed record NatsNKeyUser(string PublicKey, string Seed)
{
    /// <summary>The nats-server configuration that admits this user and no one else.</summary>
    public string ServerConfig => $"authorization {{ users = [ {{ nkey: \"{PublicKey}\" }} ] }}";

    /// <summary>
    /// Writes the seed, then the public key, one a line (as <c>nk -gen user -pubout</c> prints them), to a new file
    /// readable by its owner only (0600), for <c>NatsAuthOpts.NKeyFile</c>. NATS.Client.Core reads the public key from
    /// that file rather than deriving it from the seed, and refuses a file holding the seed alone.
    /// </summary>
    /// <param name="path">The file; it must not exist yet.</param>
    /// <returns><paramref name="path"/>.</returns>
    public string WriteSeedFile(string path) => NatsCredentials.WriteSecretFile(path, $"{Seed}\n{PublicKey}\n");
}
