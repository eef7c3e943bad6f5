namespace Plexus.Hosting.Cluster;

/// <summary>What a joining node (or the <c>cluster members</c> command) says first.</summary>
/// <param name="Version">The join protocol's version, 1.</param>
/// <param name="Purpose"><c>join</c>, or <c>members</c> to read the member table only.</param>
/// <param name="Node">The node's id.</param>
/// <param name="Nonce">32 fresh random bytes.</param>
internal sealed record JoinHello(int Version, string Purpose, string Node, byte[] Nonce);

/// <summary>The seed's answer: its own nonce and its proof that it knows the token, or a refusal.</summary>
internal sealed record JoinChallenge(byte[]? Nonce, byte[]? Proof, string? Cluster, string? Refused);

/// <summary>The node's proof, and (sealed) what it asks for; or the node's refusal of a seed whose proof was wrong.</summary>
internal sealed record JoinProof(byte[]? Proof, byte[]? Sealed, string? Refused);

/// <summary>Sealed inside <see cref="JoinProof"/>: the node's certificate request and where it is reached.</summary>
internal sealed record JoinRequest(byte[]? SigningRequest, string[] Hosts, string[] Addresses);

/// <summary>The seed's last word: sealed <see cref="JoinWelcome"/>, or a refusal.</summary>
internal sealed record JoinAnswer(byte[]? Sealed, string? Refused);

/// <summary>Sealed inside <see cref="JoinAnswer"/>: the CA, the member's certificate and the member table.</summary>
internal sealed record JoinWelcome(string? Authority, string? Certificate, ClusterMember[] Members);

/// <summary>One member as the seed's table shows it.</summary>
/// <param name="Node">Its node id.</param>
/// <param name="Addresses">Where it is reached (its request-plane addresses, as it said when it joined or last renewed).</param>
/// <param name="CertificateExpires">When its current certificate expires.</param>
/// <param name="Joined">When it joined.</param>
/// <param name="LastSeen">When the seed last heard from it.</param>
/// <param name="Seed">Whether it is the seed.</param>
internal sealed record ClusterMember(string Node, string[] Addresses, DateTimeOffset CertificateExpires, DateTimeOffset Joined, DateTimeOffset LastSeen, bool Seed);
