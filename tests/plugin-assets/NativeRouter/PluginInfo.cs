[assembly: Plexus.PlexusPlugin("native")]
