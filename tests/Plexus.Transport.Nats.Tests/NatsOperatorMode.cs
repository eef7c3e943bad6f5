namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// Decentralized authentication for a test server: an operator the server trusts, one account the operator signed and
/// the server has preloaded, and users that account signs. Made by <see cref="NatsCredentials.CreateOperatorMode"/>.
/// </summary>
public sealed class NatsOperatorMode
{
    private readonly string _operatorSeed;
    private readonly string _accountSeed;

    internal NatsOperatorMode(string operatorPublicKey, string operatorSeed, string operatorJwt, string accountPublicKey, string accountSeed, string accountJwt)
    {
        OperatorPublicKey = operatorPublicKey;
        _operatorSeed = operatorSeed;
        OperatorJwt = operatorJwt;
        AccountPublicKey = accountPublicKey;
        _accountSeed = accountSeed;
        AccountJwt = accountJwt;
    }

    /// <summary>The operator's public key (<c>O…</c>).</summary>
    public string OperatorPublicKey { get; }

    /// <summary>The operator's self-signed JWT, which the server trusts.</summary>
    public string OperatorJwt { get; }

    /// <summary>The account's public key (<c>A…</c>).</summary>
    public string AccountPublicKey { get; }

    /// <summary>The account's JWT, signed by the operator.</summary>
    public string AccountJwt { get; }

    /// <summary>
    /// The nats-server configuration: trust the operator (its JWT inline; nats-server takes a value starting with
    /// <c>eyJ</c> as a JWT rather than a file name), and resolve accounts from memory, with this account preloaded.
    /// </summary>
    public string ServerConfig =>
        $$"""
        operator: "{{OperatorJwt}}"
        resolver: MEMORY
        resolver_preload: {
          {{AccountPublicKey}}: "{{AccountJwt}}"
        }
        """;

    /// <summary>Creates a user of the preloaded account.</summary>
    /// <param name="name">The user's name claim.</param>
    /// <returns>Its credentials.</returns>
    public NatsUserCredentials CreateUser(string name = "plexus-test-user") => NatsCredentials.CreateUser(_accountSeed, name);

    /// <summary>
    /// Creates a user of another account, one this operator signed but the server was not given, so the server cannot
    /// resolve it: a well-formed creds file the server must refuse.
    /// </summary>
    /// <param name="name">The user's name claim.</param>
    /// <returns>Its credentials.</returns>
    public NatsUserCredentials CreateUserOfUnknownAccount(string name = "plexus-stranger")
    {
        var (_, seed, _) = NatsCredentials.CreateAccount(_operatorSeed, "plexus-unknown-account");
        return NatsCredentials.CreateUser(seed, name);
    }
}
