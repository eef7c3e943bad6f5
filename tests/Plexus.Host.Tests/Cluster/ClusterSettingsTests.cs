using Plexus.Hosting.Cluster;

namespace Plexus.Host.Tests.Cluster;

public sealed class ClusterSettingsTests
{
    private static readonly string Token = new('a', 64);

    [Theory]
    [InlineData(true, "10.0.0.1:7300", null, "a node is the seed or joins one")]
    [InlineData(false, "10.0.0.1:7300", null, "Plexus:Cluster:Token is not")]
    [InlineData(false, "no-port", "T", "Plexus:Cluster:Join is 'no-port'")]
    [InlineData(false, "10.0.0.1:7300", "abc", "Plexus:Cluster:Token has 3 characters")]
    [InlineData(false, "10.0.0.1:7300", "zz", "Plexus:Cluster:Token has 2 characters")]
    public void Bad_settings_are_refused_naming_the_key(bool seed, string? join, string? token, string expected)
    {
        var options = new ClusterOptions { Seed = seed, Join = join, Token = token == "T" ? Token : token };

        var result = new ClusterOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_that_is_not_hex_is_refused_and_a_good_one_round_trips()
    {
        Assert.False(ClusterToken.TryParse(new string('g', 64), out _, out var problem));
        Assert.Contains("is not hex", problem, StringComparison.Ordinal);
        Assert.True(ClusterToken.TryParse(Token.ToUpperInvariant(), out var token, out _));
        Assert.Equal(Token, token.ToHex());
    }

    [Fact]
    public void Proofs_differ_by_label_and_nonce_and_verify_only_their_own_inputs()
    {
        var token = ClusterToken.Generate();
        byte[] a = [1, 2, 3];
        byte[] b = [4, 5, 6];

        var proof = token.Proof("seed", a, b);

        Assert.True(token.Verify(proof, "seed", a, b));
        Assert.False(token.Verify(proof, "node", a, b));
        Assert.False(token.Verify(proof, "seed", b, a));
        Assert.False(ClusterToken.Generate().Verify(proof, "seed", a, b));

        // Length prefixes keep ([1,2],[3]) and ([1],[2,3]) apart.
        Assert.NotEqual(token.Proof("x", [1, 2], [3]), token.Proof("x", [1], [2, 3]));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void State_files_are_written_readable_by_their_owner_only()
    {
        var directory = Directory.CreateTempSubdirectory("plexus-state-");
        try
        {
            var state = new ClusterState(Path.Combine(directory.FullName, "seed"));
            using var authority = ClusterAuthority.Create("t", TimeSpan.FromDays(1), DateTimeOffset.UtcNow);
            state.SaveAuthority(authority);
            var token = ClusterToken.Generate();
            state.SaveToken(token);

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(state.Directory));
            foreach (var file in new[] { "ca.pem", "ca.key", "token" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state.Directory, file)));
            }

            Assert.Equal(token.ToHex(), state.LoadToken()!.ToHex());
            using var loaded = state.LoadAuthority()!;
            Assert.Equal(authority.Certificate.Thumbprint, loaded.Certificate.Thumbprint);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
