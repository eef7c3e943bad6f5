namespace Plexus.Host.Demo;

/// <summary><c>Plexus:Demo</c>: the demo endpoints a node serves out of the box.</summary>
internal sealed class DemoOptions
{
    /// <summary>Whether the node serves <c>&lt;namespace&gt;/echo/echo</c>, <c>generate</c> and <c>relay</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The namespace of the demo endpoints, so that several nodes can serve distinct ones.</summary>
    public string Namespace { get; set; } = "demo";

    /// <summary>How many generated tokens follow the prompt when the request sets no <c>max-tokens</c> header.</summary>
    public int MaxTokens { get; set; } = 8;

    /// <summary>The pause before each token, to make streaming visible.</summary>
    public TimeSpan TokenDelay { get; set; } = TimeSpan.FromMilliseconds(20);
}
