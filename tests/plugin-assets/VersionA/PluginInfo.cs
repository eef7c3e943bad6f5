[assembly: Plexus.PlexusPlugin("version-a")]
