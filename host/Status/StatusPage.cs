namespace Plexus.Host.Status;

/// <summary>The self-contained status page (HTML, CSS and script in one file, no external assets).</summary>
internal static class StatusPage
{
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(StatusPage).Assembly.GetManifestResourceStream("Plexus.Host.Status.status.html")
            ?? throw new InvalidOperationException("The status page resource is missing from Plexus.Host.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static string Html => Page.Value;
}
