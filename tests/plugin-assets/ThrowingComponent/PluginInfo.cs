[assembly: Plexus.PlexusPlugin("throwing")]
