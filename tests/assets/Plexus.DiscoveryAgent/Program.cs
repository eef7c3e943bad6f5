// Registers one instance with the file discovery provider and keeps it alive until told to stop.
// Usage: Plexus.DiscoveryAgent <directory> <namespace/component/endpoint> <instance-id-hex> <ttl-ms>
// Prints "ready" once registered. A line on stdin, or stdin closing, stops it gracefully (the instance is removed);
// killing it leaves the file to expire.
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Plexus;
using Plexus.Hosting.Discovery;

if (args.Length != 4)
{
    await Console.Error.WriteLineAsync("usage: Plexus.DiscoveryAgent <directory> <namespace/component/endpoint> <instance-id-hex> <ttl-ms>");
    return 2;
}

var endpoint = EndpointAddress.Parse(args[1]);
var id = InstanceId.Parse(args[2]);
var ttl = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture));

var configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?> { ["Plexus:Discovery:File:Directory"] = args[0] })
    .Build();
await using var services = new ServiceCollection().AddEmbeddedDiscovery(configuration).BuildServiceProvider(validateScopes: true);
services.GetRequiredService<IStartupValidator>().Validate();
var provider = services.GetServices<IDiscoveryProvider>().Single(p => p.Name == "file");

var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
var instance = new Instance(
    endpoint,
    id,
    "tcp",
    new Uri($"tcp://127.0.0.1:{20000 + (Environment.ProcessId % 40000)}"),
    new Dictionary<string, string> { [InstanceMetadataKeys.Node] = pid });
var lease = await provider.RegisterAsync(instance, ttl, CancellationToken.None);
Console.WriteLine("ready");

using var stop = new CancellationTokenSource();
var renewing = Task.Run(async () =>
{
    // Renew at a third of the time to live so one late tick does not lose the lease.
    using var timer = new PeriodicTimer(ttl / 3);
    try
    {
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            await lease.RenewAsync(stop.Token);
        }
    }
    catch (OperationCanceledException)
    {
    }
    catch (PlexusException ex)
    {
        await Console.Error.WriteLineAsync($"lease lost: {ex.Message}");
    }
});

await Task.Run(Console.In.ReadLine);
await stop.CancelAsync();
await renewing;
await lease.DisposeAsync();
Console.WriteLine("stopped");
return 0;
