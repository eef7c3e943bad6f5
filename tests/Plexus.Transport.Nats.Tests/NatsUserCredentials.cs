namespace Plexus.Transport.Nats.Tests;

/// <summary>A user of an account in operator mode: its keys, its JWT signed by the account, and its <c>.creds</c> file.</summary>
/// <param name="PublicKey">The user's public key (<c>U…</c>), the JWT's subject.</param>
/// <param name="Seed">The user's seed (<c>SU…</c>), with which the client signs the server's nonce.</param>
/// <param name="Jwt">The user JWT, issued by the account.</param>
/// <param name="AccountPublicKey">The account that signed it (<c>A…</c>), the JWT's issuer.</param>
public sealed record NatsUserCredentials(string PublicKey, string Seed, string Jwt, string AccountPublicKey)
{
    /// <summary>The <c>.creds</c> file's text, as the NATS tools write it.</summary>
    public string Creds => NatsCredentials.FormatCreds(Jwt, Seed);

    /// <summary>Writes the <c>.creds</c> file, readable by its owner only (0600), for <c>NatsAuthOpts.CredsFile</c>.</summary>
    /// <param name="path">The file; it must not exist yet.</param>
    /// <returns><paramref name="path"/>.</returns>
    public string WriteCredsFile(string path) => NatsCredentials.WriteSecretFile(path, Creds);
}
