namespace Plexus.Test.GreeterService;

/// <summary><c>Plexus:Services:Greeter</c>.</summary>
internal sealed class GreeterOptions
{
    /// <summary>Put before the request's payload.</summary>
    public string Greeting { get; set; } = "Hello";

    /// <summary>The endpoint the greeting is sent to; its answer is the greeter's.</summary>
    public string Target { get; set; } = "demo/echo/echo";
}
