using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Plexus;

var builder = Host.CreateApplicationBuilder(args);
builder.AddPlexus();

// Serve an endpoint of our own: one message, the greeting.
builder.Services.MapPlexusEndpoint("sample/greeter/hello", (request, responses) =>
    responses.WriteMessageAsync(Encoding.UTF8.GetBytes($"hello, {Encoding.UTF8.GetString(request.Payload)}"), request.RequestAborted));

using var app = builder.Build();
await app.StartAsync();

// Call an endpoint another node serves (dotnet run --project host serves demo/echo/echo).
var plexus = app.Services.GetRequiredService<IPlexusClient>();
var echoed = await plexus.CallUnaryAsync(EndpointAddress.Parse("demo/echo/echo"), "hi from the sample"u8.ToArray());
Console.WriteLine($"demo/echo/echo answered: {Encoding.UTF8.GetString(echoed)}");

await app.WaitForShutdownAsync();
