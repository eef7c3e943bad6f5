namespace Plexus.Service.Demo;

/// <summary><c>Plexus:Demo</c>: how the demo endpoints answer.</summary>
internal sealed class DemoOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Plexus:Demo";

    /// <summary>How many generated tokens follow the prompt when the request sets no <c>max-tokens</c> header.</summary>
    public int MaxTokens { get; set; } = 8;

    /// <summary>The pause before each token, to make streaming visible.</summary>
    public TimeSpan TokenDelay { get; set; } = TimeSpan.FromMilliseconds(20);
}
