namespace Plexus.Abstractions.Tests;

public sealed class BoundaryTests
{
    [Fact]
    public void This_assembly_references_no_plexus_assembly_but_the_abstractions()
    {
        var plexus = typeof(BoundaryTests).Assembly.GetReferencedAssemblies()
            .Select(name => name.Name ?? string.Empty)
            .Where(name => name.StartsWith("Plexus", StringComparison.Ordinal))
            .ToArray();

        Assert.Equal(["Plexus.Abstractions"], plexus);
    }

    [Fact]
    public void The_abstractions_reference_no_other_plexus_assembly()
    {
        var plexus = typeof(IFrameCodec).Assembly.GetReferencedAssemblies()
            .Where(name => name.Name is not null && name.Name.StartsWith("Plexus", StringComparison.Ordinal))
            .ToArray();

        Assert.Empty(plexus);
    }

    [Fact]
    public void No_host_or_plugin_assembly_was_copied_beside_the_tests()
    {
        var plexusFiles = Directory.GetFiles(AppContext.BaseDirectory, "Plexus.*.dll")
            .Select(path => Path.GetFileName(path))
            .Where(name => name != "Plexus.Abstractions.Tests.dll")
            .ToArray();

        Assert.Equal(["Plexus.Abstractions.dll"], plexusFiles);
    }
}
