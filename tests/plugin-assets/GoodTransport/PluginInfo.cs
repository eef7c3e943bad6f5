[assembly: Plexus.PlexusPlugin("good")]
