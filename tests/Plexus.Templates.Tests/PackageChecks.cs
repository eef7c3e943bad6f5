using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Plexus.Templates.Tests;

/// <summary>What the packages in the local feed promise an author, read from the .nupkg files themselves.</summary>
internal static class PackageChecks
{
    public const string Version = "2.7.0";

    public static void AssertFeed(string feed)
    {
        foreach (string id in new[] { "Plexus.Abstractions", "Plexus.Hosting", "Plexus.Transport.Streams", "Plexus.Transport.Conformance" })
        {
            using ZipArchive package = ZipFile.OpenRead(Path.Combine(feed, $"{id}.{Version}.nupkg"));
            XElement metadata = Metadata(package, id);
            Assert.Equal(Version, Value(metadata, "version"));
            Assert.Equal("README.md", Value(metadata, "readme"));
            Assert.NotNull(package.GetEntry($"lib/net10.0/{id}.xml"));

            // The PDB is inside the dll, and the build was deterministic.
            using var dll = new MemoryStream();
            using (Stream entry = package.GetEntry($"lib/net10.0/{id}.dll")!.Open())
            {
                entry.CopyTo(dll);
            }

            dll.Position = 0;
            using var pe = new PEReader(dll);
            IReadOnlyList<DebugDirectoryEntry> debug = pe.ReadDebugDirectory();
            Assert.Contains(debug, d => d.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
            Assert.Contains(debug, d => d.Type == DebugDirectoryEntryType.Reproducible);
        }

        // The kit names the xunit it is written against, and the core it runs transports behind.
        using ZipArchive kit = ZipFile.OpenRead(Path.Combine(feed, $"Plexus.Transport.Conformance.{Version}.nupkg"));
        var dependencies = Metadata(kit, "Plexus.Transport.Conformance").Descendants().Where(e => e.Name.LocalName == "dependency")
            .ToDictionary(e => (string)e.Attribute("id")!, e => ((string)e.Attribute("version")!, (string?)e.Attribute("exclude")));
        Assert.Equal("2.9.3", dependencies["xunit"].Item1);
        Assert.Equal(Version, dependencies["Plexus.Hosting"].Item1);
        Assert.Equal(Version, dependencies["Plexus.Abstractions"].Item1);
        // And everything else a test project needs, build assets included, so that the project needs nothing else.
        Assert.Null(dependencies["Microsoft.NET.Test.Sdk"].Item2);
        Assert.Null(dependencies["xunit.runner.visualstudio"].Item2);
        Assert.NotNull(kit.GetEntry("README.md"));

        using ZipArchive templates = ZipFile.OpenRead(Path.Combine(feed, $"Plexus.Templates.{Version}.nupkg"));
        Assert.Contains(Metadata(templates, "Plexus.Templates").Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "Template");
    }

    private static XElement Metadata(ZipArchive package, string id)
    {
        using Stream nuspec = package.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string? Value(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;
}
