using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Plexus.Hosting.Cluster;
using Plexus.Hosting.Composition;

namespace Plexus.Host.Cli;

/// <summary>
/// <c>cluster token</c>: the line that makes another node join (from this node's <c>Plexus:Cluster</c> settings or the
/// seed's state directory). <c>cluster members</c>: the seed's member table, asked for with the token (the same proof
/// as a join, so only holders of the token can read it).
/// </summary>
internal static class ClusterCommand
{
    public static async Task<int> RunAsync(IHost host, string action, bool json, TextWriter output, CancellationToken cancellationToken)
    {
        var options = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var token = Token(options);
        var address = SeedAddress(options);
        switch (action)
        {
            case "token":
                output.WriteLine($"Plexus__Cluster__Join={address} Plexus__Cluster__Token={token.ToHex()} dotnet run --project host");
                return ExitCodes.Ok;
            case "members":
                if (!ClusterAddress.TryParse(address, out var host2, out var port, out var problem))
                {
                    throw new PlexusConfigurationException($"The seed address '{address}' is not host:port: {problem}");
                }

                var seed = new SeedClient(host2, port, host.Services.GetRequiredService<ClusterIdentity>());
                JoinWelcome welcome;
                try
                {
                    (welcome, _) = await seed.JoinAsync(token, "cli-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "members", new JoinRequest(null, [], []), cancellationToken);
                }
                catch (ClusterJoinRefusedException ex)
                {
                    throw new PlexusConfigurationException(ex.Message);
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException)
                {
                    throw new PlexusConfigurationException($"The seed at {address} cannot be reached: {ex.Message}. Check Plexus:Cluster:Join (or, on the seed, Plexus:Cluster:Listen).");
                }

                Write(welcome.Members, json, output);
                return ExitCodes.Ok;
            default:
                throw new UsageException($"'cluster' takes 'token' or 'members', not '{action}'.");
        }
    }

    /// <summary>The token in configuration, else the one a seed generated into its state directory.</summary>
    private static ClusterToken Token(ClusterOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Token))
        {
            return ClusterToken.TryParse(options.Token, out var token, out var problem) ? token : throw new PlexusConfigurationException($"Plexus:Cluster:Token {problem}");
        }

        if (!string.IsNullOrWhiteSpace(options.StatePath) && new ClusterState(options.StatePath).LoadToken() is { } saved)
        {
            return saved;
        }

        throw new PlexusConfigurationException("No cluster token is known here: set Plexus:Cluster:Token, or Plexus:Cluster:StatePath to the seed's state directory (where a generated token is kept).");
    }

    /// <summary>The seed's join address: the one this node joins, or, on the seed, the one it advertises or listens on.</summary>
    private static string SeedAddress(ClusterOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.Join))
        {
            return options.Join;
        }

        if (!string.IsNullOrWhiteSpace(options.AdvertisedAddress))
        {
            return options.AdvertisedAddress;
        }

        return ClusterAddress.TryParse(options.Listen, out var host, out var port, out _) && host is "0.0.0.0" or "::"
            ? $"{System.Net.Dns.GetHostName()}:{port}"
            : options.Listen;
    }

    private static void Write(ClusterMember[] members, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(members, new JsonSerializerOptions(ClusterWire.Json) { WriteIndented = true }));
            return;
        }

        var rows = new List<Spectre.Console.Rendering.IRenderable[]>(members.Length);
        foreach (var member in members)
        {
            rows.Add(
            [
                ConsoleTable.Text(member.Node, "bold"),
                ConsoleTable.Text(member.Seed ? "seed" : "member"),
                ConsoleTable.Text(string.Join("\n", member.Addresses)),
                ConsoleTable.Text(member.CertificateExpires.ToString("u", CultureInfo.InvariantCulture)),
                ConsoleTable.Text(member.LastSeen.ToString("u", CultureInfo.InvariantCulture)),
            ]);
        }

        ConsoleTable.Write(output, ["Node", "Role", "Addresses", "Certificate expires", "Last seen"], rows);
    }
}
