[assembly: Plexus.PlexusPlugin("memory")]
