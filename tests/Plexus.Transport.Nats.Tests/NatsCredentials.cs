using System.Buffers;
using System.Text;
using System.Text.Json;
using NATS.NKeys;

namespace Plexus.Transport.Nats.Tests;

/// <summary>
/// NATS nkey and JWT credentials made in code, for tests against a real nats-server: an nkey user for the server's
/// <c>authorization</c> block, and an operator-mode trust chain (operator, account, users) with <c>.creds</c> files,
/// without the <c>nsc</c> tool. The JWTs are NATS JWT v2, as github.com/nats-io/jwt/v2 encodes them.
/// </summary>
public static class NatsCredentials
{
    // Go's encoding/json, which wrote the bytes NATS hashes for a JWT's id, escapes some characters that
    // System.Text.Json does not and the other way round; names limited to these are written the same by both.
    private static readonly SearchValues<char> NameCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-");

    /// <summary>Creates an nkey user (a fresh <c>U…</c> key pair).</summary>
    /// <returns>Its public key and seed.</returns>
    public static NatsNKeyUser CreateNKeyUser()
    {
        using var pair = KeyPair.CreatePair(PrefixByte.User);
        return new NatsNKeyUser(pair.GetPublicKey(), pair.GetSeed());
    }

    /// <summary>Creates an operator and one account it signed, for a server in operator mode.</summary>
    /// <param name="operatorName">The operator's name claim.</param>
    /// <param name="accountName">The account's name claim.</param>
    /// <returns>The trust chain; its <see cref="NatsOperatorMode.CreateUser"/> makes users of the account.</returns>
    public static NatsOperatorMode CreateOperatorMode(string operatorName = "plexus-test-operator", string accountName = "plexus-test-account")
    {
        using var operatorPair = KeyPair.CreatePair(PrefixByte.Operator);
        var operatorSeed = operatorPair.GetSeed();
        var operatorJwt = EncodeJwt(operatorSeed, operatorPair.GetPublicKey(), operatorName, "operator", static _ => { });
        var (accountPublicKey, accountSeed, accountJwt) = CreateAccount(operatorSeed, accountName);
        return new NatsOperatorMode(operatorPair.GetPublicKey(), operatorSeed, operatorJwt, accountPublicKey, accountSeed, accountJwt);
    }

    /// <summary>Creates an account signed by an operator, with no limits on connections, subscriptions or data.</summary>
    /// <param name="operatorSeed">The signing operator's seed.</param>
    /// <param name="name">The account's name claim.</param>
    /// <returns>The account's public key, seed and JWT.</returns>
    public static (string PublicKey, string Seed, string Jwt) CreateAccount(string operatorSeed, string name)
    {
        using var pair = KeyPair.CreatePair(PrefixByte.Account);

        // As jwt.NewAccountClaims sets them: -1 is "no limit". nats-server 2.9 reads a limit left out as 0, and refuses
        // every user of such an account with "maximum account active connections exceeded".
        var jwt = EncodeJwt(operatorSeed, pair.GetPublicKey(), name, "account", static nats =>
        {
            nats.WriteStartObject("limits");
            nats.WriteNumber("subs", -1);
            nats.WriteNumber("data", -1);
            nats.WriteNumber("payload", -1);
            nats.WriteNumber("imports", -1);
            nats.WriteNumber("exports", -1);
            nats.WriteBoolean("wildcards", true);
            nats.WriteNumber("conn", -1);
            nats.WriteNumber("leaf", -1);
            nats.WriteEndObject();
            nats.WriteStartObject("default_permissions");
            nats.WriteStartObject("pub");
            nats.WriteEndObject();
            nats.WriteStartObject("sub");
            nats.WriteEndObject();
            nats.WriteEndObject();
        });
        return (pair.GetPublicKey(), pair.GetSeed(), jwt);
    }

    /// <summary>Creates a user signed by an account, allowed to publish and subscribe anywhere, without limits.</summary>
    /// <param name="accountSeed">The signing account's seed.</param>
    /// <param name="name">The user's name claim.</param>
    /// <returns>The user's keys and JWT.</returns>
    public static NatsUserCredentials CreateUser(string accountSeed, string name)
    {
        using var account = KeyPair.FromSeed(accountSeed);
        using var pair = KeyPair.CreatePair(PrefixByte.User);

        // The fields and their order are what nsc writes for a user with default permissions. Without the limits the
        // user could connect but neither subscribe nor publish a payload: nats-server reads a limit left out as 0, not as "no limit".
        var jwt = EncodeJwt(accountSeed, pair.GetPublicKey(), name, "user", static nats =>
        {
            nats.WriteStartObject("pub");
            nats.WriteEndObject();
            nats.WriteStartObject("sub");
            nats.WriteEndObject();
            nats.WriteNumber("subs", -1);
            nats.WriteNumber("data", -1);
            nats.WriteNumber("payload", -1);
        });
        return new NatsUserCredentials(pair.GetPublicKey(), pair.GetSeed(), jwt, account.GetPublicKey());
    }

    /// <summary>
    /// Encodes and signs a NATS JWT v2: header <c>{"typ":"JWT","alg":"ed25519-nkey"}</c>, the claims, and the ed25519
    /// signature of <c>header.claims</c> (v1 signed the claims alone), each part base64url without padding.
    /// </summary>
    /// <param name="issuerSeed">The signer's seed; its public key is the issuer (<c>iss</c>).</param>
    /// <param name="subject">The public key the token is about (<c>sub</c>).</param>
    /// <param name="name">The name claim: letters, digits, space, '.', '_' and '-'.</param>
    /// <param name="type">The NATS claim type: <c>operator</c>, <c>account</c> or <c>user</c>.</param>
    /// <param name="writeNatsFields">Writes the type's own fields into the <c>nats</c> object, before its type and version.</param>
    /// <returns>The token.</returns>
    public static string EncodeJwt(string issuerSeed, string subject, string name, string type, Action<Utf8JsonWriter> writeNatsFields)
    {
        ArgumentNullException.ThrowIfNull(writeNatsFields);
        using var issuer = KeyPair.FromSeed(issuerSeed);
        var issuedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var issuerKey = issuer.GetPublicKey();

        var claims = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(claims))
        {
            // The order of jwt.ClaimsData's fields (an empty one left out), then the type's own under "nats", as Go
            // marshals the structs.
            json.WriteStartObject();
            json.WriteString("jti", JwtId(issuedAt, issuerKey, name, subject));
            json.WriteNumber("iat", issuedAt);
            json.WriteString("iss", issuerKey);
            if (name.Length > 0)
            {
                json.WriteString("name", name);
            }

            json.WriteString("sub", subject);
            json.WriteStartObject("nats");
            writeNatsFields(json);
            json.WriteString("type", type);
            json.WriteNumber("version", 2);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        var toSign = Encoding.ASCII.GetBytes($"{Base64Url("""{"typ":"JWT","alg":"ed25519-nkey"}"""u8)}.{Base64Url(claims.WrittenSpan)}");
        var signature = new byte[64];
        issuer.Sign(toSign, signature);
        return $"{Encoding.ASCII.GetString(toSign)}.{Base64Url(signature)}";
    }

    /// <summary>
    /// A JWT's id (<c>jti</c>) as NATS JWT v2 makes it: base32 without padding of the SHA-512/256 of the JSON of the
    /// standard claims alone (<c>aud, exp, iat, iss, name, nbf, sub</c>, empty ones left out), the id itself left out.
    /// nats-server does not check it; it is made the same way so the tokens are what the NATS tools would write.
    /// </summary>
    /// <param name="issuedAt">The <c>iat</c> claim, in Unix seconds.</param>
    /// <param name="issuer">The <c>iss</c> claim.</param>
    /// <param name="name">The <c>name</c> claim.</param>
    /// <param name="subject">The <c>sub</c> claim.</param>
    /// <returns>The id.</returns>
    public static string JwtId(long issuedAt, string issuer, string name, string subject)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.AsSpan().ContainsAnyExcept(NameCharacters))
        {
            throw new ArgumentException($"The name '{name}' has characters Go's JSON encoder may write differently; use letters, digits, space, '.', '_' and '-'.", nameof(name));
        }

        var claims = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(claims))
        {
            json.WriteStartObject();
            json.WriteNumber("iat", issuedAt);
            json.WriteString("iss", issuer);
            if (name.Length > 0)
            {
                json.WriteString("name", name);
            }

            json.WriteString("sub", subject);
            json.WriteEndObject();
        }

        var digest = Sha512Slash256.Hash(claims.WrittenSpan);
        var id = new char[Base32.GetEncodedLength(digest)];
        var written = Base32.ToBase32(digest, id);
        return new string(id, 0, written).TrimEnd('=');
    }

    /// <summary>
    /// Formats a <c>.creds</c> file byte for byte as the NATS tools do (jwt.FormatUserConfig): the decorated user JWT,
    /// then the decorated user seed.
    /// </summary>
    /// <param name="userJwt">The user's JWT.</param>
    /// <param name="userSeed">The user's seed (<c>SU…</c>).</param>
    /// <returns>The file's text.</returns>
    public static string FormatCreds(string userJwt, string userSeed) =>
        $"""
        -----BEGIN NATS USER JWT-----
        {userJwt}
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        {userSeed}
        ------END USER NKEY SEED------

        *************************************************************

        """.ReplaceLineEndings("\n");

    /// <summary>
    /// Writes a secret (a seed, a creds file) to a new file only its owner can read and write (0600), created with
    /// that mode so it is never readable by others, as the NATS tools leave such files.
    /// </summary>
    /// <param name="path">The file; it must not exist yet.</param>
    /// <param name="contents">The text.</param>
    /// <returns><paramref name="path"/>.</returns>
    public static string WriteSecretFile(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        file.Write(Encoding.UTF8.GetBytes(contents));
        return path;
    }

    private static string Base64Url(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);
}
