[assembly: Plexus.PlexusPlugin("version-b")]
