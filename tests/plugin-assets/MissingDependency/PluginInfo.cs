[assembly: Plexus.PlexusPlugin("missing-dependency")]
